//! [`FleetError`]: what can go wrong talking to the fleet's Redis.

use std::time::Duration;

/// What went wrong with the fleet's Redis. Messages name the server (its URL without a
/// password) and what was being done, and say what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FleetError {
    /// The Redis URL could not be read.
    #[error("invalid Redis URL: {reason} (expected redis://[:PASSWORD@]HOST[:PORT][/DB])")]
    InvalidUrl {
        /// Why.
        reason: String,
    },
    /// Redis could not be reached or answered with an error.
    #[error(
        "Redis at {server} failed while {during}: {message}; check that redis-server is running and reachable (retried with backoff)"
    )]
    Redis {
        /// The server, without any password.
        server: String,
        /// What was being done.
        during: &'static str,
        /// Redis's error (never carries a credential).
        message: String,
    },
    /// Redis did not answer in time.
    #[error(
        "Redis at {server} did not answer within {timeout:?} while {during}; it may be down, overloaded or unreachable (retried with backoff)"
    )]
    Timeout {
        /// The server, without any password.
        server: String,
        /// What was being done.
        during: &'static str,
        /// How long was waited.
        timeout: Duration,
    },
    /// Something stored in Redis could not be read back (written by an incompatible
    /// version, or by hand).
    #[error("unreadable {what} in Redis: {reason}")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// Why it could not be read.
        reason: String,
    },
    /// The request itself was wrong (an empty task id, a vendor name with a colon).
    #[error("invalid fleet request: {0}")]
    Invalid(String),
}

impl FleetError {
    /// Whether retrying later may help (Redis unreachable, timed out, or loading).
    pub fn is_transient(&self) -> bool {
        matches!(self, FleetError::Redis { .. } | FleetError::Timeout { .. })
    }
}
