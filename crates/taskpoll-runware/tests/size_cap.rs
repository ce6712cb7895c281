//! The response size cap against the simulator: an answer larger than
//! `max_response_bytes` is refused with a clear, permanent error and ends the wait. The
//! behavior suite (`taskpoll-testkit`, run for every adapter by `taskpoll-conformance`) has
//! the cases no simulator can serve: a `Content-Length` with no body behind it, a body
//! without end, one byte over the 16 MiB default, exactly the default, and an error status
//! whose body is over the cap.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::client_with;
use taskpoll::ErrorClass;
use taskpoll_runware::{RunwareClient, RunwareError, RunwareTaskId};
use taskpoll_sim::runware::{MediaKind, RunwareSim, RunwareSimConfig, RunwareTaskSpec};
use taskpoll_testkit::expect::{names_the_cap, permanent_at_first_poll};

const KIB: usize = 1024;

fn assert_too_large(err: &RunwareError, cap: usize) {
    match err {
        RunwareError::TooLarge { cap: c } => assert_eq!(*c, cap),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(err.class(), ErrorClass::Permanent);
    names_the_cap(err, cap).unwrap();
}

fn sim_client(sim: &RunwareSim, cap: usize) -> RunwareClient {
    client_with(sim, |b| b.max_response_bytes(cap))
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
    let result = client
        .poller()
        .configure(|p| p.initial_delay(Duration::ZERO))
        .wait(RunwareTaskId::video(many, 20))
        .await;
    assert_too_large(&permanent_at_first_poll(result).unwrap(), KIB);
    sim.shutdown().await;
}
