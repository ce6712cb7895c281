//! Many taskpoll processes, one Redis: a shared request budget, and durable waits.
//!
//! Real deployments run replicas. Every replica polling one vendor with one credential
//! draws on the same vendor limit (Redis Cloud: 400 requests a minute per account key),
//! and a task started by a replica that is later restarted must still be waited on.
//! This crate keeps both in a Redis the user runs:
//!
//! - [`RedisBudget`]: a [`RequestBudget`](taskpoll::RequestBudget) shared by every
//!   process drawing on one vendor credential. One Lua script per request decides, on
//!   the Redis server's clock, over a sliding window kept in a sorted set; the
//!   credential appears in Redis only as a hash. N processes with the same limit
//!   together never exceed it. Plug it into a scheduler with
//!   [`SchedulerBuilder::request_budget`](taskpoll::SchedulerBuilder::request_budget),
//!   or into a vendor client's builder with its `request_budget` setter.
//! - Durable waits: [`Fleet::enqueue`] writes a wait (vendor, task id, deadline) into
//!   Redis; a [`Worker`] claims due waits under a lease, polls them through its one
//!   scheduler (batching and budget as usual), writes their progress down, and publishes
//!   each outcome exactly once; any process awaits outcomes by task id
//!   ([`Fleet::await_outcome`], [`Fleet::outcomes`]), whether the wait was enqueued by
//!   another process or finished before the awaiting started. A worker that dies loses
//!   its lease and another resumes its waits with their original deadlines; a worker
//!   stopped with [`Worker::run`]'s shutdown hands its waits back at once.
//!
//! Redis unreachable or restarted: every call says so in its error and logs, the
//! budget answers "retry shortly" (never grants blindly), workers and awaiters retry
//! with backoff and go on where they were. docs/fleet.md has the data model, the
//! guarantees and which Redis persistence settings keep which waits.
//!
//! No vendor adapter knows about this crate: a worker is given a poller of any
//! [`TaskSource`](taskpoll::TaskSource) and a [`WaitCodec`] that turns stored waits
//! into the source's ids and outcomes into stored ones.

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
