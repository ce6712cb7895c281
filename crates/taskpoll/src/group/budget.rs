//! [`Budget`]: a request budget shared by every wait of a source.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

const MINUTE: Duration = Duration::from_secs(60);

/// Limits on the requests a source's many-tasks waits make together.
///
/// Every [`WaitAll`](crate::WaitAll) of one [`Poller`](crate::Poller) draws from the same
/// budget. Waits are served in the order they fell due, so none starves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Budget {
    /// Most requests in any [`window`](Budget::window) (a sliding window: a server
    /// counting fixed windows never sees more either).
    pub requests_per_minute: Option<u32>,
    /// The window `requests_per_minute` counts over: one minute unless changed (a
    /// shorter one compresses time in benchmarks).
    pub window: Duration,
    /// Most requests in flight at once.
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
            requests_per_minute: None,
            window: MINUTE,
            max_in_flight: None,
            rate_limit_pause: Duration::from_secs(1),
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
}

#[derive(Debug, Default)]
struct State {
    sent: VecDeque<Instant>,
    in_flight: usize,
    paused_until: Option<Instant>,
}

/// Why a request may not be sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denied {
    /// Not before this instant.
    Until(Instant),
    /// Not before a request in flight completes.
    InFlight,
}

/// A [`Budget`] and its live state, shared by the waits of one poller.
#[derive(Debug)]
pub(crate) struct SharedBudget {
    limits: Budget,
    state: Mutex<State>,
}

impl SharedBudget {
    pub(crate) fn new(limits: Budget) -> Arc<Self> {
        Arc::new(SharedBudget {
            limits,
            state: Mutex::new(State::default()),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn limits(&self) -> Budget {
        self.limits
    }

    /// Takes one request from the budget, or says when to ask again.
    pub(crate) fn try_acquire(&self, now: Instant) -> Result<(), Denied> {
        let mut s = self.state();
        if let Some(until) = s.paused_until {
            if until > now {
                return Err(Denied::Until(until));
            }
            s.paused_until = None;
        }
        if self.limits.max_in_flight.is_some_and(|m| s.in_flight >= m) {
            return Err(Denied::InFlight);
        }
        if let Some(rpm) = self.limits.requests_per_minute {
            let window = self.limits.window;
            while s
                .sent
                .front()
                .is_some_and(|t| now.saturating_duration_since(*t) >= window)
            {
                s.sent.pop_front();
            }
            if s.sent.len() >= rpm as usize
                && let Some(oldest) = s.sent.front()
            {
                return Err(Denied::Until(*oldest + window));
            }
            s.sent.push_back(now);
        }
        s.in_flight += 1;
        Ok(())
    }

    /// A request ended (answered or cut off).
    pub(crate) fn release(&self) {
        let mut s = self.state();
        s.in_flight = s.in_flight.saturating_sub(1);
    }

    /// No request before `until`.
    pub(crate) fn pause_until(&self, until: Instant) {
        let mut s = self.state();
        if s.paused_until.is_none_or(|p| p < until) {
            s.paused_until = Some(until);
        }
    }
}
