#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod base_url;
mod body;
mod budget;
mod error;
pub mod exchange;
pub mod jwt;
pub mod lenient;
mod retry_after;
mod secret;
mod settings;
pub mod timestamp;
mod transport;

pub use base_url::{BaseUrl, InvalidTaskId, encode_segment};
pub use body::{BodyError, DEFAULT_MAX_RESPONSE_BYTES, excerpt, read_capped};
pub use budget::{shared_budget, spend};
pub use error::ConfigError;
/// The `reqwest` this crate is built on (its `Client` is what
/// [`http_client`](HttpSettings::http_client) takes).
pub use reqwest;
pub use retry_after::{header_u64, parse_retry_after, retry_after};
pub use secret::{Secret, credential_from, env_credential};
pub use settings::{Connection, HttpClient, HttpSettings, client};
pub use transport::{Transport, TransportKind};

/// `docs/writing-an-adapter.md`, whose skeleton adapter compiles as a doctest here.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/writing-an-adapter.md")]
struct WritingAnAdapter;
