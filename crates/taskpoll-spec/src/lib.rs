#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
mod config;
pub mod decode;
mod error;
mod source;
mod summary;
mod template;
mod validate;
mod values;

pub use client::{SpecClient, SpecClientBuilder};
pub use config::{DEFAULT_REQUEST_TIMEOUT, DEFAULT_VISIBILITY_GRACE, Spec};
pub use error::{LoadError, SpecError};
pub use source::{SpecFailure, SpecOutput, SpecPhase, SpecSource};
pub use taskpoll_http::Secret;
pub use values::{Pointer, parse_backoff, parse_duration, parse_rate};
