//! taskpoll adapter for Runware's asynchronous tasks (`deliveryMethod: "async"` and
//! `getResponse`).
//!
//! A Runware task may produce several results (`numberResults`) that finish one by
//! one. Waiting on it with [`Poller::watch`](taskpoll::Poller::watch) reports each
//! result as an [`Update::Partial`](taskpoll::Update::Partial) as soon as a poll
//! shows it, then the whole [`RunwareOutput`] once all are in; a failure
//! ([`RunwareFailure`]) keeps the results that had finished.
//!
//! ```
//! use std::time::Duration;
//! use futures_util::StreamExt;
//! use taskpoll::{Update, strategy::Fixed};
//! use taskpoll_runware::{RunwareClient, VideoInference};
//! use taskpoll_sim::runware::{RunwareSim, RunwareSimConfig};
//! use taskpoll_sim::script::Defaults;
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A local Runware simulator whose tasks take 200 ms.
//! let sim = RunwareSim::start(RunwareSimConfig {
//!     defaults: Defaults { task_time: Duration::from_millis(200), fail_every: None },
//!     ..RunwareSimConfig::default()
//! })
//! .await?;
//! let client = RunwareClient::builder(sim.api_key()).base_url(&sim.base_url()).build()?;
//!
//! // Two videos from one prompt, polled every 25 ms from the start.
//! let id = client
//!     .submit_video(VideoInference::new("klingai:5@3", "A red fox in fresh snow").number_results(2))
//!     .await?;
//! let poller = client.poller().configure(|p| {
//!     p.initial_delay(Duration::ZERO)
//!         .interval(Fixed::new(Duration::from_millis(25)))
//! });
//! let mut watch = poller.watch(id);
//! let mut seen = Vec::new();
//! while let Some(update) = watch.next().await {
//!     match update {
//!         Update::Partial { index, result } => {
//!             println!("result {index}: {}", result.url().unwrap_or("-"));
//!             seen.push(index);
//!         }
//!         Update::Finished(outcome) => {
//!             let output = outcome.result?;
//!             assert_eq!(output.results.len(), 2);
//!         }
//!         _ => {}
//!     }
//! }
//! assert_eq!(seen, [0, 1]);
//! # sim.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # How answers are read
//!
//! - Every request is a POST of a JSON array to one URL ([`DEFAULT_BASE_URL`]); the
//!   key goes in `Authorization: Bearer`.
//! - `getResponse` answers the task's whole state on every poll. Items for other
//!   `taskUUID`s are ignored. Finished items (`status: "success"`, or no status but an
//!   output field) are told apart by the first present of `resultIndex`, `imageUUID`,
//!   `videoUUID`, `audioUUID`, `modelUUID`, `maskImageUUID`, `guideImageUUID`,
//!   `mediaUUID`, their URL, else their position, and counted once.
//! - Partial results keep the order they were first seen in, even when a later
//!   result finishes first.
//! - Any error for the task (top-level `errors`, singular `error`, legacy
//!   `errorId`, or a data item with `status: "error"`) fails it, under 200 or 4xx.
//! - `taskFailedOrNotFound`, `*NotFound` and `*Expired` with no data are
//!   [`RunwareError::TaskNotFound`], and an answer with nothing about a task polled
//!   alone (`{"data": []}`) is [`RunwareError::Unanswered`]. Right after a submission
//!   Runware may not show a task yet: until a poll has shown it, these are asked for
//!   again for the first 5 s of the wait (each one an
//!   [`Update::Retrying`](taskpoll::Update::Retrying)), then end it as a fetch error.
//!   Once a poll has shown the task they end the wait at once, as a fetch error too:
//!   such a task may have failed, or succeeded and expired, so it is not reported as
//!   failed.
//! - Several tasks' `getResponse` share a POST (up to 50; `max_batch(1)` sends one
//!   per POST, as Runware's SDKs do); a task a batched answer leaves out is polled
//!   again alone at once.
//! - `modelUpload` ends at `ready`; audio, upscale and background removal results are
//!   read by their `audioUUID`/`audioURL` and `mediaUUID`/`mediaURL`.
//! - 408, 429, 5xx, connection failures, timeouts and broken success bodies are
//!   retried; 401, 403 and other 4xx end the wait at once.
//!
//! The full mapping and the choices made where Runware's documentation is silent are
//! in `docs/vendors/runware.md`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod answer;
mod classify;
mod client;
mod config;
mod error;
pub mod models;
mod request;
mod source;
mod task;

pub use classify::RunwarePhase;
pub use client::RunwareClient;
pub use config::{
    DEFAULT_BASE_URL, DEFAULT_BATCH_FALLBACK, DEFAULT_MAX_BATCH, DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_VISIBILITY_GRACE, RunwareClientBuilder,
};
pub use error::{ApiError, RunwareError};
pub use models::{DataItem, Envelope, ErrorItem, ItemState, Parameter};
pub use request::{ImageInference, VideoInference};
pub use source::{IMAGE_INITIAL_DELAY, RunwareSource, VIDEO_INITIAL_DELAY};
pub use task::{
    RunwareFailure, RunwareOutput, RunwareResult, RunwareStatus, RunwareTaskId, TaskKind,
};
