//! taskpoll adapter for [Stream](https://getstream.io)'s asynchronous tasks.
//!
//! Stream answers slow operations (channel exports, hard deletes of channels or users)
//! with a `task_id`; `GET /api/v2/tasks/{id}` then reports `waiting`, `pending`,
//! `running`, and finally `completed` with a `result` or `failed` with an `error`.
//! This crate has:
//!
//! - [`StreamClient`]: server-side auth (HS256 server token, `api_key`), the status
//!   call [`get_task`](StreamClient::get_task), and the start calls
//!   [`export_channels`](StreamClient::export_channels),
//!   [`export_users`](StreamClient::export_users),
//!   [`delete_channels`](StreamClient::delete_channels) (a task, or the result at once:
//!   [`Started`]), [`delete_users`](StreamClient::delete_users),
//!   [`deactivate_users`](StreamClient::deactivate_users),
//!   [`reactivate_users`](StreamClient::reactivate_users),
//!   [`import_blocklist`](StreamClient::import_blocklist) and
//!   [`hard_delete_call`](StreamClient::hard_delete_call);
//! - [`StreamSource`]: the [`TaskSource`](taskpoll::TaskSource) that reads statuses as
//!   taskpoll phases, with Stream's SDK defaults (poll at once, every 1 s, 60 s deadline).
//!   A delete Stream reports `completed` with a failed item (a per-item `result` entry
//!   `{"status": "error", "error": ...}`) ends the wait failed
//!   ([`StreamFailure::Items`], naming each item and why); [`ItemResults`] types those
//!   maps;
//! - [`StreamClient::wait_for_task`]: the SDKs' `wait_for_task`, built on the poller;
//! - the wire types in [`models`], and [`StreamError`] with its
//!   [classification](StreamError::class).
//!
//! ```
//! use std::time::Duration;
//! use taskpoll_sim::script::Defaults;
//! use taskpoll_sim::stream::{StreamSim, StreamSimConfig};
//! use taskpoll_stream::{ChannelRef, StreamClient};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A local Stream simulator whose tasks take 200 ms.
//! let sim = StreamSim::start(StreamSimConfig {
//!     defaults: Defaults { task_time: Duration::from_millis(200), fail_every: None },
//!     ..StreamSimConfig::default()
//! })
//! .await?;
//!
//! let client = StreamClient::builder(sim.api_key(), sim.api_secret())
//!     .base_url(&sim.base_url()) // production: the default, https://chat.stream-io-api.com
//!     .build()?;
//! let task_id = client
//!     .export_channels(&[ChannelRef::new("messaging", "general")])
//!     .await?;
//!
//! // The SDKs' wait_for_task, polling every 50 ms for at most 10 s.
//! let done = client
//!     .wait_for_task_with(&task_id, Duration::from_millis(50), Duration::from_secs(10))
//!     .await?;
//! assert_eq!(done.task.status, "completed");
//! println!("export ready at {}", done.result["url"]);
//! # Ok(())
//! # }
//! ```
//!
//! With the full poller: [`StreamClient::poller`] starts from the SDK defaults, and
//! every setting can be changed (`.deadline(..)`, `.interval(..)`, `.watch(id)` for a
//! stream of updates). The choices made where Stream's documentation is silent
//! (unknown statuses, the `error` status word, `Retry-After` versus
//! `X-RateLimit-Reset`, malformed bodies) are in `docs/vendors/stream.md`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod auth;
mod client;
mod config;
mod error;
pub mod models;
mod outcome;
mod response;
mod source;

pub use client::{Started, StreamClient};
pub use config::{DEFAULT_BASE_URL, DEFAULT_REQUEST_TIMEOUT, StreamClientBuilder};
pub use error::{ApiFailure, RateLimit, StreamError};
pub use models::{
    ApiError, ChannelRef, ErrorResult, ItemResult, ItemResults, StartResponse, TaskResponse,
    Timestamp,
};
pub use outcome::{ITEMS_FAILED, ItemsFailed, StreamFailure, StreamOutput, StreamTaskFailure};
pub use source::{DEFAULT_POLL_INTERVAL, DEFAULT_WAIT_TIMEOUT, StreamSource};
pub use taskpoll_http::DEFAULT_MAX_RESPONSE_BYTES;

/// Why a wait on a Stream task ended without its output.
pub type StreamWaitError = taskpoll::WaitError<StreamFailure, StreamError>;
