//! Wait on vendors' asynchronous tasks.
//!
//! Many APIs answer a slow operation with "202, here is a task id, poll it". taskpoll
//! is the polling loop written once and right:
//!
//! - a [`TaskSource`] trait: fetch one task's status, classify it as [`Phase::Pending`],
//!   [`Phase::Running`] (with progress and partial results), [`Phase::Succeeded`] or
//!   [`Phase::Failed`], and say whether a fetch error is transient or permanent;
//! - a [`Poller`] that waits ([`Poller::wait`]) or streams updates ([`Poller::watch`])
//!   under a [`PollPolicy`]: an interval [`strategy`], an overall deadline with a final
//!   poll at the deadline, `Retry-After`, transient-error retries, attempt limits;
//! - one error type, [`WaitError`], that keeps apart a task that failed, a wait that
//!   timed out, a limit that ran out and a status that could not be fetched.
//!
//! This crate has no HTTP client: vendor adapters (`taskpoll-stream`,
//! `taskpoll-redis-cloud`, `taskpoll-runware`) implement [`TaskSource`] on top of one.
//! All waiting goes through tokio's clock, so `tokio::time::pause` makes timing tests
//! exact.
//!
//! ```
//! use std::time::Duration;
//! use taskpoll::testing::{ScriptedSource, Step};
//! use taskpoll::{ErrorKind, Poller, strategy::Fixed};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let source = ScriptedSource::new();
//! source.script("slow", [Step::running()]);
//! let poller = Poller::new(source).configure(|p| {
//!     p.interval(Fixed::new(Duration::from_secs(5)))
//!         .deadline(Duration::from_secs(12))
//! });
//! let err = poller.wait("slow".into()).await.unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Timeout);
//! // Polls at 0 s, 5 s, 10 s, and a final poll at the deadline (12 s).
//! assert_eq!(err.polls(), 4);
//! # }
//! ```
//!
//! Features: `testing` (the scripted in-memory source in [`testing`]), `serde`
//! (serializable phase summaries), `backon` (backon builders as strategies),
//! `backoff` (a bridge from the unmaintained `backoff` crate).

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod budget;
mod checkpoint;
mod error;
mod group;
mod machine;
mod phase;
mod policy;
mod poller;
mod scheduler;
mod source;
pub mod strategy;
#[cfg(feature = "testing")]
pub mod testing;
mod update;
mod watch;

pub use budget::{Admission, Budget, LocalBudget, RequestBudget};
pub use checkpoint::WaitCheckpoint;
pub use error::{ErrorKind, ExhaustedReason, FetchGiveUp, WaitError};
pub use group::{Outcomes, WaitAll, WaitAllHandle};
pub use phase::{Phase, PhaseKind, PhaseSummary, Progress};
pub use policy::{PollPolicy, RetryPolicy, VisibilityGrace};
pub use poller::Poller;
pub use scheduler::{Scheduler, SchedulerBuilder, SchedulerCell};
pub use source::{BatchEntry, BatchTaskSource, ErrorClass, RateLimitHint, SourcePhase, TaskSource};
pub use update::{Outcome, SourceWaitError, Update, WaitResult};
pub use watch::Watch;
