//! The response size cap against the simulator: an answer larger than
//! `max_response_bytes` is refused with a clear, permanent error and ends the wait; an
//! error status whose body is over the cap keeps its class; a body of exactly the default
//! cap is read. Bodies over the cap that no simulator sends (a `Content-Length` with no
//! body behind it, a body without end, one byte over 16 MiB) are cases of the behavior
//! suite (`taskpoll-testkit`), which `taskpoll-conformance` runs for every adapter.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;
use taskpoll_testkit::server::{Body, RawServer, head};

use serde_json::json;
use taskpoll::{ErrorClass, FetchGiveUp, WaitError};
use taskpoll_http::DEFAULT_MAX_RESPONSE_BYTES;
use taskpoll_redis_cloud::{Operation, RedisCloudClient, RedisCloudError};
use taskpoll_sim::faults::{Fault, FaultPlan};
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::script::{ScriptOutcome, TaskScript};

const KIB: usize = 1024;

fn capped(base: &str, cap: Option<usize>) -> RedisCloudClient {
    let b = RedisCloudClient::builder("size-cap-key", "size-cap-secret")
        .base_url(&format!("{base}/v1"))
        .request_timeout(Duration::from_secs(5));
    match cap {
        Some(cap) => b.max_response_bytes(cap),
        None => b,
    }
    .build()
    .unwrap()
}

fn assert_too_large(err: &RedisCloudError, operation: Operation, cap: usize) {
    match err {
        RedisCloudError::TooLarge {
            cap: c,
            operation: o,
        } => assert_eq!((*c, *o), (cap, operation)),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(err.class(Duration::from_secs(30)), ErrorClass::Permanent);
    let message = err.to_string();
    assert!(
        message.contains(&format!("larger than the {cap}-byte cap"))
            && message.contains("max_response_bytes"),
        "{message}"
    );
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
    match client.poller().wait(big).await.unwrap_err() {
        WaitError::Fetch {
            error,
            give_up: FetchGiveUp::Permanent,
            polls: 1,
            ..
        } => assert_too_large(&error, Operation::GetTask, KIB),
        other => panic!("{other:?}"),
    }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_status_with_a_body_over_the_cap_keeps_its_class() {
    let sim = RedisCloudSim::start(visible_at_once()).await.unwrap();
    let id = sim.create_task(TaskScript {
        steps: Vec::new(),
        outcome: ScriptOutcome::Success {
            result: json!({"resourceId": 1}),
        },
    });
    sim.set_faults(
        FaultPlan::default()
            .at(1, Fault::ServerError { status: 503 })
            .at(2, Fault::NonJson { status: 502 }),
    );
    // Spring's error bodies and the gateway's page are over a 64-byte cap.
    let client = sim_client(&sim, 64);
    for status in [503, 502] {
        let err = client.get_task(&id).await.unwrap_err();
        match &err {
            RedisCloudError::Http { status: s, .. } => assert_eq!(*s, status),
            other => panic!("HTTP {status} read as {other:?}"),
        }
        assert!(err.is_transient(), "{err}");
        assert!(err.to_string().contains("64-byte cap"), "{err}");
    }
    sim.shutdown().await;
}

/// Bodies over the cap (announced, streamed, one byte over the 16 MiB default) are the
/// behavior suite's cases; a body of exactly the default cap is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_of_exactly_the_default_cap_is_read() {
    assert_eq!(DEFAULT_MAX_RESPONSE_BYTES, 16 * 1024 * 1024);
    let cap = DEFAULT_MAX_RESPONSE_BYTES;
    let mut body = br#"{"taskId":"t-1","status":"received"}"#.to_vec();
    body.resize(cap, b' ');
    let server = RawServer::start(head(Some(cap as u64)), Body::Exact(body)).unwrap();
    let task = capped(server.base_url(), None)
        .get_task("t-1")
        .await
        .unwrap();
    assert_eq!(task.task_id.as_deref(), Some("t-1"));
}
