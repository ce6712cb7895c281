#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod batch;
mod client;
mod config;
pub mod decode;
mod error;
pub mod models;
mod request;
mod source;
mod task;

pub use client::RunwareClient;
pub use config::{
    API_KEY_VAR, DEFAULT_BASE_URL, DEFAULT_BATCH_FALLBACK, DEFAULT_MAX_BATCH,
    DEFAULT_REQUEST_TIMEOUT, DEFAULT_VISIBILITY_GRACE, RunwareClientBuilder,
};
pub use error::{ApiError, RunwareError};
pub use models::{DataItem, Envelope, ErrorItem, ItemState, Parameter};
pub use request::{ImageInference, VideoInference};
pub use source::{
    IMAGE_INITIAL_DELAY, RunwareFailure, RunwareOutput, RunwarePhase, RunwareResult, RunwareSource,
    VIDEO_INITIAL_DELAY,
};
pub use task::{RunwareStatus, RunwareTaskId, TaskKind};

/// The former name of [`decode`]: reading Runware's answers.
pub use decode as answer;
