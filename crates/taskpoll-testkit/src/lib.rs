//! Test kit for taskpoll adapters, ours and third parties'.
//!
//! - [`behavior`]: the behavior suite every adapter runs. Implement
//!   [`Harness`](behavior::Harness) for your source and a server you control, then one
//!   line, [`behavior_suite!`], registers one `#[test]` per case.
//! - [`server`]: a raw HTTP/1.1 server on loopback, for answers no simulator sends.
//! - [`logs`]: a subscriber that captures every span and event as text.
//! - [`json`]: proptest strategies for vendor-shaped JSON, statuses and headers.
//! - [`process`]: a test in a process of its own (environment variables).
//! - [`expect`]: what a wait's result should be, or what it was instead.
//!
//! The kit depends on the core crate `taskpoll` only, never on an adapter: an adapter
//! takes it as a dev-dependency without a cycle.
#![forbid(unsafe_code)]

pub mod behavior;
pub mod expect;
pub mod json;
pub mod logs;
pub mod process;
pub mod server;
