#![doc = include_str!("../README.md")]
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
