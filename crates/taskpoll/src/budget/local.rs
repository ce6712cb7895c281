//! [`LocalBudget`]: the in-process [`RequestBudget`], a sliding window on tokio's clock.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::{Admission, RequestBudget};

#[derive(Debug, Default)]
struct State {
    sent: VecDeque<Instant>,
    paused_until: Option<Instant>,
    /// The longest a request took lately: how much later than its grant the server may
    /// have received it.
    latency: RecentLatency,
    /// Grants that may go out at once (a tenth of N at most), and when they were counted.
    tokens: f64,
    refilled_at: Option<Instant>,
}

/// At most N requests in any window of a given length, and the pause after a 429, for
/// every scheduler of one process that shares it.
///
/// A sliding window, paced and held on the server's side of the wire. Paced: after a
/// burst of a tenth of N, grants are window/N apart, so the budget is spent evenly
/// across its window (a burst of N followed by silence would leave waits that fall due
/// meanwhile waiting a whole window; paced, they share the next request). Held on the server's side: a
/// request counts from when it was granted, and the window is widened by the longest a
/// request took lately (at most a tenth of the window), since the server received each
/// one somewhere between its grant and its answer. So whatever instant a server starts its own window at, and
/// however the network delays each request, it never counts more than N. Time is
/// tokio's, so `tokio::time::pause` makes it exact in tests (where requests take no
/// time).
#[derive(Debug)]
pub struct LocalBudget {
    limit: Option<(u32, Duration)>,
    state: Mutex<State>,
}

impl LocalBudget {
    /// At most `n` requests in any `window`.
    pub fn per_window(n: u32, window: Duration) -> Self {
        LocalBudget {
            limit: Some((n.max(1), window.max(Duration::from_millis(1)))),
            state: Mutex::default(),
        }
    }

    /// No rate limit; pauses after a 429 still apply.
    pub fn unlimited() -> Self {
        LocalBudget {
            limit: None,
            state: Mutex::default(),
        }
    }

    /// The limit: requests per window, if any.
    pub fn limit(&self) -> Option<(u32, Duration)> {
        self.limit
    }

    /// The least time between two grants: the window over its N (latency aside).
    fn gap(&self, n: u32) -> Duration {
        self.limit
            .map_or(Duration::ZERO, |(_, window)| window / n.max(1))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// [`acquire`](RequestBudget::acquire) without the future: the answer at `now`.
    pub fn try_acquire(&self, now: Instant) -> Admission {
        let mut s = self.state();
        if let Some(until) = s.paused_until {
            if until > now {
                return Admission::RetryIn(until - now);
            }
            s.paused_until = None;
        }
        if let Some((n, window)) = self.limit {
            let window = window + s.latency.current(now, window).min(window / 10);
            while s
                .sent
                .front()
                .is_some_and(|t| now.saturating_duration_since(*t) >= window)
            {
                s.sent.pop_front();
            }
            if s.sent.len() >= n as usize
                && let Some(oldest) = s.sent.front()
            {
                return Admission::RetryIn((*oldest + window).saturating_duration_since(now));
            }
            // Paced: after a burst of a tenth of N, one request per window/N, so a
            // budget is spent across its window rather than in one burst followed by a
            // window of silence (waits that fall due in between share the next request).
            let gap = self.gap(n);
            let burst = f64::from((n / 10).max(1));
            let refilled = match s.refilled_at {
                Some(at) if !gap.is_zero() => {
                    now.saturating_duration_since(at).as_secs_f64() / gap.as_secs_f64()
                }
                _ => burst,
            };
            let tokens = (s.tokens + refilled).min(burst);
            s.refilled_at = Some(now);
            if tokens < 1.0 {
                s.tokens = tokens;
                return Admission::RetryIn(gap.mul_f64(1.0 - tokens));
            }
            s.tokens = tokens - 1.0;
            s.sent.push_back(now);
        }
        Admission::Granted
    }
}

#[async_trait]
impl RequestBudget for LocalBudget {
    async fn acquire(&self) -> Admission {
        self.try_acquire(Instant::now())
    }

    fn release(&self, took: Duration) {
        let window = self.limit.map_or(Duration::ZERO, |(_, w)| w);
        self.state().latency.record(took, Instant::now(), window);
    }

    fn pause(&self, duration: Duration) {
        let until = Instant::now() + duration;
        let mut s = self.state();
        if s.paused_until.is_none_or(|p| p < until) {
            s.paused_until = Some(until);
        }
    }
}

/// The longest a request took lately, held for a window: how much later than its grant
/// the server may have received any request still in the window. A budget that must
/// hold on the server's side of the wire widens its window by it (a slow first request,
/// a new connection's, must widen it for as long as that request counts, not decay
/// away after a few quick ones).
#[derive(Debug, Clone, Copy, Default)]
pub struct RecentLatency {
    longest: Duration,
    at: Option<Instant>,
    last: Duration,
}

impl RecentLatency {
    /// A request took `took`, ending at `now`.
    pub fn record(&mut self, took: Duration, now: Instant, window: Duration) {
        let stale = self
            .at
            .is_none_or(|at| now.saturating_duration_since(at) > window);
        if stale || took >= self.longest {
            self.longest = took;
            self.at = Some(now);
        }
        self.last = took;
    }

    /// The longest within the last `window`, or else the latest.
    pub fn current(&self, now: Instant, window: Duration) -> Duration {
        match self.at {
            Some(at) if now.saturating_duration_since(at) <= window => self.longest,
            _ => self.last,
        }
    }
}
