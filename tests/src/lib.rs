//! This repository's adapters against their simulators, over real HTTP on loopback: a
//! behavior-suite [`Harness`](taskpoll_testkit::behavior::Harness) for each adapter
//! ([`stream`], [`redis_cloud`], [`runware`], and the declarative adapter with a shipped
//! spec, [`spec`]), run by `tests/behavior.rs`.
//!
//! The suite itself, and the kit a third party's adapter uses, is `taskpoll-testkit`;
//! this crate is where our adapters meet it (it depends on all of them, which the kit
//! must not).
#![forbid(unsafe_code)]
// Test support: a harness whose simulator will not start, or whose scripted task cannot
// be read back, ends the test it serves with a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod redis_cloud;
pub mod runware;
pub mod sims;
pub mod spec;
pub mod stream;

/// The README's examples, compiled as doctests so they stay right.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;
