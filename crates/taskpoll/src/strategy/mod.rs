//! Interval strategies: the delays between polls.
//!
//! A strategy hands each wait a fresh sequence of delays. Any
//! `Iterator<Item = Duration> + Clone` is one (the wait polls a clone), so std
//! iterators work as they are:
//!
//! ```
//! use std::time::Duration;
//! use taskpoll::PollPolicy;
//! use taskpoll::strategy::{Exponential, Fixed, Jitter, Schedule};
//!
//! let ms = Duration::from_millis;
//! let _fixed = PollPolicy::default().interval(Fixed::new(ms(500)));
//! let _exp = PollPolicy::default().interval(Exponential::new(ms(500), 1.5, ms(10_000)));
//! let _jittered = PollPolicy::default()
//!     .interval(Jitter::full(Exponential::new(ms(100), 2.0, ms(5_000))).with_seed(7));
//! let _explicit = PollPolicy::default().interval(Schedule::new([ms(100), ms(200)]).repeat_last());
//! let _std = PollPolicy::default().interval(std::iter::repeat(ms(250)).take(10));
//! // A poller takes any of them: `poller.configure(|p| p.interval(Fixed::new(ms(500))))`.
//! ```
//!
//! With the `backon` feature, backon's builders (`ExponentialBuilder`, `ConstantBuilder`,
//! `FibonacciBuilder`) are strategies too. With the `backoff` feature,
//! [`from_backoff`] bridges a `backoff::backoff::Backoff`; it is deprecated because that
//! crate is unmaintained (RUSTSEC-2025-0012): prefer backon.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

mod bridge;
mod jitter;

#[cfg(feature = "backoff")]
#[allow(deprecated)]
pub use bridge::{BackoffBridge, from_backoff};
pub use jitter::{Decorrelated, Jitter, JitterKind};

/// One wait's sequence of delays. `None` ends the wait with
/// [`WaitError::Exhausted`](crate::WaitError::Exhausted).
pub type Delays = Box<dyn Iterator<Item = Duration> + Send>;

/// A source of delay sequences, one per wait.
pub trait IntervalStrategy: Send + Sync + 'static {
    /// The delays for one wait. `salt` differs between the waits of a poller so that
    /// randomised strategies do not move in lockstep; deterministic ones ignore it.
    fn delays(&self, salt: u64) -> Delays;

    /// A short description for `Debug` output.
    fn describe(&self) -> String {
        "custom strategy".to_owned()
    }
}

impl fmt::Debug for dyn IntervalStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Anything that can serve as an interval strategy. The `M` marker only tells the
/// blanket implementations apart; callers never name it.
pub trait IntoStrategy<M> {
    /// Converts into a shareable strategy.
    fn into_strategy(self) -> Arc<dyn IntervalStrategy>;
}

/// The markers of [`IntoStrategy`]'s blanket implementations: types with no values
/// that only tell them apart for the compiler. Never named by callers, so not shown.
#[doc(hidden)]
pub mod marker {
    /// The value is an [`IntervalStrategy`](super::IntervalStrategy).
    #[derive(Debug)]
    pub enum ViaStrategy {}
    /// The value is a cloneable `Iterator<Item = Duration>`.
    #[derive(Debug)]
    pub enum ViaIterator {}
    /// The value is already shared.
    #[derive(Debug)]
    pub enum ViaArc {}
    /// The value is a backon builder.
    #[cfg(feature = "backon")]
    pub use super::bridge::ViaBackon;
}
use marker::{ViaArc, ViaIterator, ViaStrategy};

impl<T: IntervalStrategy> IntoStrategy<ViaStrategy> for T {
    fn into_strategy(self) -> Arc<dyn IntervalStrategy> {
        Arc::new(self)
    }
}

impl IntoStrategy<ViaArc> for Arc<dyn IntervalStrategy> {
    fn into_strategy(self) -> Arc<dyn IntervalStrategy> {
        self
    }
}

struct IterStrategy<I>(I);

impl<I> IntervalStrategy for IterStrategy<I>
where
    I: Iterator<Item = Duration> + Clone + Send + Sync + 'static,
{
    fn delays(&self, _salt: u64) -> Delays {
        Box::new(self.0.clone())
    }

    fn describe(&self) -> String {
        format!("iterator {}", std::any::type_name::<I>())
    }
}

impl<I> IntoStrategy<ViaIterator> for I
where
    I: Iterator<Item = Duration> + Clone + Send + Sync + 'static,
{
    fn into_strategy(self) -> Arc<dyn IntervalStrategy> {
        Arc::new(IterStrategy(self))
    }
}

/// The same delay every time, forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fixed {
    delay: Duration,
}

impl Fixed {
    /// Polls every `delay`.
    pub fn new(delay: Duration) -> Self {
        Fixed { delay }
    }
}

impl Iterator for Fixed {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        Some(self.delay)
    }
}

/// `initial`, then each delay `factor` times the one before, never above `max`, forever.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exponential {
    next: Duration,
    factor: f64,
    max: Duration,
}

impl Exponential {
    /// Starts at `initial`, multiplies by `factor` (values below 1 are taken as 1, NaN
    /// as 1), capped at `max`.
    pub fn new(initial: Duration, factor: f64, max: Duration) -> Self {
        let factor = if factor.is_nan() {
            1.0
        } else {
            factor.max(1.0)
        };
        Exponential {
            next: initial.min(max),
            factor,
            max,
        }
    }
}

impl Iterator for Exponential {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let current = self.next;
        let grown = current.as_secs_f64() * self.factor;
        self.next = if grown >= self.max.as_secs_f64() {
            self.max
        } else {
            Duration::try_from_secs_f64(grown).unwrap_or(self.max)
        };
        Some(current)
    }
}

/// An explicit list of delays; it ends after the last unless
/// [`repeat_last`](Schedule::repeat_last) is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    delays: Arc<[Duration]>,
    position: usize,
    repeat_last: bool,
}

impl Schedule {
    /// The delays, in order.
    pub fn new(delays: impl IntoIterator<Item = Duration>) -> Self {
        Schedule {
            delays: delays.into_iter().collect(),
            position: 0,
            repeat_last: false,
        }
    }

    /// After the list, keep repeating its last delay instead of ending.
    pub fn repeat_last(mut self) -> Self {
        self.repeat_last = true;
        self
    }
}

impl Iterator for Schedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        match self.delays.get(self.position) {
            Some(d) => {
                self.position += 1;
                Some(*d)
            }
            None if self.repeat_last => self.delays.last().copied(),
            None => None,
        }
    }
}
