//! The watch stream: its sequence of updates, and that dropping it stops polling.

mod common;

use common::{poller, secs};
use futures_util::StreamExt;
use taskpoll::Update;
use taskpoll::testing::{ScriptedSource, Step};

/// One line per update, with every field that matters and nothing that varies.
fn describe(u: &Update<ScriptedSource>) -> String {
    match u {
        Update::Polled {
            attempt,
            elapsed,
            phase,
        } => {
            format!("polled   #{attempt} at {elapsed:?}: {phase}")
        }
        Update::Partial { index, result } => format!("partial  [{index}] {result}"),
        Update::Retrying {
            attempt,
            elapsed,
            error,
            class,
            delay,
        } => {
            format!(
                "retrying #{attempt} at {elapsed:?}: {error} ({class:?}); next poll in {delay:?}"
            )
        }
        Update::Finished(o) => format!(
            "finished after {} polls, {:?}: {}",
            o.polls,
            o.elapsed,
            match &o.result {
                Ok(out) => format!("ok {out}"),
                Err(e) => format!("{} error", e.kind()),
            }
        ),
        _ => "unknown update".into(),
    }
}

#[tokio::test(start_paused = true)]
async fn watch_reports_phases_partials_retries_and_the_outcome() {
    let p = poller([
        Step::pending(),
        Step::running_with(Some(20.0), ["clip-1"]),
        Step::transient("503 service unavailable"),
        Step::retry_after(secs(3)),
        Step::running_with(Some(60.0), ["clip-1", "clip-2", "clip-3"]),
        Step::unrecognized("rebalancing"),
        Step::succeed("clips: 4"),
    ]);
    let updates: Vec<String> = p.watch("t".into()).map(|u| describe(&u)).collect().await;
    insta::assert_snapshot!(updates.join("\n"));
}

#[tokio::test(start_paused = true)]
async fn watch_of_a_failing_task_ends_with_the_failure() {
    let p = poller([
        Step::running_with(None, ["a", "b"]),
        Step::fail("provider timeout"),
    ]);
    let updates: Vec<String> = p.watch("t".into()).map(|u| describe(&u)).collect().await;
    insta::assert_snapshot!(updates.join("\n"));
}

#[tokio::test(start_paused = true)]
async fn the_stream_ends_after_finished() {
    let p = poller([Step::succeed("ok")]);
    let mut w = p.watch("t".into());
    assert!(matches!(w.next().await, Some(Update::Polled { .. })));
    assert!(matches!(w.next().await, Some(Update::Finished(_))));
    assert!(w.next().await.is_none());
    assert!(w.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn nothing_is_fetched_before_the_stream_is_polled() {
    let p = poller([Step::succeed("ok")]);
    let w = p.watch("t".into());
    tokio::time::sleep(secs(10)).await;
    assert_eq!(p.source().total_polls(), 0);
    drop(w);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_stream_stops_polling() {
    let p = poller([Step::running()]);
    let mut w = p.watch("t".into());
    for _ in 0..3 {
        assert!(matches!(w.next().await, Some(Update::Polled { .. })));
    }
    assert_eq!(p.source().total_polls(), 3);
    drop(w);
    tokio::time::sleep(secs(600)).await;
    assert_eq!(p.source().total_polls(), 3);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_wait_future_stops_polling() {
    let p = poller([Step::running()]);
    let cut = tokio::time::timeout(secs(2) + common::ms(500), p.wait("t".into())).await;
    assert!(
        cut.is_err(),
        "the wait should still be running when dropped"
    );
    assert_eq!(p.source().total_polls(), 3);
    tokio::time::sleep(secs(600)).await;
    assert_eq!(p.source().total_polls(), 3);
}

#[tokio::test(start_paused = true)]
async fn dropping_during_a_slow_fetch_abandons_it() {
    let p = poller([Step::running().latency(secs(30))]);
    let handle = {
        let p = p.clone();
        tokio::spawn(async move { p.wait("t".into()).await })
    };
    tokio::time::sleep(secs(1)).await;
    handle.abort();
    assert!(handle.await.unwrap_err().is_cancelled());
    tokio::time::sleep(secs(600)).await;
    assert_eq!(p.source().total_polls(), 1);
}
