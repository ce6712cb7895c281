//! Randomised strategies: [`Jitter`] over another strategy, and [`Decorrelated`].

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use super::{Delays, IntervalStrategy, IntoStrategy};

/// A small, fast, seedable generator (SplitMix64). Not for cryptography.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform over the whole milliseconds in `lo..=hi` (tokio's timer resolution);
    /// `lo` when that range holds no whole millisecond.
    pub(crate) fn between(&mut self, lo: Duration, hi: Duration) -> Duration {
        const MS: u128 = 1_000_000;
        let lo_ms = lo.as_nanos().div_ceil(MS);
        let hi_ms = hi.as_nanos() / MS;
        if hi <= lo || hi_ms < lo_ms {
            return lo;
        }
        let span = hi_ms - lo_ms;
        let r = u128::from(self.next_u64());
        // (r * (span + 1)) >> 64 is uniform in 0..=span.
        let offset = (r * (span + 1)) >> 64;
        Duration::from_millis(saturating_u64(lo_ms + offset))
    }
}

fn saturating_u64(v: u128) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// A seed for one wait: the user's seed (or a per-process random one) mixed with the salt.
fn wait_seed(seed: Option<u64>, salt: u64) -> u64 {
    let base = seed.unwrap_or_else(|| {
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    });
    let mut mix = SplitMix::new(base ^ salt.wrapping_mul(0xD6E8_FEB8_6659_FD93));
    mix.next_u64()
}

/// How [`Jitter`] randomises each delay `d` of the inner strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JitterKind {
    /// Uniform in `0..=d`.
    Full,
    /// `d/2` plus uniform in `0..=d/2`.
    Equal,
}

/// Randomises another strategy's delays; never above [`with_max`](Jitter::with_max).
///
/// Unseeded, each wait draws its own random sequence; seeded, the sequences are
/// reproducible (each wait of a poller still gets its own, derived from the seed).
#[derive(Debug, Clone)]
pub struct Jitter {
    inner: Arc<dyn IntervalStrategy>,
    kind: JitterKind,
    max: Duration,
    seed: Option<u64>,
}

impl Jitter {
    /// Full jitter over `inner`: each delay uniform in `0..=d`.
    pub fn full<M>(inner: impl IntoStrategy<M>) -> Self {
        Jitter::new(JitterKind::Full, inner)
    }

    /// Equal jitter over `inner`: each delay `d/2 + uniform(0..=d/2)`.
    pub fn equal<M>(inner: impl IntoStrategy<M>) -> Self {
        Jitter::new(JitterKind::Equal, inner)
    }

    /// Jitter of the given kind over `inner`.
    pub fn new<M>(kind: JitterKind, inner: impl IntoStrategy<M>) -> Self {
        Jitter {
            inner: inner.into_strategy(),
            kind,
            max: Duration::MAX,
            seed: None,
        }
    }

    /// No delay above `max` (the inner delay is clamped before jitter is applied).
    pub fn with_max(mut self, max: Duration) -> Self {
        self.max = max;
        self
    }

    /// Makes the sequences reproducible.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The delays one wait with this `salt` would use, as an iterator.
    pub fn iter(&self, salt: u64) -> Delays {
        self.delays(salt)
    }
}

impl IntervalStrategy for Jitter {
    fn delays(&self, salt: u64) -> Delays {
        let mut rng = SplitMix::new(wait_seed(self.seed, salt));
        let kind = self.kind;
        let max = self.max;
        Box::new(self.inner.delays(salt).map(move |d| {
            let d = d.min(max);
            match kind {
                JitterKind::Full => rng.between(Duration::ZERO, d),
                JitterKind::Equal => {
                    let half = d / 2;
                    rng.between(half, d)
                }
            }
        }))
    }

    fn describe(&self) -> String {
        format!(
            "{:?} jitter (max {:?}) over {}",
            self.kind,
            self.max,
            self.inner.describe()
        )
    }
}

/// "Decorrelated jitter": each delay uniform between `base` and three times the
/// previous delay, never above `max`, forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decorrelated {
    base: Duration,
    max: Duration,
    seed: Option<u64>,
}

impl Decorrelated {
    /// Delays between `base` and `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Decorrelated {
            base: base.min(max),
            max,
            seed: None,
        }
    }

    /// Makes the sequences reproducible.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
}

impl IntervalStrategy for Decorrelated {
    fn delays(&self, salt: u64) -> Delays {
        let mut rng = SplitMix::new(wait_seed(self.seed, salt));
        let (base, max) = (self.base, self.max);
        let mut previous = base;
        Box::new(std::iter::from_fn(move || {
            let hi = previous.saturating_mul(3).min(max);
            let d = rng.between(base, hi).min(max);
            previous = d;
            Some(d)
        }))
    }

    fn describe(&self) -> String {
        format!("decorrelated jitter {:?}..{:?}", self.base, self.max)
    }
}
