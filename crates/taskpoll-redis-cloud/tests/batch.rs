//! Batched polling: one `GET /v1/tasks` per round, per-id fallback for ids the list
//! does not show.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{builder, client, counted, failure, fast, polls, quick, sim, success};
use serde_json::json;
use taskpoll::{BatchTaskSource, ErrorClass, TaskSource};
use taskpoll_redis_cloud::RedisCloudError;
use taskpoll_sim::faults::{Fault, FaultPlan};
use taskpoll_sim::redis_cloud::{RedisCloudSimConfig, TaskOptions};

const LIST: &str = "GET /v1/tasks";
const ONE: &str = "GET /v1/tasks/{taskId}";

/// Tasks processed side by side, visible at once: these tests count requests exactly
/// (the 404 a new task answers first is scripted where a test wants it).
fn parallel() -> RedisCloudSimConfig {
    RedisCloudSimConfig {
        serial_processing: false,
        ..counted()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listed_task_in_one_request() {
    let sim = sim(parallel()).await;
    let source = client(&sim).source();
    assert_eq!(source.max_batch(), 10_000);
    let ids: Vec<String> = (0..25)
        .map(|i| {
            sim.create_task(success(
                vec![polls("processing-in-progress", 5)],
                json!({"resourceId": i}),
            ))
        })
        .collect();
    let entries = source.fetch_batch(&ids).await.unwrap();
    assert_eq!(entries.len(), ids.len());
    for (id, entry) in ids.iter().zip(&entries) {
        let task = entry.as_ref().unwrap().as_ref().unwrap();
        assert_eq!(task.task_id.as_deref(), Some(id.as_str()));
    }
    let counts = sim.counts();
    assert_eq!(counts.endpoint(LIST), 1);
    assert_eq!(counts.endpoint(ONE), 0);
    assert_eq!(counts.total, 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_missing_from_the_list_twice_are_fetched_one_by_one() {
    let sim = sim(parallel()).await;
    let source = client(&sim).source();
    let listed = sim.create_task(success(vec![polls("received", 5)], json!({})));
    // Unknown to three status requests: two rounds' lists, then its own GET.
    let hidden = sim.create_task_with(
        success(vec![], json!({"resourceId": 4})),
        TaskOptions {
            not_found_polls: Some(3),
            ..TaskOptions::default()
        },
    );
    let unknown = "4e0c8a51-0000-4000-8000-000000000000".to_owned();
    let ids = [listed.clone(), hidden.clone(), unknown.clone()];

    // First round: ids the list leaves out are left unanswered (a task just created
    // is not known to its own GET either), without a request of their own.
    let entries = source.fetch_batch(&ids).await.unwrap();
    assert!(entries[0].as_ref().unwrap().is_ok());
    assert!(entries[1].is_none() && entries[2].is_none());
    assert_eq!(sim.counts().endpoint(ONE), 0);

    // Left out again: each is fetched alone.
    let entries = source.fetch_batch(&ids).await.unwrap();
    for entry in &entries[1..] {
        let e = entry.as_ref().unwrap().as_ref().unwrap_err();
        assert!(matches!(e, RedisCloudError::UnknownTask { .. }), "{e}");
        // Not a failure of the task: tolerated within the visibility grace.
        assert_eq!(source.error_class(e), ErrorClass::NotYetVisible);
    }
    let counts = sim.counts();
    assert_eq!(counts.endpoint(LIST), 2);
    assert_eq!(counts.endpoint(ONE), 2);
    assert_eq!(counts.task(&hidden), 1);
    assert_eq!(counts.task(&unknown), 1);

    // Next round: the hidden task is listed now; only the unknown id is fetched alone.
    let entries = source.fetch_batch(&ids).await.unwrap();
    let task = entries[1].as_ref().unwrap().as_ref().unwrap();
    assert_eq!(task.task_id.as_deref(), Some(hidden.as_str()));
    assert!(entries[2].as_ref().unwrap().is_err());
    let counts = sim.counts();
    assert_eq!(counts.endpoint(LIST), 3);
    assert_eq!(counts.endpoint(ONE), 3);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_tasks_cost_no_request_of_their_own() {
    // The simulator's default: a new task is unknown to its first status request.
    let sim = sim(RedisCloudSimConfig {
        serial_processing: false,
        ..quick()
    })
    .await;
    let source = client(&sim).source();
    let ids: Vec<String> = (0..20)
        .map(|i| {
            sim.create_task(success(
                vec![polls("processing-in-progress", 1)],
                json!({"resourceId": i}),
            ))
        })
        .collect();
    // The first list leaves them all out: unanswered, no GET of their own (each would
    // have answered 404).
    let entries = source.fetch_batch(&ids).await.unwrap();
    assert!(entries.iter().all(Option::is_none));
    // The next one shows them all.
    let entries = source.fetch_batch(&ids).await.unwrap();
    assert!(entries.iter().all(|e| matches!(e, Some(Ok(_)))));
    let counts = sim.counts();
    assert_eq!(counts.endpoint(LIST), 2, "{counts:?}");
    assert_eq!(counts.endpoint(ONE), 0, "{counts:?}");
    assert_eq!(counts.status(404), 0, "{counts:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallbacks_are_bounded_per_round() {
    let sim = sim(parallel()).await;
    let source = builder(&sim)
        .batch_fallback_limit(1)
        .build()
        .unwrap()
        .source();
    let ids = ["x-1".to_owned(), "x-2".to_owned(), "x-3".to_owned()];
    let entries = source.fetch_batch(&ids).await.unwrap();
    assert!(entries.iter().all(Option::is_none));
    let entries = source.fetch_batch(&ids).await.unwrap();
    assert!(entries[0].is_some());
    assert!(entries[1].is_none() && entries[2].is_none());
    assert_eq!(sim.counts().endpoint(ONE), 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_list_request_applies_to_every_id() {
    let sim = sim(parallel()).await;
    let source = client(&sim).source();
    let ids = [sim.create_task(success(vec![], json!({})))];
    sim.set_faults(FaultPlan::default().at(
        1,
        Fault::RateLimited {
            retry_after_secs: Some(2),
        },
    ));
    let e = source.fetch_batch(&ids).await.unwrap_err();
    assert_eq!(
        source.error_class(&e),
        ErrorClass::RateLimited {
            retry_after: Some(Duration::from_secs(2))
        }
    );
    sim.shutdown().await;
}

/// Drains a `WaitAll` stream's outcomes.
async fn drain<S: TaskSource>(group: taskpoll::WaitAll<S>) -> Vec<taskpoll::Outcome<S>> {
    let mut group = group.outcomes();
    let mut out = Vec::new();
    while let Some(o) = std::future::poll_fn(|cx| {
        futures_core::Stream::poll_next(std::pin::Pin::new(&mut group), cx)
    })
    .await
    {
        out.push(o);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_waits_poll_with_one_list_request_per_round() {
    let sim = sim(parallel()).await;
    let client = client(&sim);
    let mut ids: Vec<String> = (0..30)
        .map(|i| {
            sim.create_task(success(
                vec![polls("processing-in-progress", 2)],
                json!({"resourceId": i}),
            ))
        })
        .collect();
    let failing = sim.create_task(failure(
        vec![polls("processing-in-progress", 1)],
        json!({"type": "DATABASE_NOT_FOUND", "status": "404 NOT_FOUND", "description": "Database was not found"}),
    ));
    ids.push(failing.clone());
    let outcomes = drain(fast(client.poller()).wait_all(ids.clone())).await;
    assert_eq!(outcomes.len(), ids.len());
    for o in &outcomes {
        if o.id == failing {
            let err = o.result.as_ref().unwrap_err();
            let f = err.failure().unwrap();
            assert_eq!(f.error_type.as_deref(), Some("DATABASE_NOT_FOUND"));
        } else {
            assert!(o.result.is_ok(), "{}: {:?}", o.id, o.result);
        }
    }
    let counts = sim.counts();
    // Rounds go through the list (some 90 polls in a handful of requests); a wait
    // that falls due alone (the first one, before the group's others join it, or one
    // whose round drifted on a busy machine) asks for its own task, by the scheduler's
    // design: a few, far from one per wait and round.
    assert!(counts.endpoint(ONE) <= 10, "{counts:?}");
    let lists = counts.endpoint(LIST);
    assert!((2..=8).contains(&lists), "{lists} list requests");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_tasks_finish_one_after_another_through_the_list() {
    // Serial processing (the real account's behaviour): the others stay `received`.
    // No 404 first: the test counts per-id requests.
    let sim = sim(counted()).await;
    let client = client(&sim);
    let ids: Vec<String> = (0..3)
        .map(|i| {
            sim.create_task(success(
                vec![polls("processing-in-progress", 1)],
                json!({"resourceId": i}),
            ))
        })
        .collect();
    let outcomes = drain(fast(client.poller()).wait_all(ids.clone())).await;
    assert!(outcomes.iter().all(|o| o.result.is_ok()));
    // One after another at the server (the client may see two finished in one round,
    // and report them in either order).
    let finished: Vec<_> = ids.iter().map(|id| sim.finished_at(id).unwrap()).collect();
    assert!(finished.windows(2).all(|w| w[0] <= w[1]), "{finished:?}");
    // Through the list while several were due; the last one, due alone, by its own GET.
    assert!(sim.counts().endpoint(LIST) >= 2, "{:?}", sim.counts());
    sim.shutdown().await;
}
