#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod auth;
mod client;
mod config;
mod decode;
mod error;
pub mod models;
mod source;

pub use client::StreamClient;
pub use config::{
    API_KEY_VAR, API_SECRET_VAR, DEFAULT_BASE_URL, DEFAULT_REQUEST_TIMEOUT, StreamClientBuilder,
};
pub use error::{ApiFailure, RateLimit, StreamError};
pub use models::{
    ApiError, ChannelRef, ErrorResult, ItemResult, ItemResults, StartResponse, Started,
    TaskResponse, Timestamp,
};
pub use source::{
    DEFAULT_POLL_INTERVAL, DEFAULT_WAIT_TIMEOUT, ITEMS_FAILED, ItemsFailed, StreamFailure,
    StreamOutput, StreamSource, StreamTaskFailure,
};
pub use taskpoll_http::DEFAULT_MAX_RESPONSE_BYTES;

/// Why a wait on a Stream task ended without its output.
pub type StreamWaitError = taskpoll::WaitError<StreamFailure, StreamError>;
