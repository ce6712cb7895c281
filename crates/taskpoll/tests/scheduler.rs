//! One scheduler for every wait: pollers, lone waits, watches and groups made from one
//! scheduler share its budget, its batching and its pause after a 429.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{ms, secs};
use futures_util::StreamExt;
use taskpoll::strategy::Fixed;
use taskpoll::testing::{ScriptedSource, Step};
use taskpoll::{
    Budget, PollPolicy, Poller, Scheduler, SchedulerBuilder, SchedulerCell, TaskSource, Update,
};
use tokio::time::Instant;

fn source() -> ScriptedSource {
    ScriptedSource::new()
        .with_policy(PollPolicy::with_strategy(Fixed::new(secs(1))).deadline(secs(600)))
}

/// At most `limit` of `instants` in any window of `window`.
fn most_in_any_window(instants: &[Instant], window: Duration) -> usize {
    let mut all = instants.to_vec();
    all.sort();
    (0..all.len())
        .map(|i| {
            all[i..]
                .iter()
                .take_while(|u| u.duration_since(all[i]) < window)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test(start_paused = true)]
async fn two_pollers_of_one_scheduler_share_one_budget() {
    let s = source();
    for i in 0..10 {
        s.script(
            format!("a{i}"),
            [Step::running().times(5), Step::succeed("ok")],
        );
        s.script(
            format!("b{i}"),
            [Step::running().times(5), Step::succeed("ok")],
        );
    }
    let scheduler = Scheduler::builder(s)
        .budget(Budget::default().per_minute(20))
        .build();
    // Two pollers with their own policies, each running lone waits: each alone could
    // send 20 requests a minute, together they may not.
    let short = scheduler.poller().configure(|p| p.deadline(secs(3600)));
    let long = scheduler.poller().configure(|p| p.deadline(secs(7200)));
    let waits = (0..10).flat_map(|i| {
        let (short, long) = (short.clone(), long.clone());
        [
            tokio::spawn(async move { short.wait(format!("a{i}")).await }),
            tokio::spawn(async move { long.wait(format!("b{i}")).await }),
        ]
    });
    let waits: Vec<_> = waits.collect();
    for w in waits {
        assert_eq!(w.await.unwrap().unwrap(), "ok");
    }
    let all: Vec<Instant> = (0..10)
        .flat_map(|i| {
            let mut p = scheduler.source().polls(&format!("a{i}"));
            p.extend(scheduler.source().polls(&format!("b{i}")));
            p
        })
        .collect();
    assert_eq!(all.len(), 120);
    assert_eq!(most_in_any_window(&all, secs(60)), 20);
}

#[tokio::test(start_paused = true)]
async fn a_429_to_one_lone_wait_pauses_the_others() {
    let s = source();
    s.script(
        "limited",
        [Step::rate_limited(Some(secs(5))), Step::succeed("ok")],
    );
    s.script("other", [Step::running().times(10), Step::succeed("ok")]);
    let scheduler = Scheduler::new(s);
    let start = Instant::now();
    let (first, second) = (scheduler.poller(), scheduler.poller());
    let (a, b) = tokio::join!(first.wait("limited".into()), second.wait("other".into()));
    assert!(a.is_ok() && b.is_ok());
    let other = scheduler.source().poll_offsets("other", start);
    // Polled at 0 s, then not before the pause ends at 5 s.
    assert_eq!(&other[..2], &[secs(0), secs(5)]);
}

#[tokio::test(start_paused = true)]
async fn lone_waits_of_a_batch_scheduler_are_fetched_together() {
    let s = source().with_max_batch(50);
    for i in 0..40 {
        s.script(
            format!("t{i}"),
            [Step::running().times(2), Step::succeed("ok")],
        );
    }
    let scheduler = Scheduler::builder(s).batched(ms(100), None).build();
    let poller = scheduler.poller();
    let waits: Vec<_> = (0..40)
        .map(|i| {
            let p = poller.clone();
            tokio::spawn(async move { p.wait(format!("t{i}")).await })
        })
        .collect();
    for w in waits {
        assert_eq!(w.await.unwrap().unwrap(), "ok");
    }
    // 40 waits, 3 polls each, in 3 requests.
    let sizes: Vec<usize> = scheduler.source().batches().iter().map(Vec::len).collect();
    assert_eq!(sizes, [40, 40, 40]);
}

#[tokio::test(start_paused = true)]
async fn a_group_streams_every_wait_s_updates() {
    let s = source();
    s.script(
        "video",
        [
            Step::running_with(None, ["r0"]),
            Step::running_with(None, ["r0", "r1"]),
            Step::succeed("done"),
        ],
    );
    s.script("image", [Step::pending(), Step::succeed("img")]);
    let p = Poller::new(s);
    let updates: Vec<(String, Update<ScriptedSource>)> = p
        .wait_all(["video".to_string(), "image".to_string()])
        .collect()
        .await;
    let seen: Vec<String> = updates
        .iter()
        .map(|(id, u)| match u {
            Update::Polled { attempt, phase, .. } => format!("{id} poll {attempt} {}", phase.kind),
            Update::Partial { index, result } => format!("{id} partial {index} {result}"),
            Update::Retrying { .. } => format!("{id} retry"),
            Update::Finished(o) => format!("{id} finished {}", o.result.is_ok()),
            _ => format!("{id} other"),
        })
        .collect();
    assert_eq!(
        seen,
        [
            "video poll 1 running",
            "video partial 0 r0",
            "image poll 1 pending",
            "video poll 2 running",
            "video partial 1 r1",
            "image poll 2 succeeded",
            "image finished true",
            "video poll 3 succeeded",
            "video finished true",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn waits_join_a_running_group_from_a_handle() {
    let s = source();
    s.script("first", [Step::running().times(3), Step::succeed("first")]);
    s.script("later", [Step::running(), Step::succeed("later")]);
    let p = Poller::new(s);
    let mut group = p.wait_all(["first".to_string()]).outcomes();
    let handle = group.group().handle();
    let start = Instant::now();
    let adder = tokio::spawn(async move {
        tokio::time::sleep(ms(1500)).await;
        handle.add("later".into());
        // Dropping the handle lets the group end once its waits are done.
    });
    let mut ends = Vec::new();
    while let Some(o) = group.next().await {
        ends.push((o.id, start.elapsed()));
    }
    adder.await.unwrap();
    assert_eq!(
        ends,
        [("later".into(), ms(2500)), ("first".into(), secs(3))]
    );
}

#[tokio::test(start_paused = true)]
async fn a_group_with_a_live_handle_waits_for_more() {
    let s = source();
    s.script("only", [Step::succeed("only")]);
    let p = Poller::new(s);
    let mut group = p.wait_all(["only".to_string()]).outcomes();
    let handle = group.group().handle();
    assert_eq!(group.next().await.unwrap().id, "only");
    // Every wait is done, but the handle may still add one: the stream stays open.
    let open = tokio::time::timeout(secs(30), group.next()).await;
    assert!(open.is_err(), "the stream ended with a handle alive");
    drop(handle);
    assert!(group.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn the_scheduler_stops_with_its_last_handle() {
    let s = source();
    s.script("t", [Step::running().times(2), Step::succeed("ok")]);
    let shared = Arc::new(s);
    let scheduler = SchedulerBuilder::new(Arc::clone(&shared)).build();
    let poller = scheduler.poller();
    assert_eq!(poller.wait("t".into()).await.unwrap(), "ok");
    // The task holds the source while it runs.
    assert!(Arc::strong_count(&shared) > 1);
    drop(scheduler);
    drop(poller);
    // Let the task see that nobody is left.
    tokio::task::yield_now().await;
    tokio::task::yield_now().await;
    assert_eq!(Arc::strong_count(&shared), 1, "the scheduler's task ended");
}

#[tokio::test(start_paused = true)]
async fn a_cell_hands_out_one_scheduler_while_it_lives() {
    let cell: SchedulerCell<ScriptedSource> = SchedulerCell::new();
    let made = std::sync::atomic::AtomicUsize::new(0);
    let make = || {
        made.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Scheduler::new(source())
    };
    let a = cell.get_or_init(make);
    let b = cell.get_or_init(make);
    assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 1);
    drop((a, b));
    let _c = cell.get_or_init(make);
    assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn boxed_and_shared_sources_can_be_polled() {
    type Dyn = dyn TaskSource<
            Id = String,
            Status = taskpoll::testing::ScriptStatus,
            Output = String,
            Partial = String,
            Failure = taskpoll::testing::ScriptFailure,
            Error = taskpoll::testing::ScriptError,
        >;
    let s = source();
    s.script("t", [Step::running(), Step::succeed("boxed")]);
    let boxed: Box<Dyn> = Box::new(s);
    assert_eq!(Poller::new(boxed).wait("t".into()).await.unwrap(), "boxed");

    let s = source();
    s.script("t", [Step::succeed("shared")]);
    let shared = Arc::new(s);
    assert_eq!(
        Poller::new(Arc::clone(&shared))
            .wait("t".into())
            .await
            .unwrap(),
        "shared"
    );
    assert_eq!(shared.total_polls(), 1);
}

#[test]
fn a_wait_outlives_the_runtime_its_scheduler_ran_on() {
    let rt = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    };
    let s = ScriptedSource::new()
        .with_policy(PollPolicy::with_strategy(Fixed::new(ms(20))).deadline(secs(30)));
    s.script("t", [Step::running().times(4), Step::succeed("ok")]);
    let poller = Poller::new(s);
    // The first runtime starts the scheduler, polls a little, and shuts down.
    let mut watch = poller.watch("t".into());
    let first = rt().block_on(async {
        let mut polled = 0;
        while let Some(update) = watch.next().await {
            if matches!(update, Update::Polled { .. }) {
                polled += 1;
                if polled == 2 {
                    break;
                }
            }
        }
        polled
    });
    assert_eq!(first, 2);
    // The same watch, on another runtime: the wait resumes where it was, not anew.
    let outcome = rt().block_on(watch.outcome());
    assert_eq!(outcome.result.unwrap(), "ok");
    assert_eq!(outcome.polls, 5);
    assert_eq!(poller.source().total_polls(), 5);
}
