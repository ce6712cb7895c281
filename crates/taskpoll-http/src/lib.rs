#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use url::Url;

mod budget;
pub mod jwt;

pub use budget::{shared_budget, spend};
/// The `reqwest` this crate is built on (its `Client` is what
/// [`http_client`](HttpSettings::http_client) takes).
pub use reqwest;

/// The default cap on a response body: 16 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// A credential (API key, secret, token). `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The credential itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `bytes` with every occurrence of the credential replaced by `***` (a server that
    /// echoes a key must not make it reach an error or a log). Credentials shorter than
    /// 4 bytes are left alone: they would match ordinary text.
    pub fn redact_in(&self, bytes: Vec<u8>) -> Vec<u8> {
        let needle = self.0.as_bytes();
        if needle.len() < 4 || !bytes.windows(needle.len()).any(|w| w == needle) {
            return bytes;
        }
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes.get(i..i + needle.len()) == Some(needle) {
                out.extend_from_slice(b"***");
                i += needle.len();
            } else if let Some(b) = bytes.get(i) {
                out.push(*b);
                i += 1;
            }
        }
        out
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

/// A configuration mistake found before any request is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The base URL does not parse.
    #[error("invalid base URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The URL given.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// Plain HTTP to a host that is not loopback.
    #[error(
        "refusing plain HTTP to {host}: credentials would cross the network unencrypted; use https, or allow plain HTTP explicitly"
    )]
    InsecureHttp {
        /// The host.
        host: String,
    },
    /// A credential is empty.
    #[error("{name} is empty")]
    MissingCredential {
        /// Which credential.
        name: &'static str,
    },
    /// An environment variable a client reads its credential from (`from_env`) is not
    /// set, is empty or is not UTF-8.
    #[error("{name} is not set: export it, or build the client with its credentials")]
    MissingVariable {
        /// The variable.
        name: &'static str,
    },
    /// The HTTP client could not be built.
    #[error("could not build the HTTP client: {0}")]
    Client(String),
    /// A setting is out of range.
    #[error("invalid {setting}: {reason}")]
    InvalidSetting {
        /// Which setting.
        setting: &'static str,
        /// Why.
        reason: &'static str,
    },
}

/// A task id that cannot be sent as one path segment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid task id {id:?}: {reason}")]
pub struct InvalidTaskId {
    /// The id.
    pub id: String,
    /// Why.
    pub reason: &'static str,
}

/// A vendor base URL: `https`, or `http` to a loopback host (or anywhere when the
/// user allowed plain HTTP explicitly). No trailing slash.
#[derive(Clone, PartialEq, Eq)]
pub struct BaseUrl(Url);

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({})", self.0)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str().trim_end_matches('/'))
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

impl BaseUrl {
    /// Checks and normalises a base URL. Plain `http` is accepted for loopback hosts
    /// (the simulators) or when `allow_http` is set.
    pub fn parse(url: &str, allow_http: bool) -> Result<Self, ConfigError> {
        let invalid = |reason: String| ConfigError::InvalidBaseUrl {
            url: url.to_owned(),
            reason,
        };
        let parsed = Url::parse(url.trim_end_matches('/')).map_err(|e| invalid(e.to_string()))?;
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(invalid("it must not have a query or fragment".into()));
        }
        if parsed.cannot_be_a_base() || parsed.host().is_none() {
            return Err(invalid("it needs a host".into()));
        }
        match parsed.scheme() {
            "https" => {}
            "http" if allow_http || is_loopback(&parsed) => {}
            "http" => {
                return Err(ConfigError::InsecureHttp {
                    host: parsed.host_str().unwrap_or_default().to_owned(),
                });
            }
            other => return Err(invalid(format!("unsupported scheme {other:?}"))),
        }
        Ok(BaseUrl(parsed))
    }

    /// The URL of a fixed path below the base (`path` without a leading slash, made of
    /// literal segments such as `"v1/tasks"`).
    pub fn join(&self, path: &str) -> Url {
        let mut url = self.0.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}/{}", path.trim_start_matches('/')));
        url
    }

    /// The URL of `path` followed by `id` as exactly one percent-encoded path segment:
    /// `/`, `?`, `#`, `%` and every other byte outside the unreserved set are encoded,
    /// so no id can change the request's path or query. Empty ids, `.` and `..` are
    /// refused (URL parsers resolve them as relative segments).
    pub fn join_id(&self, path: &str, id: &str) -> Result<Url, InvalidTaskId> {
        let refuse = |reason| InvalidTaskId {
            id: id.to_owned(),
            reason,
        };
        if id.is_empty() {
            return Err(refuse("it is empty"));
        }
        if id == "." || id == ".." {
            return Err(refuse("it is a relative path segment"));
        }
        let mut url = self.join(path);
        let joined = format!(
            "{}/{}",
            url.path().trim_end_matches('/'),
            encode_segment(id)
        );
        url.set_path(&joined);
        // Defensive: the encoded segment must have survived parsing unchanged.
        if !url.path().ends_with(&encode_segment(id)) {
            return Err(refuse("it does not survive as one path segment"));
        }
        Ok(url)
    }

    /// The underlying URL.
    pub fn as_url(&self) -> &Url {
        &self.0
    }
}

/// Percent-encodes every byte outside RFC 3986's unreserved set (`A-Z a-z 0-9 - . _ ~`).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The delay a response asks for in `Retry-After`: whole seconds or an HTTP date (a
/// past date is zero). With a comma-separated value the first non-empty item counts.
/// `None` when absent or unparsable.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(raw, now)
}

/// Parses a `Retry-After` value (see [`retry_after`]).
pub fn parse_retry_after(raw: &str, now: SystemTime) -> Option<Duration> {
    let raw = raw.trim();
    // An HTTP date has commas of its own ("Thu, 01 Jan 2026 ..."): try it whole first.
    if let Ok(at) = httpdate::parse_http_date(raw) {
        return Some(at.duration_since(now).unwrap_or(Duration::ZERO));
    }
    let first = raw.split(',').map(str::trim).find(|s| !s.is_empty())?;
    first.parse::<u64>().ok().map(Duration::from_secs)
}

/// The first non-empty item of a possibly comma-separated header, as an integer.
pub fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    let raw = headers.get(name)?.to_str().ok()?;
    raw.split(',')
        .map(str::trim)
        .find(|s| !s.is_empty())?
        .parse()
        .ok()
}

/// A transport failure, with the request URL removed (it may carry credentials).
/// `Clone`, so that one failed batched request can be reported to every wait in it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct Transport {
    /// What kind of failure.
    pub kind: TransportKind,
    message: String,
}

/// The kind of a [`Transport`] failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// The per-request timeout passed.
    Timeout,
    /// No connection could be made.
    Connect,
    /// The connection broke while sending the request or reading the response.
    Broken,
    /// The request could not be built (a bug or bad input: not worth retrying).
    Request,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Timeout => "request timed out",
            TransportKind::Connect => "could not connect",
            TransportKind::Broken => "connection failed",
            TransportKind::Request => "could not build the request",
        })
    }
}

impl Transport {
    /// Whether retrying may help.
    pub fn is_transient(&self) -> bool {
        !matches!(self.kind, TransportKind::Request)
    }
}

impl From<reqwest::Error> for Transport {
    fn from(e: reqwest::Error) -> Self {
        let kind = if e.is_timeout() {
            TransportKind::Timeout
        } else if e.is_connect() {
            TransportKind::Connect
        } else if e.is_builder() {
            TransportKind::Request
        } else {
            TransportKind::Broken
        };
        let e = e.without_url();
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        Transport { kind, message }
    }
}

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// It is larger than the cap.
    #[error(
        "response body larger than the {cap}-byte cap (raise the adapter's max response size if this is expected)"
    )]
    TooLarge {
        /// The cap.
        cap: usize,
    },
    /// The connection failed while reading it.
    #[error(transparent)]
    Transport(#[from] Transport),
}

/// Reads a response body, refusing it as soon as it passes `cap` bytes (at once when
/// `Content-Length` says so).
pub async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|len| len > u64::try_from(cap).unwrap_or(u64::MAX))
    {
        return Err(BodyError::TooLarge { cap });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Transport::from)? {
        if body.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge { cap });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A short, printable excerpt of a body for error messages (at most 200 characters).
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    let mut out: String = trimmed.chars().take(200).collect();
    if trimmed.chars().count() > 200 {
        out.push('…');
    }
    out
}

/// The HTTP settings every adapter's client builder has: base URL, whether plain HTTP
/// off loopback is allowed, the per-request timeout, the response size cap, the user
/// agent, your own `reqwest::Client` if you bring one, and the request budget. A
/// builder holds one in a field named `http` and gets its setters from
/// [`http_settings_methods!`].
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

/// A credential from the environment variable `name`, as the `taskpoll` command reads
/// it: [`ConfigError::MissingVariable`] naming the variable when it is not set, empty or
/// not UTF-8. What the adapters' `from_env` constructors are made of.
pub fn env_credential(name: &'static str) -> Result<Secret, ConfigError> {
    credential_from(name, |n| std::env::var(n).ok())
}

/// [`env_credential`] with the environment given as a function (for tests, or a
/// configuration system of your own).
pub fn credential_from(
    name: &'static str,
    lookup: impl FnOnce(&str) -> Option<String>,
) -> Result<Secret, ConfigError> {
    match lookup(name) {
        Some(value) if !value.is_empty() => Ok(Secret::new(value)),
        _ => Err(ConfigError::MissingVariable { name }),
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

    fn base() -> BaseUrl {
        BaseUrl::parse("http://127.0.0.1:8080/", false).unwrap()
    }

    #[test]
    fn ids_stay_one_segment() {
        let cases = [
            ("6a1c0f7e-3b52", "/v1/tasks/6a1c0f7e-3b52"),
            ("../subscriptions", "/v1/tasks/..%2Fsubscriptions"),
            ("a/b?c=d", "/v1/tasks/a%2Fb%3Fc%3Dd"),
            ("%2e%2e", "/v1/tasks/%252e%252e"),
            ("a b#c", "/v1/tasks/a%20b%23c"),
            ("...", "/v1/tasks/..."),
        ];
        for (id, path) in cases {
            let url = base().join_id("v1/tasks", id).unwrap();
            assert_eq!(url.path(), path, "id {id:?}");
            assert_eq!(url.query(), None, "id {id:?}");
        }
    }

    #[test]
    fn relative_and_empty_ids_are_refused() {
        for id in ["", ".", ".."] {
            assert!(base().join_id("v1/tasks", id).is_err(), "id {id:?}");
        }
    }

    #[test]
    fn https_is_required_off_loopback() {
        assert!(BaseUrl::parse("https://api.example.com", false).is_ok());
        assert!(BaseUrl::parse("http://localhost:1", false).is_ok());
        assert!(BaseUrl::parse("http://[::1]:1", false).is_ok());
        assert!(BaseUrl::parse("http://127.8.0.1:1", false).is_ok());
        assert!(matches!(
            BaseUrl::parse("http://api.example.com", false),
            Err(ConfigError::InsecureHttp { .. })
        ));
        assert!(BaseUrl::parse("http://api.example.com", true).is_ok());
        assert!(BaseUrl::parse("ftp://x", true).is_err());
        assert!(BaseUrl::parse("https://x/?a=b", true).is_err());
    }

    #[test]
    fn base_path_is_kept() {
        let b = BaseUrl::parse("https://api.redislabs.com/v1/", false).unwrap();
        assert_eq!(
            b.join("tasks").as_str(),
            "https://api.redislabs.com/v1/tasks"
        );
        assert_eq!(b.to_string(), "https://api.redislabs.com/v1");
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after(" , 7, 9", now),
            Some(Duration::from_secs(7))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn secrets_are_redacted_from_bodies() {
        let key = Secret::new("rw-key-123");
        let body =
            br#"{"errors":[{"message":"key rw-key-123 is not valid; rw-key-123"}]}"#.to_vec();
        let clean = String::from_utf8(key.redact_in(body)).unwrap();
        assert_eq!(
            clean,
            r#"{"errors":[{"message":"key *** is not valid; ***"}]}"#
        );
        assert_eq!(Secret::new("ab").redact_in(b"abab".to_vec()), b"abab");
    }

    #[test]
    fn credentials_come_from_the_named_variable() {
        let env = |name: &str| (name == "RUNWARE_API_KEY").then(|| "rw-123".to_owned());
        let key = credential_from("RUNWARE_API_KEY", env).unwrap();
        assert_eq!(key.expose(), "rw-123");
        let missing = credential_from("STREAM_API_KEY", env).unwrap_err();
        assert_eq!(
            missing,
            ConfigError::MissingVariable {
                name: "STREAM_API_KEY"
            }
        );
        assert!(missing.to_string().starts_with("STREAM_API_KEY is not set"));
        let empty = credential_from("X", |_| Some(String::new())).unwrap_err();
        assert_eq!(empty, ConfigError::MissingVariable { name: "X" });
    }

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

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
    }
}
