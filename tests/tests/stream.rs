//! Stream's own cases beyond the behavior suite, on its harness.
#![allow(clippy::unwrap_used, clippy::panic)]

use futures_util::StreamExt;
use serde_json::Value;
use taskpoll::WaitError;
use taskpoll_conformance::sims as common;
use taskpoll_conformance::stream::StreamHarness;
use taskpoll_sim::script::{ScriptOutcome, TaskScript};
use taskpoll_sim::stream::item_results;
use taskpoll_testkit::behavior::Harness;

/// Stream's own case: a delete task Stream reports `completed` whose per-item `result`
/// has a failed channel ends as a task failure naming it, in a group with clean tasks,
/// whichever way the wait is made; the clean delete succeeds with its items typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_delete_with_a_failed_item_is_a_failure_in_a_group() {
    let harness = StreamHarness::start().await;
    let script = |result: Value| TaskScript {
        steps: common::progress(2, "pending", "running"),
        outcome: ScriptOutcome::Success { result },
    };
    let partial = harness.sim.create_task(script(item_results([
        ("messaging:general", None),
        ("messaging:frozen", Some("channel is frozen")),
        ("messaging:gone", Some("channel does not exist")),
    ])));
    let clean = harness
        .sim
        .create_task(script(item_results([("user-1", None), ("user-2", None)])));
    let policy = common::fast_policy();
    let poller = harness.poller().configure(|_| policy);
    let mut outcomes: Vec<_> = poller
        .wait_all([partial.clone(), clean.clone()])
        .outcomes()
        .collect()
        .await;
    outcomes.sort_by_key(|o| o.id != partial);
    match &outcomes[0].result {
        Err(WaitError::Failed { failure, .. }) => {
            assert_eq!(
                failure.failed_items(),
                [
                    ("messaging:frozen", "channel is frozen"),
                    ("messaging:gone", "channel does not exist")
                ]
            );
            assert_eq!(
                failure.to_string(),
                "items_failed: 2 of 3 items failed: messaging:frozen (channel is frozen), messaging:gone (channel does not exist)"
            );
            assert_eq!(failure.as_items().unwrap().items.len(), 3);
        }
        other => panic!("{other:?}"),
    }
    let done = outcomes[1].result.as_ref().unwrap();
    assert_eq!(done.items().unwrap().len(), 2);
    // A lone wait reads it the same way.
    let err = poller.wait(partial).await.unwrap_err();
    assert_eq!(err.kind(), taskpoll::ErrorKind::Failed);
    harness.sim.shutdown().await;
}
