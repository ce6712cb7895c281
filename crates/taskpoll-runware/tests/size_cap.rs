//! The response size cap: an answer larger than `max_response_bytes` is refused with a
//! clear, permanent error, without being read whole, whether its `Content-Length`
//! says so up front or it streams without one; an error status whose body is over the
//! cap is still classified by its status; the default cap is 16 MiB.
//!
//! The simulator sends `Content-Length` on every answer, so the streaming check and
//! the "not read whole" checks use a minimal HTTP/1.1 server on loopback (below) that
//! announces or streams a body larger than anything the client should read.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use taskpoll_behavior::support::{Body, head, raw_server};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_content_length_over_the_cap_is_refused_before_the_body_is_read() {
    // A gigabyte announced, not one byte of it sent: reading would wait for ever.
    let (base, _) = raw_server(head(Some(1 << 30)), Body::Nothing);
    let started = Instant::now();
    let err = capped(&base, Some(KIB))
        .get_response(TASK)
        .await
        .unwrap_err();
    assert_too_large(&err, KIB);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_body_over_the_cap_is_cut_off_while_streaming() {
    // No Content-Length, and a body that never ends: only the streaming check stops it.
    let (base, written) = raw_server(head(None), Body::Endless);
    let started = Instant::now();
    let err = capped(&base, Some(KIB))
        .get_response(TASK)
        .await
        .unwrap_err();
    assert_too_large(&err, KIB);
    assert!(started.elapsed() < Duration::from_secs(2));
    // The server could write no more than the socket buffers hold once the client
    // stopped reading: far less than the gigabyte it had to send.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(written.load(Ordering::SeqCst) < 64 << 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_cap_is_16_mib() {
    assert_eq!(DEFAULT_MAX_RESPONSE_BYTES, 16 * 1024 * 1024);
    let cap = DEFAULT_MAX_RESPONSE_BYTES;
    // One byte over: refused.
    let (base, _) = raw_server(head(Some(cap as u64 + 1)), Body::Nothing);
    let err = capped(&base, None).get_response(TASK).await.unwrap_err();
    assert_too_large(&err, cap);
    // Exactly the cap: read.
    let mut body = br#"{"data":[]}"#.to_vec();
    body.resize(cap, b' ');
    let (base, _) = raw_server(head(Some(cap as u64)), Body::Exact(body));
    let envelope = capped(&base, None).get_response(TASK).await.unwrap();
    assert!(envelope.data.is_empty());
}
