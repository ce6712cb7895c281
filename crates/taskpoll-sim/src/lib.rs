//! Loopback HTTP simulators of the Stream, Redis Cloud and Runware task APIs.
//!
//! Each simulator is a real HTTP server (axum on tokio) that speaks its vendor's wire
//! format: auth checks, start endpoints, status endpoints, error bodies and rate-limit
//! headers. Tasks follow scripts ([`script`]); faults are injected deterministically
//! from a seed ([`faults`]); every request is counted ([`accounting`]). Each server
//! also has a control API under `/_sim/` ([`control`]).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use taskpoll_sim::stream::{StreamSim, StreamSimConfig};
//! let sim = StreamSim::start(StreamSimConfig::default()).await?;
//! println!("Stream simulator at {} (api key {})", sim.base_url(), sim.api_key());
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod accounting;
pub mod cli;
mod clock;
pub mod control;
pub mod faults;
pub mod generic;
pub mod redis_cloud;
pub mod runware;
pub mod script;
pub mod server;
pub mod stream;
