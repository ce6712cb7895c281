//! [`StreamClientBuilder`]: credentials, base URL, timeouts and limits.

use std::fmt;
use std::time::Duration;

use taskpoll_http::{ConfigError, HttpSettings, Secret, env_credential};

use crate::client::StreamClient;
use crate::error::StreamError;

/// Stream's production API (every server SDK's default; the task endpoint lives on the
/// chat host for every product).
pub const DEFAULT_BASE_URL: &str = "https://chat.stream-io-api.com";

/// How long one request may take by default (separate from a wait's deadline).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The environment variable [`StreamClientBuilder::from_env`] reads the API key from.
pub const API_KEY_VAR: &str = "STREAM_API_KEY";

/// The environment variable [`StreamClientBuilder::from_env`] reads the API secret from.
pub const API_SECRET_VAR: &str = "STREAM_API_SECRET";

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
///
/// With your own `reqwest::Client` (a proxy, a CA of your own, default headers) and
/// user agent; the request timeout still applies to every request:
///
/// ```
/// use taskpoll_stream::StreamClient;
///
/// let http = reqwest::Client::builder().https_only(true).build()?;
/// let client = StreamClient::builder("api-key", "api-secret")
///     .http_client(http)
///     .user_agent("billing-exports/2.1")
///     .build()?;
/// # let _ = client;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until built"]
pub struct StreamClientBuilder {
    pub(crate) api_key: Secret,
    pub(crate) api_secret: Secret,
    pub(crate) http: HttpSettings,
}

impl fmt::Debug for StreamClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamClientBuilder")
            .field("api_key", &self.api_key)
            .field("api_secret", &self.api_secret)
            .field("http", &self.http)
            .finish()
    }
}

impl StreamClientBuilder {
    pub(crate) fn new(api_key: impl Into<String>, api_secret: impl Into<String>) -> Self {
        StreamClientBuilder {
            api_key: Secret::new(api_key),
            api_secret: Secret::new(api_secret),
            http: HttpSettings::new(DEFAULT_BASE_URL, DEFAULT_REQUEST_TIMEOUT),
        }
    }

    /// A builder with the credentials in `STREAM_API_KEY` and `STREAM_API_SECRET` (the
    /// variables the `taskpoll` command reads) and every default. A variable that is not
    /// set (or empty) is [`StreamError::Config`] naming it.
    pub fn from_env() -> Result<Self, StreamError> {
        let api_key = env_credential(API_KEY_VAR)?;
        let api_secret = env_credential(API_SECRET_VAR)?;
        Ok(StreamClientBuilder {
            api_key,
            api_secret,
            http: HttpSettings::new(DEFAULT_BASE_URL, DEFAULT_REQUEST_TIMEOUT),
        })
    }

    taskpoll_http::http_settings_methods!();

    /// Checks the settings and builds the client. Nothing is sent.
    pub fn build(self) -> Result<StreamClient, StreamError> {
        if self.api_key.is_empty() {
            return Err(ConfigError::MissingCredential { name: "api_key" }.into());
        }
        if self.api_secret.is_empty() {
            return Err(ConfigError::MissingCredential { name: "api_secret" }.into());
        }
        let connection = self.http.connect(USER_AGENT)?;
        Ok(StreamClient::from_parts(self, connection))
    }
}
