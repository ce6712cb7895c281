//! The response size cap against the simulator: an answer larger than
//! `max_response_bytes` is refused with a clear, permanent error and ends the wait. The
//! behavior suite (`taskpoll-testkit`, run for every adapter by `taskpoll-conformance`) has
//! the cases no simulator can serve: a `Content-Length` with no body behind it, a body
//! without end, one byte over the 16 MiB default, exactly the default, and an error status
//! whose body is over the cap.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use serde_json::json;
use taskpoll::ErrorClass;
use taskpoll_http::DEFAULT_MAX_RESPONSE_BYTES;
use taskpoll_redis_cloud::{Operation, RedisCloudClient, RedisCloudError};
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::script::{ScriptOutcome, TaskScript};
use taskpoll_testkit::expect::{names_the_cap, permanent_at_first_poll};

const KIB: usize = 1024;

fn assert_too_large(err: &RedisCloudError, operation: Operation, cap: usize) {
    match err {
        RedisCloudError::TooLarge {
            cap: c,
            operation: o,
        } => assert_eq!((*c, *o), (cap, operation)),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(err.class(Duration::from_secs(30)), ErrorClass::Permanent);
    names_the_cap(err, cap).unwrap();
}

/// The simulator's defaults, without the 404 a new task answers first: these tests are
/// about sizes, and read each task once.
fn visible_at_once() -> RedisCloudSimConfig {
    RedisCloudSimConfig {
        not_found_polls: 0,
        ..RedisCloudSimConfig::default()
    }
}

fn sim_client(sim: &RedisCloudSim, cap: usize) -> RedisCloudClient {
    RedisCloudClient::builder(sim.api_key(), sim.secret_key())
        .base_url(&sim.base_url())
        .max_response_bytes(cap)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_or_a_list_over_the_cap_is_refused_and_ends_the_wait() {
    let sim = RedisCloudSim::start(visible_at_once()).await.unwrap();
    let big = sim.create_task(TaskScript {
        steps: Vec::new(),
        outcome: ScriptOutcome::Success {
            result: json!({"resourceId": 1, "resource": {"pricing": "x".repeat(4 * KIB)}}),
        },
    });
    let client = sim_client(&sim, KIB);
    let err = client.get_task(&big).await.unwrap_err();
    assert_too_large(&err, Operation::GetTask, KIB);
    // The list holds the big task too.
    let err = client.list_tasks().await.unwrap_err();
    assert_too_large(&err, Operation::ListTasks, KIB);
    // A list too large is not the task's fault: the wait falls back to the task's own
    // GET, and ends at the first too-large answer there (it would be too large again).
    let error = permanent_at_first_poll(client.poller().wait(big).await).unwrap();
    assert_too_large(&error, Operation::GetTask, KIB);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_of_many_tasks_over_the_cap_is_refused() {
    let sim = RedisCloudSim::start(visible_at_once()).await.unwrap();
    for i in 0..40 {
        sim.create_task(TaskScript {
            steps: Vec::new(),
            outcome: ScriptOutcome::Success {
                result: json!({"resourceId": i}),
            },
        });
    }
    let client = sim_client(&sim, 2 * KIB);
    let err = client.list_tasks().await.unwrap_err();
    assert_too_large(&err, Operation::ListTasks, 2 * KIB);
    // With the default cap the same list is read.
    assert_eq!(
        sim_client(&sim, DEFAULT_MAX_RESPONSE_BYTES)
            .list_tasks()
            .await
            .unwrap()
            .len(),
        40
    );
    sim.shutdown().await;
}
