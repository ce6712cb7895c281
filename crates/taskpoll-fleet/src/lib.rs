#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod awaiter;
mod budget;
mod error;
mod keys;
mod outcome;
mod scripts;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod waits;
mod worker;

pub use awaiter::OutcomeStream;
pub use budget::RedisBudget;
pub use error::FleetError;
pub use outcome::{FleetOutcome, OutcomeKind};
pub use store::Fleet;
pub use waits::{Enqueued, StoredWait, WaitRequest, WaitState};
pub use worker::{DefaultCodec, WaitCodec, Worker, WorkerReport, WorkerSettings};
