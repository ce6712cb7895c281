//! Request budgets: how many requests a vendor credential may send, shared by every wait.
//!
//! [`RequestBudget`] is the abstraction the scheduler draws from: ask before a request,
//! release after it, pause everyone after a 429. [`LocalBudget`] is the in-process
//! implementation (a sliding window), the default; a fleet of processes plugs in one
//! kept in a shared store instead, without the scheduler knowing the difference.
//! [`Budget`] holds the limits a scheduler is configured with.

mod local;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

pub use local::{LocalBudget, RecentLatency};

const MINUTE: Duration = Duration::from_secs(60);

/// What a [`RequestBudget`] answers when asked for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Admission {
    /// Send it now. The budget counted it.
    Granted,
    /// Not now: ask again after this long (the window frees a place, or a pause ends).
    RetryIn(Duration),
}

/// A request budget shared by every wait on one vendor credential.
///
/// The scheduler calls [`acquire`](RequestBudget::acquire) before each request (one per
/// batch), [`release`](RequestBudget::release) when the request ends, and
/// [`pause`](RequestBudget::pause) when the vendor answered 429 or said no request is
/// left in its window. Implementations are shared through an `Arc` by every scheduler on
/// the same credential (a Redis Cloud account's task and subscription waits draw from
/// one budget), so they use interior mutability.
///
/// An implementation that cannot answer (its store is unreachable) should answer
/// [`Admission::RetryIn`] with a short delay rather than grant blindly, and say why in
/// its logs.
///
/// ```
/// use std::time::Duration;
/// use taskpoll::{Admission, LocalBudget, RequestBudget};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let budget = LocalBudget::per_window(2, Duration::from_secs(60));
/// assert_eq!(budget.acquire().await, Admission::Granted);
/// // Two a minute, paced: the next one 30 s after the first.
/// assert_eq!(budget.acquire().await, Admission::RetryIn(Duration::from_secs(30)));
/// tokio::time::advance(Duration::from_secs(30)).await;
/// assert_eq!(budget.acquire().await, Admission::Granted);
/// // The third in the same minute waits for the first to leave the window.
/// tokio::time::advance(Duration::from_secs(10)).await;
/// assert_eq!(budget.acquire().await, Admission::RetryIn(Duration::from_secs(20)));
/// # }
/// ```
#[async_trait]
pub trait RequestBudget: Send + Sync + fmt::Debug + 'static {
    /// Asks to send one request now.
    async fn acquire(&self) -> Admission;

    /// A request granted by [`acquire`](RequestBudget::acquire) ended (answered, failed
    /// or cut off) `took` after it was granted. The server received it at some instant
    /// in between, so a budget that must hold on the server's side of the wire can
    /// widen its window by that much.
    fn release(&self, took: Duration) {
        let _ = took;
    }

    /// No request may be sent for `duration` from now, by anyone drawing on this budget
    /// (the vendor answered 429, or its rate-limit headers say nothing is left). A
    /// shorter pause than one already in force changes nothing.
    fn pause(&self, duration: Duration);
}

/// The limits a [`Scheduler`](crate::Scheduler) works under.
///
/// The request rate is enforced by the scheduler's [`RequestBudget`] (a [`LocalBudget`]
/// made from these limits unless another is plugged in); requests in flight and the
/// pause after a bare 429 are the scheduler's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Budget {
    /// Most requests in any [`window`](Budget::window) (a sliding window: a server
    /// counting fixed windows never sees more either).
    pub requests_per_minute: Option<u32>,
    /// The window `requests_per_minute` counts over: one minute unless changed.
    pub window: Duration,
    /// Most requests in flight at once, per scheduler.
    pub max_in_flight: Option<usize>,
    /// How long a rate-limit answer (429) without `Retry-After` pauses the source.
    pub rate_limit_pause: Duration,
}

impl Default for Budget {
    /// No request-rate limit, 64 requests in flight, a 1 s pause after a bare 429.
    fn default() -> Self {
        Budget {
            requests_per_minute: None,
            window: MINUTE,
            max_in_flight: Some(64),
            rate_limit_pause: Duration::from_secs(1),
        }
    }
}

impl Budget {
    /// No limits at all (a 1 s pause after a bare 429 still applies).
    pub fn unlimited() -> Self {
        Budget {
            max_in_flight: None,
            ..Budget::default()
        }
    }

    /// At most `n` requests in any minute.
    pub fn per_minute(mut self, n: u32) -> Self {
        self.requests_per_minute = Some(n.max(1));
        self
    }

    /// At most `n` requests in any `window` (instead of a minute).
    pub fn per_window(mut self, n: u32, window: Duration) -> Self {
        self.requests_per_minute = Some(n.max(1));
        self.window = window.max(Duration::from_millis(1));
        self
    }

    /// At most `n` requests in flight.
    pub fn in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = Some(n.max(1));
        self
    }

    /// The pause after a 429 without `Retry-After`.
    pub fn rate_limit_pause(mut self, pause: Duration) -> Self {
        self.rate_limit_pause = pause;
        self
    }

    /// The in-process budget enforcing these limits' request rate.
    pub fn local(&self) -> LocalBudget {
        match self.requests_per_minute {
            Some(n) => LocalBudget::per_window(n, self.window),
            None => LocalBudget::unlimited(),
        }
    }
}
