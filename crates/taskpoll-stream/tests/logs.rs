//! Every tracing event and span of waits that start, retry, fail and succeed, captured
//! at every level: none carries the API key or secret.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{fails, fast, succeeds};
use serde_json::json;
use taskpoll_sim::faults::{Fault, FaultPlan};
use taskpoll_sim::stream::{StreamSim, StreamSimConfig};
use taskpoll_stream::{ChannelRef, StreamClient};

const KEY: &str = "stream-key-DO-NOT-LOG-5e1b";
const SECRET: &str = "stream-secret-DO-NOT-LOG-c07d";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_log_line_carries_the_key_or_the_secret() {
    let lines = taskpoll_behavior::support::capture_logs();

    let sim = StreamSim::start(StreamSimConfig {
        api_key: KEY.into(),
        api_secret: SECRET.into(),
        ..common::quick(60)
    })
    .await
    .unwrap();
    let client = StreamClient::builder(KEY, SECRET)
        .base_url(&sim.base_url())
        .build()
        .unwrap();
    let id = client
        .export_channels(&[ChannelRef::cid("messaging:general")])
        .await
        .unwrap();
    sim.set_faults(
        FaultPlan::default()
            .at(1, Fault::ServerError { status: 503 })
            .at(2, Fault::Reset)
            .at(3, Fault::Malformed)
            .at(4, Fault::NonJson { status: 502 }),
    );
    fast(&client).wait(id).await.unwrap();
    let odd = sim.create_task(succeeds(&[("archiving", 1)], json!({})));
    fast(&client).wait(odd).await.unwrap();
    let failing = sim.create_task(fails(&[], json!({"type": "t", "description": "d"})));
    fast(&client).wait(failing).await.unwrap_err();
    let wrong = StreamClient::builder(KEY, "wrong")
        .base_url(&sim.base_url())
        .build()
        .unwrap();
    fast(&wrong).wait("t".into()).await.unwrap_err();
    sim.shutdown().await;

    let lines = lines.lock().unwrap();
    assert!(
        lines.iter().any(|l| l.contains("stream answered")),
        "the adapter logs its requests: {lines:#?}"
    );
    assert!(lines.iter().any(|l| l.contains("archiving")));
    for line in lines.iter() {
        assert!(!line.contains(KEY), "the key is logged: {line}");
        assert!(!line.contains(SECRET), "the secret is logged: {line}");
        assert!(!line.contains("DO-NOT-LOG"), "{line}");
    }
}
