//! [`WaitCheckpoint`]: an in-flight wait, written down so another process can resume it
//! with its original deadline.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use crate::phase::PhaseSummary;

/// One wait's state at a checkpoint. With the `serde` feature it serializes (any format).
///
/// Instants are stored as wall-clock milliseconds since the Unix epoch, so a resumed wait
/// keeps its original deadline in another process. The interval strategy restarts at the
/// same position (its first `delays_used` delays are skipped); the counters carry over.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct WaitCheckpoint<Id> {
    /// The task.
    pub id: Id,
    /// When the wait started.
    pub started_unix_ms: u64,
    /// Its deadline, if any.
    pub deadline_unix_ms: Option<u64>,
    /// When its next poll is due.
    pub next_poll_unix_ms: u64,
    /// Polls made.
    pub polls: u32,
    /// Delays taken from the interval strategy.
    pub delays_used: u32,
    /// Transient errors in a row at the checkpoint.
    pub consecutive_transient: u32,
    /// Not-yet-visible answers so far.
    pub not_visible: u32,
    /// Partial results already reported.
    pub partials_reported: usize,
    /// The last phase seen.
    pub last_phase: Option<PhaseSummary>,
}

/// Converts between tokio instants and wall-clock milliseconds, anchored at one moment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    instant: Instant,
    wall: SystemTime,
}

impl Clock {
    pub(crate) fn now() -> Self {
        Clock {
            instant: Instant::now(),
            wall: SystemTime::now(),
        }
    }

    pub(crate) fn instant(&self) -> Instant {
        self.instant
    }

    pub(crate) fn to_unix_ms(self, at: Instant) -> u64 {
        let wall = if at >= self.instant {
            self.wall + (at - self.instant)
        } else {
            self.wall
                .checked_sub(self.instant - at)
                .unwrap_or(UNIX_EPOCH)
        };
        let ms = wall
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        u64::try_from(ms).unwrap_or(u64::MAX)
    }

    pub(crate) fn to_instant(self, unix_ms: u64) -> Instant {
        let wall = UNIX_EPOCH + Duration::from_millis(unix_ms);
        match wall.duration_since(self.wall) {
            Ok(ahead) => self.instant + ahead,
            Err(behind) => self
                .instant
                .checked_sub(behind.duration())
                .unwrap_or(self.instant),
        }
    }
}
