//! [`ConfigError`]: a client's configuration mistakes, found before any request.

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
