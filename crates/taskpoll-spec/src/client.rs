//! [`SpecClient`]: the HTTP client that asks a spec's API for a task's status.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::Url;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::Value;
use taskpoll::{Budget, Poller, RateLimitHint, RequestBudget, Scheduler, SchedulerCell};
use taskpoll_http::exchange::{Answer, ExchangeError, RateLimitTracker, send};
use taskpoll_http::{
    BaseUrl, ConfigError, HttpSettings, InvalidTaskId, Secret, encode_segment, header_u64,
};

use crate::config::Spec;
use crate::decode;
use crate::error::{LoadError, SpecError};
use crate::source::SpecSource;
use crate::template::{Piece, fill_body};
use crate::values::parse_reset;

/// The `User-Agent` sent.
const USER_AGENT: &str = concat!("taskpoll-spec/", env!("CARGO_PKG_VERSION"));

/// Builds a [`SpecClient`]; from [`SpecClient::builder`]. Starts from the spec: its base
/// URL, its `request.timeout`, its `poll.rate`.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until built"]
pub struct SpecClientBuilder {
    spec: Arc<Spec>,
    http: HttpSettings,
}

impl SpecClientBuilder {
    fn new(spec: Spec) -> Self {
        let base = spec
            .request
            .base_url
            .as_ref()
            .map(|(url, _)| url.clone())
            .unwrap_or_default();
        let mut http = HttpSettings::new(&base, spec.request.timeout);
        http.budget = spec.budget();
        SpecClientBuilder {
            spec: Arc::new(spec),
            http,
        }
    }

    taskpoll_http::http_settings_methods!();

    /// Checks the settings and builds the client. Nothing is sent. Redirects are never
    /// followed: a credential header would go wherever a redirect points. (A client of
    /// your own, from `http_client`, follows its own redirect policy: build it with
    /// `redirect(reqwest::redirect::Policy::none())`.)
    pub fn build(self) -> Result<SpecClient, SpecError> {
        let spec = self.spec;
        let from_spec = spec
            .request
            .base_url
            .as_ref()
            .filter(|(url, _)| *url == self.http.base_url);
        if self.http.base_url.is_empty() {
            return Err(LoadError::new(
                &spec.origin,
                Some("request.base_url"),
                "is not set: set it in the spec, or give a base URL (--base-url)",
            )
            .into());
        }
        let base = match BaseUrl::parse(&self.http.base_url, self.http.allow_http) {
            Ok(base) => base,
            Err(e) => {
                return Err(match from_spec {
                    Some((_, at)) => {
                        LoadError::new(&spec.origin, Some("request.base_url"), e.to_string())
                            .at(*at)
                            .into()
                    }
                    None => e.into(),
                });
            }
        };
        if self.http.request_timeout.is_zero() {
            return Err(ConfigError::InvalidSetting {
                setting: "request_timeout",
                reason: "it must be longer than zero",
            }
            .into());
        }
        if self.http.max_response_bytes == 0 {
            return Err(ConfigError::InvalidSetting {
                setting: "max_response_bytes",
                reason: "it must be at least one byte",
            }
            .into());
        }
        let http = self.http.client(USER_AGENT, |b| {
            b.redirect(reqwest::redirect::Policy::none())
        })?;
        let limits = self.http.budget.unwrap_or_default();
        // One budget per spec name, base URL and header values (the credential).
        let mut fingerprint = format!("{}\n{base}", spec.name);
        for h in &spec.request.headers {
            fingerprint.push('\n');
            fingerprint.push_str(&String::from_utf8_lossy(h.value.as_bytes()));
        }
        let budget = self
            .http
            .budget_for("spec", &Secret::new(fingerprint), &limits);
        Ok(SpecClient {
            inner: Arc::new(Inner {
                spec,
                http,
                base,
                request_timeout: self.http.request_timeout,
                max_response_bytes: self.http.max_response_bytes,
                rate: RateLimitTracker::new(),
                limits,
                budget,
                scheduler: SchedulerCell::new(),
            }),
        })
    }
}

/// A client of the API a [`Spec`] describes.
///
/// Cheap to clone (clones share one connection pool and one scheduler). Header values
/// taken from the environment or files never appear in `Debug`, `Display`, errors or
/// logs, and are scrubbed from every answer before it is read.
#[derive(Clone)]
pub struct SpecClient {
    inner: Arc<Inner>,
}

struct Inner {
    spec: Arc<Spec>,
    http: taskpoll_http::HttpClient,
    base: BaseUrl,
    request_timeout: Duration,
    max_response_bytes: usize,
    /// The rate-limit headers of the last answer, as a hint on tokio's clock.
    rate: RateLimitTracker,
    limits: Budget,
    budget: Arc<dyn RequestBudget>,
    scheduler: SchedulerCell<SpecSource>,
}

impl fmt::Debug for SpecClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpecClient")
            .field("spec", &self.inner.spec.name)
            .field("base_url", &self.inner.base)
            .field("headers", &self.inner.spec.request.headers)
            .field("request_timeout", &self.inner.request_timeout)
            .field("max_response_bytes", &self.inner.max_response_bytes)
            .finish()
    }
}

impl SpecClient {
    /// A builder over `spec`, starting from its settings.
    pub fn builder(spec: Spec) -> SpecClientBuilder {
        SpecClientBuilder::new(spec)
    }

    /// A client with the spec's settings as they are.
    pub fn new(spec: Spec) -> Result<SpecClient, SpecError> {
        SpecClient::builder(spec).build()
    }

    /// The spec.
    pub fn spec(&self) -> &Spec {
        &self.inner.spec
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> String {
        self.inner.base.to_string()
    }

    /// The limits every wait of the client works under.
    pub fn budget(&self) -> Budget {
        self.inner.limits
    }

    pub(crate) fn rate_limit_hint(&self) -> Option<RateLimitHint> {
        self.inner.rate.hint()
    }

    /// The URL of task `id`: the spec's URL with `{id}` percent-encoded as one path
    /// segment (every byte outside `A-Z a-z 0-9 - . _ ~`), so no id changes the path or
    /// the query. Empty ids, `.` and `..` are refused.
    pub fn url(&self, id: &str) -> Result<Url, InvalidTaskId> {
        InvalidTaskId::check(id)?;
        let refuse = |reason| InvalidTaskId {
            id: id.to_owned(),
            reason,
        };
        let mut text = self.inner.base.to_string();
        for piece in &self.inner.spec.request.path {
            match piece {
                Piece::Text(t) => text.push_str(t),
                Piece::Id => text.push_str(&encode_segment(id)),
                // Refused when the spec was checked.
                Piece::BaseUrl | Piece::Env(_) | Piece::File(_) => {}
            }
        }
        let url = Url::parse(&text).map_err(|_| refuse("it does not make a valid URL"))?;
        let base = self.inner.base.as_url();
        if url.host() != base.host() || url.port_or_known_default() != base.port_or_known_default()
        {
            return Err(refuse("it does not stay on the base URL's host"));
        }
        Ok(url)
    }

    /// The [`TaskSource`](taskpoll::TaskSource) over this client.
    pub fn source(&self) -> SpecSource {
        SpecSource::new(self.clone())
    }

    /// The scheduler every wait made from this client and its clones goes through: one
    /// request budget (and one pause after a 429) for all of them.
    pub fn scheduler(&self) -> Scheduler<SpecSource> {
        self.inner.scheduler.get_or_init(|| {
            Scheduler::builder(self.source())
                .budget(self.inner.limits)
                .request_budget(Arc::clone(&self.inner.budget))
                .build()
        })
    }

    /// A poller with the spec's poll settings on the client's
    /// [`scheduler`](SpecClient::scheduler). Change them with [`Poller::configure`].
    pub fn poller(&self) -> Poller<SpecSource> {
        self.scheduler().poller()
    }

    /// Fetches a task's status once (no retry): the answer's JSON body, or an error
    /// classified by the spec.
    pub async fn get(&self, id: &str) -> Result<Value, SpecError> {
        let inner = &*self.inner;
        let spec = &*inner.spec;
        let url = self.url(id)?;
        let mut request = inner.http.request(spec.request.method.clone(), url);
        if !spec.request.headers.iter().any(|h| h.name == ACCEPT) {
            request = request.header(ACCEPT, "application/json");
        }
        for h in &spec.request.headers {
            request = request.header(h.name.clone(), h.value.clone());
        }
        if let Some(template) = &spec.request.body {
            let body = serde_json::to_vec(&fill_body(template, id)).unwrap_or_default();
            if !spec.request.headers.iter().any(|h| h.name == CONTENT_TYPE) {
                request = request.header(CONTENT_TYPE, "application/json");
            }
            request = request.body(body);
        }
        let answer = send(request, inner.max_response_bytes)
            .await
            .map_err(|e| match e {
                ExchangeError::Transport(source) => {
                    tracing::debug!(api = spec.name.as_str(), error = %source, "request failed");
                    SpecError::Transport { source }
                }
                ExchangeError::TooLarge { status, cap } => SpecError::BodyTooLarge { status, cap },
            })?;
        // An error answer too large to read is still its status (its body left empty).
        let secrets: Vec<&Secret> = spec.secrets.iter().collect();
        let answer = answer.redact(&secrets);
        tracing::debug!(
            api = spec.name.as_str(),
            status = answer.code(),
            elapsed_ms = u64::try_from(answer.elapsed.as_millis()).unwrap_or(u64::MAX),
            "answered"
        );
        self.track_rate(&answer);
        decode::answer(spec, answer.code(), &answer.headers, &answer.body)
    }

    /// Remembers the spec's rate-limit headers of an answer, when it sent both.
    fn track_rate(&self, answer: &Answer) {
        let rules = &self.inner.spec.http;
        let (Some(remaining), Some(reset)) = (&rules.remaining, &rules.reset) else {
            return;
        };
        let Some(left) = header_u64(&answer.headers, remaining.as_str()) else {
            return;
        };
        // On a 429, `Retry-After` says when to come back; otherwise the window's reset.
        let until_reset = answer
            .headers
            .get(reset)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_reset(v, SystemTime::now()));
        self.inner.rate.record(answer, (), left, until_reset);
    }
}
