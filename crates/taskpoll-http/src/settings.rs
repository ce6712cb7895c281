//! [`HttpSettings`]: the settings every adapter's client builder has, the client they
//! build ([`HttpClient`], [`Connection`]), and the builder setters
//! ([`http_settings_methods!`](crate::http_settings_methods)).

use std::fmt;
use std::time::Duration;

use crate::{BaseUrl, ConfigError, DEFAULT_MAX_RESPONSE_BYTES, Secret, Transport, shared_budget};

/// The HTTP settings every adapter's client builder has: base URL, whether plain HTTP
/// off loopback is allowed, the per-request timeout, the response size cap, the user
/// agent, your own `reqwest::Client` if you bring one, and the request budget. A
/// builder holds one in a field named `http` and gets its setters from
/// [`http_settings_methods!`](crate::http_settings_methods).
#[derive(Clone)]
#[non_exhaustive]
pub struct HttpSettings {
    /// The vendor API's base URL.
    pub base_url: String,
    /// Allow plain `http` to hosts that are not loopback.
    pub allow_http: bool,
    /// How long one request may take (separate from a wait's deadline).
    pub request_timeout: Duration,
    /// The largest response body read.
    pub max_response_bytes: usize,
    /// The request budget of the client's waits; `None` for the vendor's default.
    pub budget: Option<taskpoll::Budget>,
    /// A request budget the client draws its request rate from instead of the
    /// in-process one (a fleet's budget kept in Redis); `None` for the in-process one.
    pub request_budget: Option<std::sync::Arc<dyn taskpoll::RequestBudget>>,
    /// The `User-Agent` sent; `None` for the adapter's own (`taskpoll-<vendor>/<version>`),
    /// or, with [`http_client`](HttpSettings::http_client), whatever that client sends.
    pub user_agent: Option<String>,
    /// A client of your own to send every request with (its proxies, TLS roots, default
    /// headers, connection pool); `None` to build one (rustls with the platform's trust
    /// roots).
    pub http_client: Option<reqwest::Client>,
}

impl fmt::Debug for HttpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A client's own Debug lists its default headers, which may hold a credential.
        f.debug_struct("HttpSettings")
            .field("base_url", &self.base_url)
            .field("allow_http", &self.allow_http)
            .field("request_timeout", &self.request_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("budget", &self.budget)
            .field(
                "request_budget",
                &self.request_budget.as_ref().map(|_| ".."),
            )
            .field("user_agent", &self.user_agent)
            .field(
                "http_client",
                &self.http_client.as_ref().map(|_| "reqwest::Client"),
            )
            .finish()
    }
}

/// The client an adapter sends its requests with: a `reqwest::Client` (built by
/// [`HttpSettings::connect`], or your own from
/// [`http_client`](HttpSettings::http_client)) that applies the request timeout, and a
/// user agent set with [`user_agent`](HttpSettings::user_agent), to every request.
/// Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    timeout: Duration,
    user_agent: Option<reqwest::header::HeaderValue>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A request, with the timeout (and the user agent, if one was set for your own
    /// client) applied.
    pub fn request<U: reqwest::IntoUrl>(
        &self,
        method: reqwest::Method,
        url: U,
    ) -> reqwest::RequestBuilder {
        let request = self.client.request(method, url).timeout(self.timeout);
        match &self.user_agent {
            Some(agent) => request.header(reqwest::header::USER_AGENT, agent.clone()),
            None => request,
        }
    }

    /// A `GET` request (see [`request`](HttpClient::request)).
    pub fn get<U: reqwest::IntoUrl>(&self, url: U) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::GET, url)
    }

    /// A `POST` request (see [`request`](HttpClient::request)).
    pub fn post<U: reqwest::IntoUrl>(&self, url: U) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::POST, url)
    }

    /// The `reqwest::Client` underneath.
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.client
    }
}

/// What [`HttpSettings::connect`] gives: a checked base URL, a client, the size cap.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Connection {
    /// The base URL.
    pub base: BaseUrl,
    /// The HTTP client (connections are reused across requests).
    pub client: HttpClient,
    /// How long one request may take.
    pub request_timeout: Duration,
    /// The largest response body read.
    pub max_response_bytes: usize,
}

impl HttpSettings {
    /// The defaults: `base_url`, HTTPS only, `request_timeout`, a 16 MiB cap.
    pub fn new(base_url: &str, request_timeout: Duration) -> Self {
        HttpSettings {
            base_url: base_url.to_owned(),
            allow_http: false,
            request_timeout,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            budget: None,
            request_budget: None,
            user_agent: None,
            http_client: None,
        }
    }

    /// The request budget a client of `vendor` with `credential` draws from: the one
    /// plugged in with `request_budget`, else the process's [`shared_budget`] for
    /// `limits`.
    pub fn budget_for(
        &self,
        vendor: &'static str,
        credential: &Secret,
        limits: &taskpoll::Budget,
    ) -> std::sync::Arc<dyn taskpoll::RequestBudget> {
        match &self.request_budget {
            Some(budget) => std::sync::Arc::clone(budget),
            None => shared_budget(vendor, credential, limits),
        }
    }

    /// Checks the settings and builds the client (see [`client`](HttpSettings::client)).
    /// Nothing is sent.
    pub fn connect(&self, default_user_agent: &str) -> Result<Connection, ConfigError> {
        if self.request_timeout.is_zero() {
            return Err(ConfigError::InvalidSetting {
                setting: "request_timeout",
                reason: "it must be longer than zero",
            });
        }
        if self.max_response_bytes == 0 {
            return Err(ConfigError::InvalidSetting {
                setting: "max_response_bytes",
                reason: "it must be at least one byte",
            });
        }
        Ok(Connection {
            base: BaseUrl::parse(&self.base_url, self.allow_http)?,
            client: self.client(default_user_agent, |b| b)?,
            request_timeout: self.request_timeout,
            max_response_bytes: self.max_response_bytes,
        })
    }

    /// The client requests go through: your own
    /// [`http_client`](HttpSettings::http_client) as it is, or one built like
    /// [`client`](crate::client()) and then passed through `configure` (an adapter's
    /// extra settings, such as not following redirects). The user agent is
    /// [`user_agent`](HttpSettings::user_agent), else `default_user_agent` for a client
    /// built here (your own client keeps its own). The request timeout applies to every
    /// request either way.
    pub fn client(
        &self,
        default_user_agent: &str,
        configure: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
    ) -> Result<HttpClient, ConfigError> {
        let agent = match &self.user_agent {
            Some(agent) => Some(reqwest::header::HeaderValue::from_str(agent).map_err(|_| {
                ConfigError::InvalidSetting {
                    setting: "user_agent",
                    reason: "it is not a valid HTTP header value (control characters?)",
                }
            })?),
            None => None,
        };
        Ok(match &self.http_client {
            Some(client) => HttpClient {
                client: client.clone(),
                timeout: self.request_timeout,
                user_agent: agent,
            },
            None => {
                let builder = client_builder(self.request_timeout).user_agent(match agent {
                    Some(agent) => agent,
                    None => reqwest::header::HeaderValue::from_str(default_user_agent).map_err(
                        |_| ConfigError::InvalidSetting {
                            setting: "user_agent",
                            reason: "it is not a valid HTTP header value (control characters?)",
                        },
                    )?,
                });
                HttpClient {
                    client: configure(builder)
                        .build()
                        .map_err(|e| ConfigError::Client(Transport::from(e).to_string()))?,
                    timeout: self.request_timeout,
                    user_agent: None,
                }
            }
        })
    }
}

/// The setters of [`HttpSettings`] for a client builder whose settings are in a field
/// named `http`: `base_url`, `allow_http`, `request_timeout`, `max_response_bytes`,
/// `user_agent`, `http_client`, `budget`, `request_budget`. The crate using it depends
/// on `taskpoll`.
#[macro_export]
macro_rules! http_settings_methods {
    () => {
        /// Sets the base URL (default: the vendor's production API); `https`, or `http`
        /// to a loopback host such as the simulator.
        pub fn base_url(mut self, url: &str) -> Self {
            url.clone_into(&mut self.http.base_url);
            self
        }

        /// Allows plain `http` to hosts that are not loopback (credentials then cross
        /// the network unencrypted). Off by default.
        pub fn allow_http(mut self, allow: bool) -> Self {
            self.http.allow_http = allow;
            self
        }

        /// Sets how long one request may take. A request that takes longer fails with a
        /// transient error; the wait's own deadline is set on the poller.
        pub fn request_timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.http.request_timeout = timeout;
            self
        }

        /// Sets the largest response body read (default 16 MiB); larger ones are
        /// refused without being read whole.
        pub fn max_response_bytes(mut self, cap: usize) -> Self {
            self.http.max_response_bytes = cap;
            self
        }

        /// Sets the `User-Agent` sent with every request (default:
        /// `taskpoll-<vendor>/<version>`, or with [`http_client`](Self::http_client)
        /// whatever that client sends).
        pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
            self.http.user_agent = Some(user_agent.into());
            self
        }

        /// Sends every request with `client`, your own `reqwest::Client`: its proxies,
        /// TLS roots and client certificates, default headers and connection pool. The
        /// request timeout (and a [`user_agent`](Self::user_agent) set here) still
        /// apply to every request. Without it, the client is built here: rustls, with
        /// the platform's trust roots (a CA installed on the machine is trusted).
        pub fn http_client(mut self, client: $crate::reqwest::Client) -> Self {
            self.http.http_client = Some(client);
            self
        }

        /// Sets the request budget every wait made from the client (and its clones)
        /// draws from: requests per window, requests in flight, the pause after a bare
        /// 429. Clients on the same credential and limit share one budget in a process.
        /// Default: the vendor's documented limit with headroom.
        pub fn budget(mut self, budget: ::taskpoll::Budget) -> Self {
            self.http.budget = Some(budget);
            self
        }

        /// Draws the request rate from `budget` instead of the process's own budget
        /// for the credential: a budget shared with other processes (a fleet's, kept in
        /// Redis) or with clients of other credentials. The limits set with `budget`
        /// still give the requests in flight and the pause after a bare 429.
        pub fn request_budget(
            mut self,
            budget: ::std::sync::Arc<dyn ::taskpoll::RequestBudget>,
        ) -> Self {
            self.http.request_budget = Some(budget);
            self
        }
    };
}

/// The HTTP client adapters build: rustls verifying servers with the platform's trust
/// roots (rustls-platform-verifier: the system store, so a corporate CA installed on the
/// machine is trusted), connections kept and reused across polls, the given per-request
/// timeout and user agent.
pub fn client(request_timeout: Duration, user_agent: &str) -> Result<reqwest::Client, ConfigError> {
    client_builder(request_timeout)
        .user_agent(user_agent)
        .build()
        .map_err(|e| ConfigError::Client(Transport::from(e).to_string()))
}

fn client_builder(request_timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(request_timeout)
        .connect_timeout(request_timeout.min(Duration::from_secs(10)))
        .pool_idle_timeout(Duration::from_secs(90))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_user_agent_is_a_setting_error() {
        let mut settings = HttpSettings::new("https://api.example.com", Duration::from_secs(5));
        settings.user_agent = Some("bad\nagent".into());
        assert!(matches!(
            settings.connect("taskpoll-test/0"),
            Err(ConfigError::InvalidSetting {
                setting: "user_agent",
                ..
            })
        ));
    }

    #[test]
    fn settings_debug_hides_the_clients_headers() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-token",
            reqwest::header::HeaderValue::from_static("tok-9f8e"),
        );
        let mut settings = HttpSettings::new("https://api.example.com", Duration::from_secs(5));
        settings.http_client = Some(
            reqwest::Client::builder()
                .default_headers(headers)
                .build()
                .unwrap(),
        );
        assert!(!format!("{settings:?}").contains("tok-9f8e"));
        let c = settings.connect("taskpoll-test/0").unwrap();
        assert!(!format!("{c:?}").contains("tok-9f8e"));
    }
}
