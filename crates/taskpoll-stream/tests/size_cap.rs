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
use taskpoll_sim::faults::{Fault, FaultPlan};
use taskpoll_sim::script::{ScriptOutcome, TaskScript};
use taskpoll_sim::stream::{StreamSim, StreamSimConfig};
use taskpoll_stream::{DEFAULT_MAX_RESPONSE_BYTES, StreamClient, StreamError};

const KIB: usize = 1024;

fn capped(base: &str, cap: Option<usize>) -> StreamClient {
    let b = StreamClient::builder("size-cap-key", "size-cap-secret")
        .base_url(base)
        .request_timeout(Duration::from_secs(5));
    match cap {
        Some(cap) => b.max_response_bytes(cap),
        None => b,
    }
    .build()
    .unwrap()
}

fn assert_too_large(err: &StreamError, cap: usize) {
    match err {
        StreamError::BodyTooLarge {
            cap: c,
            status: 200,
            operation: "GetTask",
        } => assert_eq!(*c, cap),
        other => panic!("expected BodyTooLarge, got {other:?}"),
    }
    assert_eq!(err.class(), ErrorClass::Permanent);
    let message = err.to_string();
    assert!(
        message.contains(&format!("larger than the {cap}-byte cap"))
            && message.contains("max_response_bytes"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_over_the_cap_is_refused_and_ends_the_wait() {
    let sim = StreamSim::start(StreamSimConfig::default()).await.unwrap();
    let id = sim.create_task(TaskScript {
        steps: Vec::new(),
        outcome: ScriptOutcome::Success {
            result: json!({"url": "x".repeat(4 * KIB)}),
        },
    });
    let small = sim.create_task(TaskScript {
        steps: Vec::new(),
        outcome: ScriptOutcome::Success {
            result: json!({"url": "x"}),
        },
    });
    let client = StreamClient::builder(sim.api_key(), sim.api_secret())
        .base_url(&sim.base_url())
        .max_response_bytes(KIB)
        .build()
        .unwrap();
    assert_too_large(&client.get_task(&id).await.unwrap_err(), KIB);
    // An answer under the cap is read as usual.
    assert_eq!(client.get_task(&small).await.unwrap().status, "completed");
    // A wait ends at the first such answer: the same body would be too large again.
    let err = client.poller().wait(id).await.unwrap_err();
    match &err {
        WaitError::Fetch {
            error,
            give_up: FetchGiveUp::Permanent,
            polls: 1,
            ..
        } => assert_too_large(error, KIB),
        other => panic!("{other:?}"),
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_status_with_a_body_over_the_cap_keeps_its_class() {
    let sim = StreamSim::start(StreamSimConfig::default()).await.unwrap();
    let id = sim.create_task(TaskScript {
        steps: Vec::new(),
        outcome: ScriptOutcome::Success { result: json!(1) },
    });
    sim.set_faults(FaultPlan::default().at(1, Fault::ServerError { status: 503 }));
    // Stream's error bodies are a few hundred bytes: over a 64-byte cap.
    let client = StreamClient::builder(sim.api_key(), sim.api_secret())
        .base_url(&sim.base_url())
        .max_response_bytes(64)
        .build()
        .unwrap();
    let err = client.get_task(&id).await.unwrap_err();
    assert!(matches!(err, StreamError::Server(_)), "{err:?}");
    assert!(err.is_transient());
    assert!(err.to_string().contains("64-byte cap"), "{err}");
    sim.shutdown().await;
}

/// Bodies over the cap (announced, streamed, one byte over the 16 MiB default) are the
/// behavior suite's cases; a body of exactly the default cap is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_of_exactly_the_default_cap_is_read() {
    assert_eq!(DEFAULT_MAX_RESPONSE_BYTES, 16 * 1024 * 1024);
    let cap = DEFAULT_MAX_RESPONSE_BYTES;
    let mut body = br#"{"task_id":"t-1","status":"running"}"#.to_vec();
    body.resize(cap, b' ');
    let server = RawServer::start(head(Some(cap as u64)), Body::Exact(body)).unwrap();
    let task = capped(server.base_url(), None)
        .get_task("t-1")
        .await
        .unwrap();
    assert_eq!(task.status, "running");
}
