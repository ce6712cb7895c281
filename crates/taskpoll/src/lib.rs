#![doc = include_str!("../README.md")]
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

pub use budget::{Admission, Budget, LocalBudget, RecentLatency, RequestBudget};
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
