//! Many waits at once: one scheduler, batching, the shared budget, checkpoints.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{ms, secs};
use futures_util::StreamExt;
use taskpoll::strategy::Fixed;
use taskpoll::testing::{ScriptedSource, Step};
use taskpoll::{Budget, ErrorKind, Outcome, PollPolicy, Poller, RateLimitHint, Scheduler, Update};
use tokio::time::Instant;

fn source() -> ScriptedSource {
    ScriptedSource::new()
        .with_policy(PollPolicy::with_strategy(Fixed::new(secs(1))).deadline(secs(60)))
}

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("t{i}")).collect()
}

async fn collect(group: taskpoll::WaitAll<ScriptedSource>) -> Vec<Outcome<ScriptedSource>> {
    group.outcomes().collect().await
}

/// A poller on a scheduler that fetches due waits together (100 ms window).
fn batched(s: ScriptedSource) -> Poller<ScriptedSource> {
    Scheduler::builder(s)
        .batched(ms(100), None)
        .build()
        .poller()
}

/// A poller on a scheduler with these limits.
fn budgeted(s: ScriptedSource, budget: Budget) -> Poller<ScriptedSource> {
    Scheduler::builder(s).budget(budget).build().poller()
}

#[tokio::test(start_paused = true)]
async fn outcomes_come_out_as_tasks_finish() {
    let s = source();
    s.script("a", [Step::running().times(4), Step::succeed("a")]);
    s.script("b", [Step::running(), Step::fail("b broke")]);
    s.script("c", [Step::succeed("c")]);
    let p = Poller::new(s);
    let start = Instant::now();
    let order: Vec<(String, Duration)> = collect(p.wait_all(["a".into(), "b".into(), "c".into()]))
        .await
        .into_iter()
        .map(|o| (o.id, o.elapsed))
        .collect();
    assert_eq!(
        order,
        [
            ("c".into(), secs(0)),
            ("b".into(), secs(1)),
            ("a".into(), secs(4))
        ]
    );
    assert_eq!(start.elapsed(), secs(4));
}

#[tokio::test(start_paused = true)]
async fn each_wait_keeps_its_own_deadline() {
    let s = source();
    for id in ids(3) {
        s.script(id, [Step::running()]);
    }
    let p = Poller::new(s).configure(|p| p.deadline(secs(10)));
    let outcomes = collect(p.wait_all(ids(3))).await;
    assert_eq!(outcomes.len(), 3);
    for o in outcomes {
        let err = o.result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert_eq!(err.elapsed(), secs(10));
        // 0..=9 s, then the final poll at 10 s.
        assert_eq!(o.polls, 11);
    }
}

#[tokio::test(start_paused = true)]
async fn batch_sources_are_polled_one_request_per_due_batch() {
    let s = source().with_max_batch(4);
    for id in ids(10) {
        s.script(id, [Step::running().times(2), Step::succeed("ok")]);
    }
    let p = batched(s);
    let outcomes = collect(p.wait_all(ids(10))).await;
    assert!(outcomes.iter().all(|o| o.result.is_ok()));
    let sizes: Vec<usize> = p.source().batches().iter().map(Vec::len).collect();
    // Three rounds of 10 waits in batches of at most 4.
    assert_eq!(sizes, [4, 4, 2, 4, 4, 2, 4, 4, 2]);
}

#[tokio::test(start_paused = true)]
async fn waits_due_within_the_window_are_coalesced() {
    let s = source();
    s.script("early", [Step::running(), Step::succeed("ok")]);
    s.script("late", [Step::running(), Step::succeed("ok")]);
    let p = batched(s);
    let mut group = p.wait_all(["early".to_string()]).outcomes();
    // Start "late" 50 ms after "early": its polls fall due 50 ms later each round.
    let first = tokio::time::timeout(ms(50), group.next()).await;
    assert!(first.is_err());
    group.group().add("late".into());
    let start = Instant::now() - ms(50);
    let outcomes: Vec<_> = group.collect().await;
    assert_eq!(outcomes.len(), 2);
    // Round 1: "early" alone at 0 ms, "late" alone at 50 ms (added then), each with a
    // plain fetch; round 2: both in one batch at 1 s, the window taking "late" early.
    assert_eq!(
        p.source().batches(),
        [vec!["early".to_string(), "late".into()]]
    );
    assert_eq!(p.source().poll_offsets("early", start), [ms(0), secs(1)]);
    assert_eq!(p.source().poll_offsets("late", start), [ms(50), secs(1)]);
}

#[tokio::test(start_paused = true)]
async fn unanswered_ids_are_polled_again_not_failed() {
    let s = source();
    s.script("a", [Step::unanswered().times(2), Step::succeed("a")]);
    // "b" runs as long, so that "a" is always polled in a batch.
    s.script("b", [Step::running().times(2), Step::succeed("b")]);
    let p = batched(s);
    let updates: Vec<(String, Update<ScriptedSource>)> =
        p.wait_all(["a".into(), "b".into()]).collect().await;
    // "a" was left out of two batch answers: polled again each time, with no error
    // reported (an id the answer says nothing about is not a failed fetch).
    assert!(
        !updates
            .iter()
            .any(|(_, u)| matches!(u, Update::Retrying { .. })),
        "no retry reported"
    );
    let ends: Vec<(&str, bool)> = updates
        .iter()
        .filter_map(|(id, u)| match u {
            Update::Finished(o) => Some((id.as_str(), o.result.is_ok())),
            _ => None,
        })
        .collect();
    assert_eq!(ends, [("a", true), ("b", true)]);
    assert_eq!(p.source().polls("a").len(), 3);
    assert_eq!(p.source().batches().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn the_request_budget_is_never_exceeded_and_no_wait_starves() {
    let s = source();
    for id in ids(20) {
        s.script(id, [Step::running().times(3), Step::succeed("ok")]);
    }
    let p = budgeted(s, Budget::default().per_minute(30)).configure(|p| p.deadline(secs(3600)));
    let outcomes = collect(p.wait_all(ids(20))).await;
    assert_eq!(outcomes.len(), 20);
    assert!(
        outcomes.iter().all(|o| o.result.is_ok()),
        "every task completes"
    );
    // 80 requests at 30 per sliding minute.
    let mut all: Vec<Instant> = ids(20).iter().flat_map(|id| p.source().polls(id)).collect();
    all.sort();
    assert_eq!(all.len(), 80);
    for (i, t) in all.iter().enumerate() {
        let in_window = all[i..]
            .iter()
            .take_while(|u| u.duration_since(*t) < secs(60))
            .count();
        assert!(in_window <= 30, "{in_window} requests within a minute");
    }
}

#[tokio::test(start_paused = true)]
async fn requests_in_flight_are_limited() {
    let s = source();
    for id in ids(10) {
        s.script(id, [Step::succeed("ok").latency(secs(2))]);
    }
    let p = budgeted(s, Budget::default().in_flight(3));
    let start = Instant::now();
    let outcomes = collect(p.wait_all(ids(10))).await;
    assert_eq!(outcomes.len(), 10);
    assert_eq!(p.source().max_in_flight(), 3);
    // Four rounds of at most 3 requests, 2 s each.
    assert_eq!(start.elapsed(), secs(8));
}

#[tokio::test(start_paused = true)]
async fn a_429_pauses_the_whole_source() {
    let s = source();
    s.script(
        "limited",
        [Step::rate_limited(Some(secs(5))), Step::succeed("ok")],
    );
    s.script("other", [Step::running().times(10), Step::succeed("ok")]);
    let p = Poller::new(s);
    let start = Instant::now();
    let outcomes = collect(p.wait_all(["limited".into(), "other".into()])).await;
    assert!(outcomes.iter().all(|o| o.result.is_ok()));
    // "other" polled at 0 s, then not before the pause ends at 5 s.
    let other = p.source().poll_offsets("other", start);
    assert_eq!(&other[..2], &[secs(0), secs(5)]);
    assert_eq!(
        p.source().poll_offsets("limited", start),
        [secs(0), secs(5)]
    );
}

#[tokio::test(start_paused = true)]
async fn an_exhausted_rate_limit_hint_pauses_until_the_reset() {
    let s = source();
    s.script("a", [Step::running(), Step::succeed("ok")]);
    let reset = Instant::now() + secs(7);
    s.set_rate_limit(Some(RateLimitHint::new(0, reset)));
    let p = Poller::new(s);
    let start = Instant::now();
    let outcomes = collect(p.wait_all(["a".into()])).await;
    assert!(outcomes[0].result.is_ok());
    assert_eq!(p.source().poll_offsets("a", start), [secs(0), secs(7)]);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_group_stops_every_wait() {
    let s = source();
    for id in ids(5) {
        s.script(id, [Step::running()]);
    }
    let p = Poller::new(s);
    let group = p.wait_all(ids(5));
    let cut = tokio::time::timeout(ms(2500), collect(group)).await;
    assert!(cut.is_err());
    let made = p.source().total_polls();
    assert_eq!(made, 15);
    tokio::time::sleep(secs(600)).await;
    assert_eq!(p.source().total_polls(), made);
}

#[tokio::test(start_paused = true)]
async fn thousands_of_waits_on_one_scheduler() {
    let s = source();
    let n = 5_000;
    for (i, id) in ids(n).into_iter().enumerate() {
        s.script(
            id,
            [Step::running().times((i % 7) as u32), Step::succeed("ok")],
        );
    }
    let p = budgeted(s, Budget::unlimited());
    let start = Instant::now();
    let outcomes = collect(p.wait_all(ids(n))).await;
    assert_eq!(outcomes.len(), n);
    assert!(outcomes.iter().all(|o| o.result.is_ok()));
    assert_eq!(start.elapsed(), secs(6));
}

fn resume_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

#[test]
fn checkpoints_resume_in_another_runtime_with_the_original_deadline() {
    // First runtime: start three waits, let them poll a little, write them down.
    let (json, deadlines) = resume_runtime().block_on(async {
        let s = ScriptedSource::new()
            .with_policy(PollPolicy::with_strategy(Fixed::new(ms(20))).deadline(secs(30)));
        for id in ids(3) {
            s.script(id, [Step::running()]);
        }
        let p = Poller::new(s);
        let mut group = p.wait_all(ids(3)).outcomes();
        let still_running = tokio::time::timeout(ms(70), group.next()).await;
        assert!(still_running.is_err());
        let checkpoints = group.group().checkpoint().await;
        assert_eq!(checkpoints.len(), 3);
        assert!(
            checkpoints
                .iter()
                .all(|c| c.polls >= 3 && c.last_phase.is_some())
        );
        let deadlines: Vec<Option<u64>> = checkpoints.iter().map(|c| c.deadline_unix_ms).collect();
        (serde_json::to_string(&checkpoints).unwrap(), deadlines)
    });

    // Second runtime (as another process would): resume and finish.
    resume_runtime().block_on(async move {
        let checkpoints: Vec<taskpoll::WaitCheckpoint<String>> =
            serde_json::from_str(&json).unwrap();
        let s = ScriptedSource::new()
            .with_policy(PollPolicy::with_strategy(Fixed::new(ms(20))).deadline(secs(30)));
        for id in ids(3) {
            let done = format!("{id} done");
            s.script(id, [Step::running(), Step::succeed(done)]);
        }
        let p = Poller::new(s);
        let mut group = p.wait_all([]);
        for cp in checkpoints {
            group.resume(cp);
        }
        let again = group.checkpoint().await;
        let resumed: Vec<Option<u64>> = again.iter().map(|c| c.deadline_unix_ms).collect();
        assert_eq!(resumed, deadlines, "deadlines survive the round trip");
        let outcomes: Vec<_> = group.outcomes().collect().await;
        assert_eq!(outcomes.len(), 3);
        for o in outcomes {
            assert_eq!(o.result.unwrap(), format!("{} done", o.id));
            // Polls made before the checkpoint count too.
            assert!(o.polls >= 5, "{} polls", o.polls);
        }
    });
}

#[test]
fn a_resumed_wait_past_its_deadline_gets_its_final_poll_at_once() {
    let json = resume_runtime().block_on(async {
        let s = ScriptedSource::new()
            .with_policy(PollPolicy::with_strategy(Fixed::new(secs(1))).deadline(ms(50)));
        s.script("t", [Step::running()]);
        let p = Poller::new(s);
        let group = p.wait_all(["t".to_string()]);
        serde_json::to_string(&group.checkpoint().await).unwrap()
    });
    std::thread::sleep(Duration::from_millis(60));
    resume_runtime().block_on(async move {
        let s = ScriptedSource::new();
        s.script("t", [Step::running()]);
        let p = Poller::new(s);
        let checkpoints: Vec<taskpoll::WaitCheckpoint<String>> =
            serde_json::from_str(&json).unwrap();
        let mut group = p.wait_all([]);
        for cp in checkpoints {
            group.resume(cp);
        }
        let outcomes: Vec<_> = group.outcomes().collect().await;
        assert_eq!(
            outcomes[0].result.as_ref().unwrap_err().kind(),
            ErrorKind::TimedOut
        );
        assert_eq!(p.source().total_polls(), 1);
    });
}

#[tokio::test(start_paused = true)]
async fn a_pause_past_a_deadline_ends_that_wait_at_once() {
    let s = source();
    s.script(
        "limited",
        [Step::rate_limited(Some(secs(3600))), Step::succeed("ok")],
    );
    s.script("other", [Step::running()]);
    let p = Poller::new(s).configure(|p| p.deadline(secs(10)));
    let start = Instant::now();
    let outcomes = collect(p.wait_all(["limited".into(), "other".into()])).await;
    assert_eq!(outcomes.len(), 2);
    for o in &outcomes {
        let err = o.result.as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{}: {err}", o.id);
        assert!(
            o.elapsed <= secs(10),
            "{} waited {:?}, past its deadline",
            o.id,
            o.elapsed
        );
    }
    // "other" was polled at 0 s, and never during the pause.
    assert_eq!(p.source().poll_offsets("other", start), [secs(0)]);
    assert!(start.elapsed() <= secs(10));
}

#[tokio::test(start_paused = true)]
async fn a_pause_is_clamped_by_the_retry_after_ceiling() {
    let s = source();
    s.script(
        "limited",
        [Step::rate_limited(Some(secs(3600))), Step::succeed("ok")],
    );
    s.script("other", [Step::running().times(3), Step::succeed("ok")]);
    let p = Poller::new(s).configure(|p| p.deadline(secs(600)).retry_after_ceiling(secs(20)));
    let start = Instant::now();
    let outcomes = collect(p.wait_all(["limited".into(), "other".into()])).await;
    for o in &outcomes {
        assert!(
            o.result.is_ok(),
            "{}: {:?}",
            o.id,
            o.result.as_ref().err().map(ToString::to_string)
        );
    }
    assert_eq!(
        p.source().poll_offsets("limited", start),
        [secs(0), secs(20)]
    );
    assert_eq!(
        &p.source().poll_offsets("other", start)[..2],
        &[secs(0), secs(20)]
    );
}
