//! The response size cap against the simulator: an answer larger than
//! `max_response_bytes` is refused with a clear, permanent error and ends the wait. The
//! behavior suite (`taskpoll-testkit`, run for every adapter by `taskpoll-conformance`) has
//! the cases no simulator can serve: a `Content-Length` with no body behind it, a body
//! without end, one byte over the 16 MiB default, exactly the default, and an error status
//! whose body is over the cap.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use taskpoll::ErrorClass;
use taskpoll_sim::script::{ScriptOutcome, TaskScript};
use taskpoll_sim::stream::{StreamSim, StreamSimConfig};
use taskpoll_stream::{StreamClient, StreamError};
use taskpoll_testkit::expect::{names_the_cap, permanent_at_first_poll};

const KIB: usize = 1024;

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
    names_the_cap(err, cap).unwrap();
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
    let result = client.poller().wait(id).await;
    assert_too_large(&permanent_at_first_poll(result).unwrap(), KIB);
    sim.shutdown().await;
}
