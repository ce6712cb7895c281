//! [`StreamClientBuilder`]: credentials, base URL, timeouts and limits.

use std::fmt;
use std::time::Duration;

use taskpoll_http::{BaseUrl, ConfigError, DEFAULT_MAX_RESPONSE_BYTES, Secret};

use crate::client::StreamClient;
use crate::error::StreamError;

/// Stream's production API (every server SDK's default; the task endpoint lives on the
/// chat host for every product).
pub const DEFAULT_BASE_URL: &str = "https://chat.stream-io-api.com";

/// How long one request may take by default (separate from a wait's deadline).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The `User-Agent` sent.
pub(crate) const USER_AGENT: &str = concat!("taskpoll-stream/", env!("CARGO_PKG_VERSION"));

/// The `X-Stream-Client` header sent (Stream's SDKs send `<sdk>-<version>`).
pub(crate) const STREAM_CLIENT: &str = concat!("taskpoll-stream-", env!("CARGO_PKG_VERSION"));

/// Builds a [`StreamClient`]; from [`StreamClient::builder`].
///
/// ```
/// use std::time::Duration;
/// use taskpoll_stream::StreamClient;
///
/// let client = StreamClient::builder("api-key", "api-secret")
///     .request_timeout(Duration::from_secs(5))
///     .max_response_bytes(1 << 20)
///     .build()?;
/// assert_eq!(client.base_url(), "https://chat.stream-io-api.com");
/// # Ok::<(), taskpoll_stream::StreamError>(())
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until built"]
pub struct StreamClientBuilder {
    pub(crate) api_key: Secret,
    pub(crate) api_secret: Secret,
    pub(crate) base_url: String,
    pub(crate) allow_http: bool,
    pub(crate) request_timeout: Duration,
    pub(crate) max_response_bytes: usize,
}

impl fmt::Debug for StreamClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamClientBuilder")
            .field("api_key", &self.api_key)
            .field("api_secret", &self.api_secret)
            .field("base_url", &self.base_url)
            .field("allow_http", &self.allow_http)
            .field("request_timeout", &self.request_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

impl StreamClientBuilder {
    pub(crate) fn new(api_key: impl Into<String>, api_secret: impl Into<String>) -> Self {
        StreamClientBuilder {
            api_key: Secret::new(api_key),
            api_secret: Secret::new(api_secret),
            base_url: DEFAULT_BASE_URL.to_owned(),
            allow_http: false,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// Sets the base URL (default [`DEFAULT_BASE_URL`]); `https`, or `http` to a
    /// loopback host such as the simulator.
    pub fn base_url(mut self, url: &str) -> Self {
        self.base_url = url.to_owned();
        self
    }

    /// Allows plain `http` to hosts that are not loopback (credentials then cross the
    /// network unencrypted). Off by default.
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Sets how long one request may take (default [`DEFAULT_REQUEST_TIMEOUT`]). A
    /// request that takes longer fails with a transient error; the wait's own deadline
    /// is set on the poller.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the largest response body read (default 16 MiB); larger ones are refused
    /// without being read whole.
    pub fn max_response_bytes(mut self, cap: usize) -> Self {
        self.max_response_bytes = cap;
        self
    }

    /// Checks the settings and builds the client. Nothing is sent.
    pub fn build(self) -> Result<StreamClient, StreamError> {
        if self.api_key.is_empty() {
            return Err(ConfigError::MissingCredential { name: "api_key" }.into());
        }
        if self.api_secret.is_empty() {
            return Err(ConfigError::MissingCredential { name: "api_secret" }.into());
        }
        if self.request_timeout.is_zero() {
            return Err(StreamError::InvalidSetting {
                setting: "request_timeout",
                reason: "it must be longer than zero",
            });
        }
        if self.max_response_bytes == 0 {
            return Err(StreamError::InvalidSetting {
                setting: "max_response_bytes",
                reason: "it must be at least one byte",
            });
        }
        let base = BaseUrl::parse(&self.base_url, self.allow_http)?;
        let http = taskpoll_http::client(self.request_timeout, USER_AGENT)?;
        Ok(StreamClient::from_parts(self, base, http))
    }
}
