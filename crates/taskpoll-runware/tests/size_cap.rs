//! The response size cap against the simulator: an answer larger than
//! `max_response_bytes` is refused with a clear, permanent error and ends the wait; an
//! error status whose body is over the cap keeps its class; a body of exactly the default
//! cap is read. Bodies over the cap that no simulator sends (a `Content-Length` with no
//! body behind it, a body without end, one byte over 16 MiB) are cases of the behavior
//! suite (`taskpoll-testkit`), which `taskpoll-conformance` runs for every adapter.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;
use taskpoll_testkit::server::{Body, RawServer, head};

use taskpoll::{ErrorClass, FetchGiveUp, WaitError};
use taskpoll_http::DEFAULT_MAX_RESPONSE_BYTES;
use taskpoll_runware::{RunwareClient, RunwareError, RunwareTaskId};
use taskpoll_sim::faults::{Fault, FaultPlan};
use taskpoll_sim::runware::{MediaKind, RunwareSim, RunwareSimConfig, RunwareTaskSpec};

const KIB: usize = 1024;
const TASK: &str = "6f1c2a3e-0b7d-4e0a-9a51-2f3c4d5e6f70";

fn capped(base: &str, cap: Option<usize>) -> RunwareClient {
    let b = RunwareClient::builder("size-cap-key")
        .base_url(&format!("{base}/v1"))
        .request_timeout(Duration::from_secs(5));
    match cap {
        Some(cap) => b.max_response_bytes(cap),
        None => b,
    }
    .build()
    .unwrap()
}

fn assert_too_large(err: &RunwareError, cap: usize) {
    match err {
        RunwareError::TooLarge { cap: c } => assert_eq!(*c, cap),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(err.class(), ErrorClass::Permanent);
    let message = err.to_string();
    assert!(
        message.contains(&format!("larger than the {cap}-byte cap"))
            && message.contains("max_response_bytes"),
        "{message}"
    );
}

fn sim_client(sim: &RunwareSim, cap: usize) -> RunwareClient {
    RunwareClient::builder(sim.api_key())
        .base_url(&sim.base_url())
        .max_response_bytes(cap)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_with_many_results_over_the_cap_is_refused_and_ends_the_wait() {
    let sim = RunwareSim::start(RunwareSimConfig::default())
        .await
        .unwrap();
    // Twenty finished videos: some 5 KiB of items.
    let many = sim.create_task(RunwareTaskSpec::new(MediaKind::Video, 20));
    let one = sim.create_task(RunwareTaskSpec::new(MediaKind::Video, 1));
    let client = sim_client(&sim, KIB);
    assert_too_large(&client.get_response(&many).await.unwrap_err(), KIB);
    // An answer under the cap is read as usual.
    assert_eq!(client.get_response(&one).await.unwrap().data.len(), 1);
    // A wait ends at the first such answer: the same body would be too large again.
    let err = client
        .poller()
        .configure(|p| p.initial_delay(Duration::ZERO))
        .wait(RunwareTaskId::video(many, 20))
        .await
        .unwrap_err();
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
    let sim = RunwareSim::start(RunwareSimConfig::default())
        .await
        .unwrap();
    let id = sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1));
    sim.set_faults(
        FaultPlan::default()
            .at(1, Fault::ServerError { status: 503 })
            .at(2, Fault::NonJson { status: 502 }),
    );
    // Runware's error bodies and the gateway's page are over a 64-byte cap.
    let client = sim_client(&sim, 64);
    for status in [503, 502] {
        let err = client.get_response(&id).await.unwrap_err();
        assert_eq!(err.status(), Some(status), "{err:?}");
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
    let mut body = br#"{"data":[]}"#.to_vec();
    body.resize(cap, b' ');
    let server = RawServer::start(head(Some(cap as u64)), Body::Exact(body)).unwrap();
    let envelope = capped(server.base_url(), None)
        .get_response(TASK)
        .await
        .unwrap();
    assert!(envelope.data.is_empty());
}
