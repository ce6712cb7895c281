//! Strategy properties and bridges.

mod common;

use std::time::Duration;

use common::{poller, run, secs};
use proptest::prelude::*;
use taskpoll::TaskSource;
use taskpoll::strategy::{Decorrelated, Exponential, Fixed, IntervalStrategy, Jitter, Schedule};
use taskpoll::testing::{ScriptError, ScriptFailure, ScriptStatus, ScriptedSource, Step};

proptest! {
    #[test]
    fn full_jitter_never_exceeds_the_inner_delay_or_the_max(
        initial_ms in 0u64..10_000, factor in 1.0f64..4.0, cap_ms in 1u64..120_000,
        max_ms in 1u64..200_000, seed: u64, salt: u64,
    ) {
        let inner = Exponential::new(Duration::from_millis(initial_ms), factor, Duration::from_millis(cap_ms));
        let jitter = Jitter::full(inner).with_max(Duration::from_millis(max_ms)).with_seed(seed);
        for (d, bound) in jitter.delays(salt).zip(inner).take(50) {
            prop_assert!(d <= bound.min(Duration::from_millis(max_ms)));
        }
    }

    #[test]
    fn equal_jitter_stays_in_the_upper_half(
        initial_ms in 0u64..10_000, factor in 1.0f64..4.0, cap_ms in 1u64..120_000,
        max_ms in 1u64..200_000, seed: u64, salt: u64,
    ) {
        let inner = Exponential::new(Duration::from_millis(initial_ms), factor, Duration::from_millis(cap_ms));
        let max = Duration::from_millis(max_ms);
        let jitter = Jitter::equal(inner).with_max(max).with_seed(seed);
        for (d, bound) in jitter.delays(salt).zip(inner).take(50) {
            let b = bound.min(max);
            prop_assert!(d <= b && d >= b / 2, "{d:?} outside [{:?}, {b:?}]", b / 2);
        }
    }

    #[test]
    fn decorrelated_jitter_stays_between_base_and_max(
        base_ms in 0u64..5_000, max_ms in 1u64..100_000, seed: u64, salt: u64,
    ) {
        let base = Duration::from_millis(base_ms);
        let max = Duration::from_millis(max_ms);
        for d in Decorrelated::new(base, max).with_seed(seed).delays(salt).take(50) {
            prop_assert!(d <= max && d >= base.min(max));
        }
    }

    #[test]
    fn exponential_is_monotonic_and_capped(initial_ms in 0u64..10_000, factor in 0.0f64..10.0, cap_ms in 0u64..100_000) {
        let cap = Duration::from_millis(cap_ms);
        let delays: Vec<Duration> = Exponential::new(Duration::from_millis(initial_ms), factor, cap).take(40).collect();
        prop_assert!(delays.windows(2).all(|w| w[0] <= w[1]));
        prop_assert!(delays.iter().all(|d| *d <= cap));
    }
}

#[test]
fn seeded_jitter_is_reproducible_and_waits_differ() {
    let j = Jitter::full(Fixed::new(secs(10))).with_seed(1);
    let a: Vec<_> = j.delays(0).take(10).collect();
    let b: Vec<_> = j.delays(0).take(10).collect();
    let c: Vec<_> = j.delays(1).take(10).collect();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn unseeded_jitter_differs_between_waits() {
    let j = Jitter::full(Fixed::new(secs(1000)));
    let a: Vec<_> = j.delays(0).take(5).collect();
    let b: Vec<_> = j.delays(0).take(5).collect();
    assert_ne!(a, b);
}

#[test]
fn schedule_ends_unless_it_repeats() {
    let s = Schedule::new([secs(1), secs(2)]);
    assert_eq!(s.clone().collect::<Vec<_>>(), [secs(1), secs(2)]);
    assert_eq!(
        s.repeat_last().take(4).collect::<Vec<_>>(),
        [secs(1), secs(2), secs(2), secs(2)]
    );
}

#[tokio::test(start_paused = true)]
async fn backon_builders_plug_in_without_glue() {
    // backon's defaults: 1 s doubling, no jitter, at most 3 retries.
    let p =
        poller([Step::running()]).configure(|p| p.interval(backon::ExponentialBuilder::default()));
    let (result, at) = run(&p).await;
    assert_eq!(at, [0, 1, 3, 7].map(secs).to_vec());
    assert_eq!(result.unwrap_err().kind(), taskpoll::ErrorKind::Exhausted);

    let p = poller([Step::running().times(2), Step::succeed("ok")])
        .configure(|p| p.interval(backon::ConstantBuilder::default().with_delay(secs(2))));
    let (result, at) = run(&p).await;
    assert_eq!(result.unwrap(), "ok");
    assert_eq!(at, [0, 2, 4].map(secs).to_vec());
}

#[cfg(feature = "backoff")]
#[allow(deprecated)] // the bridge is deprecated (RUSTSEC-2025-0012) but still tested
#[tokio::test(start_paused = true)]
async fn the_backoff_crate_bridges() {
    let b = backoff::ExponentialBackoffBuilder::new()
        .with_initial_interval(secs(1))
        .with_multiplier(2.0)
        .with_randomization_factor(0.0)
        .with_max_elapsed_time(None)
        .build();
    let p = poller([Step::running().times(3), Step::succeed("ok")])
        .configure(|p| p.interval(taskpoll::strategy::from_backoff(b)));
    let (result, at) = run(&p).await;
    assert_eq!(result.unwrap(), "ok");
    assert_eq!(at, [0, 1, 3, 7].map(secs).to_vec());
}

#[test]
fn task_source_is_object_safe() {
    let boxed: Box<
        dyn TaskSource<
                Id = String,
                Status = ScriptStatus,
                Output = String,
                Partial = String,
                Failure = ScriptFailure,
                Error = ScriptError,
            >,
    > = Box::new(ScriptedSource::new());
    assert_eq!(boxed.name(), "scripted");
}
