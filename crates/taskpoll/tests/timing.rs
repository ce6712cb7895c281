//! Exact poll instants under a paused clock: strategies, deadlines, Retry-After, retries.

mod common;

use std::time::Duration;

use common::{ms, poller, run, secs};
use taskpoll::strategy::{Decorrelated, Exponential, Fixed, IntervalStrategy, Jitter, Schedule};
use taskpoll::testing::Step;
use taskpoll::{
    ErrorKind, ExhaustedReason, FetchGiveUp, PhaseKind, RetryPolicy, VisibilityGrace, WaitError,
};

fn offsets(ss: &[u64]) -> Vec<Duration> {
    ss.iter().map(|s| secs(*s)).collect()
}

#[tokio::test(start_paused = true)]
async fn fixed_interval_polls_at_once_then_every_interval() {
    let p = poller([
        Step::pending(),
        Step::running().times(2),
        Step::succeed("ok"),
    ])
    .configure(|p| p.interval(Fixed::new(secs(2))));
    let (result, at) = run(&p).await;
    assert_eq!(result.unwrap(), "ok");
    assert_eq!(at, offsets(&[0, 2, 4, 6]));
}

#[tokio::test(start_paused = true)]
async fn exponential_grows_and_caps() {
    let p = poller([Step::running().times(5), Step::succeed("ok")])
        .configure(|p| p.interval(Exponential::new(secs(1), 2.0, secs(5))));
    let (result, at) = run(&p).await;
    assert_eq!(result.unwrap(), "ok");
    assert_eq!(at, offsets(&[0, 1, 3, 7, 12, 17]));
}

#[tokio::test(start_paused = true)]
async fn exponential_with_fractional_factor() {
    let p = poller([Step::running().times(4), Step::succeed("ok")])
        .configure(|p| p.interval(Exponential::new(ms(500), 1.5, secs(10))));
    let (_, at) = run(&p).await;
    // Delays 0.5, 0.75, 1.125, 1.6875 s; tokio's timer rounds a deadline up to the
    // next millisecond, so the last poll is at 4.063 s rather than 4.0625 s.
    let expected = [0, 500, 1250, 2375, 4063].map(ms);
    assert_eq!(at, expected.to_vec());
}

#[tokio::test(start_paused = true)]
async fn initial_delay_comes_first() {
    let p = poller([Step::running().times(2), Step::succeed("ok")])
        .configure(|p| p.initial_delay(secs(3)));
    let (_, at) = run(&p).await;
    assert_eq!(at, offsets(&[3, 4, 5]));
}

#[tokio::test(start_paused = true)]
async fn schedule_then_exhausted() {
    let p = poller([Step::running()])
        .configure(|p| p.interval(Schedule::new([secs(1), secs(2), secs(3)])));
    let (result, at) = run(&p).await;
    assert_eq!(at, offsets(&[0, 1, 3, 6]));
    match result.unwrap_err() {
        WaitError::Exhausted {
            reason,
            polls,
            elapsed,
            last_phase,
            ..
        } => {
            assert_eq!(reason, ExhaustedReason::StrategyEnded);
            assert_eq!(polls, 4);
            assert_eq!(elapsed, secs(6));
            assert_eq!(last_phase.unwrap().kind, PhaseKind::Running);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn schedule_repeat_last_keeps_going() {
    let p = poller([Step::running().times(4), Step::succeed("ok")])
        .configure(|p| p.interval(Schedule::new([secs(1), secs(2)]).repeat_last()));
    let (result, at) = run(&p).await;
    assert!(result.is_ok());
    assert_eq!(at, offsets(&[0, 1, 3, 5, 7]));
}

#[tokio::test(start_paused = true)]
async fn any_cloneable_iterator_is_a_strategy() {
    let p = poller([Step::running()]).configure(|p| p.interval(std::iter::repeat_n(ms(250), 2)));
    let (result, at) = run(&p).await;
    assert_eq!(at, [0, 250, 500].map(ms).to_vec());
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Exhausted);
}

#[tokio::test(start_paused = true)]
async fn seeded_jitter_polls_exactly_where_its_delays_say() {
    let jitter = Jitter::full(Exponential::new(secs(1), 2.0, secs(8))).with_seed(42);
    let expected: Vec<Duration> = std::iter::once(Duration::ZERO)
        .chain(jitter.delays(0).take(5).scan(Duration::ZERO, |acc, d| {
            *acc += d;
            Some(*acc)
        }))
        .collect();
    let p =
        poller([Step::running().times(5), Step::succeed("ok")]).configure(|p| p.interval(jitter));
    let (_, at) = run(&p).await;
    assert_eq!(at, expected);
    // Full jitter never exceeds the inner delays (1, 2, 4, 8, 8 s).
    let inner = [1, 2, 4, 8, 8];
    for (w, cap) in at.windows(2).zip(inner) {
        assert!(w[1] - w[0] <= secs(cap));
    }
}

#[tokio::test(start_paused = true)]
async fn decorrelated_jitter_stays_between_base_and_max() {
    let strategy = Decorrelated::new(ms(500), secs(4)).with_seed(7);
    let expected: Vec<Duration> = strategy.delays(0).take(6).collect();
    let p =
        poller([Step::running().times(6), Step::succeed("ok")]).configure(|p| p.interval(strategy));
    let (_, at) = run(&p).await;
    let gaps: Vec<Duration> = at.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps, expected);
    assert!(gaps.iter().all(|g| *g >= ms(500) && *g <= secs(4)));
}

#[tokio::test(start_paused = true)]
async fn deadline_has_a_final_poll_then_times_out() {
    let p =
        poller([Step::running()]).configure(|p| p.interval(Fixed::new(secs(5))).deadline(secs(12)));
    let (result, at) = run(&p).await;
    assert_eq!(at, offsets(&[0, 5, 10, 12]));
    match result.unwrap_err() {
        WaitError::TimedOut {
            elapsed,
            polls,
            last_phase,
            ..
        } => {
            assert_eq!(elapsed, secs(12));
            assert_eq!(polls, 4);
            let last = last_phase.unwrap();
            assert_eq!(last.kind, PhaseKind::Running);
            assert_eq!(last.status, "running");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn task_done_exactly_at_the_deadline_is_a_success() {
    let p = poller([Step::running().times(3), Step::succeed("just in time")])
        .configure(|p| p.interval(Fixed::new(secs(5))).deadline(secs(12)));
    let (result, at) = run(&p).await;
    assert_eq!(at, offsets(&[0, 5, 10, 12]));
    assert_eq!(result.unwrap(), "just in time");
}

#[tokio::test(start_paused = true)]
async fn sleeps_never_pass_the_deadline() {
    let p = poller([Step::running()])
        .configure(|p| p.interval(Fixed::new(secs(100))).deadline(secs(30)));
    let (result, at) = run(&p).await;
    assert_eq!(at, offsets(&[0, 30]));
    assert_eq!(result.unwrap_err().elapsed(), secs(30));
}

#[tokio::test(start_paused = true)]
async fn initial_delay_past_the_deadline_polls_once_at_the_deadline() {
    let p =
        poller([Step::succeed("ok")]).configure(|p| p.initial_delay(secs(90)).deadline(secs(60)));
    let (result, at) = run(&p).await;
    assert_eq!(at, offsets(&[60]));
    assert_eq!(result.unwrap(), "ok");
}

#[tokio::test(start_paused = true)]
async fn a_fetch_in_flight_at_the_deadline_is_cut_off_then_the_final_poll_is_made() {
    let p = poller([
        Step::running().latency(secs(100)),
        Step::succeed("finished meanwhile"),
    ])
    .configure(|p| p.interval(Fixed::new(secs(1))).deadline(secs(5)));
    let (result, at) = run(&p).await;
    assert_eq!(at, offsets(&[0, 5]));
    assert_eq!(result.unwrap(), "finished meanwhile");
}

#[tokio::test(start_paused = true)]
async fn a_slow_final_poll_is_cut_off_too() {
    let p = poller([Step::running().latency(secs(100))])
        .configure(|p| p.deadline(secs(5)).final_poll_timeout(secs(2)));
    let start = tokio::time::Instant::now();
    let (result, at) = run(&p).await;
    assert_eq!(at, offsets(&[0, 5]));
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(err.elapsed(), secs(7));
    assert_eq!(start.elapsed(), secs(7));
}

#[tokio::test(start_paused = true)]
async fn retry_after_raises_the_next_delay() {
    let p = poller([Step::retry_after(secs(5)), Step::succeed("ok")])
        .configure(|p| p.interval(Fixed::new(secs(1))));
    let (result, at) = run(&p).await;
    assert_eq!(result.unwrap(), "ok");
    assert_eq!(at, offsets(&[0, 5]));
}

#[tokio::test(start_paused = true)]
async fn retry_after_never_lowers_the_delay() {
    let p = poller([Step::retry_after(secs(2)), Step::succeed("ok")])
        .configure(|p| p.interval(Fixed::new(secs(10))));
    let (_, at) = run(&p).await;
    assert_eq!(at, offsets(&[0, 10]));
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_clamped_by_the_ceiling() {
    let p = poller([Step::retry_after(secs(100)), Step::succeed("ok")])
        .configure(|p| p.interval(Fixed::new(secs(1))).retry_after_ceiling(secs(3)));
    let (_, at) = run(&p).await;
    assert_eq!(at, offsets(&[0, 3]));
}

#[tokio::test(start_paused = true)]
async fn retry_after_past_the_deadline_ends_the_wait_without_asking_early() {
    let p = poller([Step::retry_after(secs(30)), Step::succeed("ok")])
        .configure(|p| p.deadline(secs(10)));
    let (result, at) = run(&p).await;
    assert_eq!(at, offsets(&[0]));
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(err.polls(), 1);
}

#[tokio::test(start_paused = true)]
async fn transient_errors_are_retried() {
    let p = poller([Step::transient("503").times(3), Step::succeed("ok")]);
    let (result, at) = run(&p).await;
    assert_eq!(result.unwrap(), "ok");
    assert_eq!(at, offsets(&[0, 1, 2, 3]));
}

#[tokio::test(start_paused = true)]
async fn a_success_resets_the_consecutive_count() {
    let p = poller([
        Step::transient("503").times(2),
        Step::running(),
        Step::transient("503").times(2),
        Step::succeed("ok"),
    ])
    .configure(|p| p.transient(RetryPolicy::consecutive(2)));
    let (result, _) = run(&p).await;
    assert_eq!(result.unwrap(), "ok");
}

#[tokio::test(start_paused = true)]
async fn too_many_transient_errors_end_the_wait() {
    let p =
        poller([Step::transient("503")]).configure(|p| p.transient(RetryPolicy::consecutive(2)));
    let (result, at) = run(&p).await;
    assert_eq!(at, offsets(&[0, 1, 2]));
    match result.unwrap_err() {
        WaitError::Fetch { give_up, polls, .. } => {
            assert_eq!(give_up, FetchGiveUp::RetriesExhausted { consecutive: 3 });
            assert_eq!(polls, 3);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn transient_errors_are_bounded_by_time_too() {
    let p = poller([Step::transient("503")])
        .configure(|p| p.transient(RetryPolicy::for_duration(secs(3))));
    let (result, at) = run(&p).await;
    assert_eq!(at, offsets(&[0, 1, 2, 3, 4]));
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Fetch);
}

#[tokio::test(start_paused = true)]
async fn a_permanent_error_ends_the_wait_after_one_poll() {
    let p = poller([Step::permanent("401 unauthorized"), Step::succeed("never")]);
    let (result, at) = run(&p).await;
    assert_eq!(at, offsets(&[0]));
    match result.unwrap_err() {
        WaitError::Fetch { give_up, polls, .. } => {
            assert_eq!(give_up, FetchGiveUp::Permanent);
            assert_eq!(polls, 1);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_failed_task_ends_the_wait_with_its_failure() {
    let p = poller([
        Step::running(),
        Step::fail("export failed: channel missing"),
    ]);
    let (result, at) = run(&p).await;
    assert_eq!(at, offsets(&[0, 1]));
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    assert_eq!(err.failure().unwrap().0, "export failed: channel missing");
}

#[tokio::test(start_paused = true)]
async fn not_yet_visible_is_tolerated_within_the_grace_count() {
    let p = poller([Step::not_found().times(3), Step::succeed("ok")])
        .configure(|p| p.visibility(VisibilityGrace::count(5)));
    let (result, at) = run(&p).await;
    assert_eq!(result.unwrap(), "ok");
    assert_eq!(at, offsets(&[0, 1, 2, 3]));
}

#[tokio::test(start_paused = true)]
async fn not_yet_visible_without_grace_ends_at_once() {
    let p = poller([Step::not_found(), Step::succeed("ok")]);
    let (result, _) = run(&p).await;
    match result.unwrap_err() {
        WaitError::Fetch { give_up, .. } => {
            assert_eq!(give_up, FetchGiveUp::NotVisible { count: 1 })
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn not_yet_visible_past_the_grace_window_ends_the_wait() {
    let p = poller([Step::not_found()])
        .configure(|p| p.visibility(VisibilityGrace::for_duration(secs(2))));
    let (result, at) = run(&p).await;
    assert_eq!(at, offsets(&[0, 1, 2, 3]));
    match result.unwrap_err() {
        WaitError::Fetch { give_up, .. } => {
            assert_eq!(give_up, FetchGiveUp::NotVisible { count: 4 })
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn max_attempts_limits_the_polls() {
    let p = poller([Step::running()]).configure(|p| p.max_attempts(3));
    let (result, at) = run(&p).await;
    assert_eq!(at, offsets(&[0, 1, 2]));
    match result.unwrap_err() {
        WaitError::Exhausted { reason, .. } => assert_eq!(reason, ExhaustedReason::MaxAttempts(3)),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn no_deadline_waits_as_long_as_it_takes() {
    let p = poller([Step::running().times(100), Step::succeed("ok")])
        .configure(|p| p.no_deadline().interval(Fixed::new(secs(60))));
    let (result, at) = run(&p).await;
    assert_eq!(result.unwrap(), "ok");
    assert_eq!(at.last().copied(), Some(secs(6000)));
}

#[tokio::test(start_paused = true)]
async fn waits_on_one_poller_run_concurrently() {
    let p = poller([]);
    for i in 0..3u64 {
        p.source().script(
            format!("t{i}"),
            [
                Step::running().times(i as u32 + 1),
                Step::succeed(format!("out{i}")),
            ],
        );
    }
    let start = tokio::time::Instant::now();
    let (a, b, c) = tokio::join!(
        p.wait("t0".into()),
        p.wait("t1".into()),
        p.wait("t2".into())
    );
    assert_eq!(
        (a.unwrap(), b.unwrap(), c.unwrap()),
        ("out0".into(), "out1".into(), "out2".into())
    );
    assert_eq!(start.elapsed(), secs(3));
}

#[tokio::test(start_paused = true)]
async fn outcome_reports_polls_and_elapsed_on_success() {
    let p = poller([Step::running().times(2), Step::succeed("ok")]);
    let outcome = p.watch("t".into()).outcome().await;
    assert_eq!(outcome.polls, 3);
    assert_eq!(outcome.elapsed, secs(2));
    assert_eq!(outcome.id, "t");
}
