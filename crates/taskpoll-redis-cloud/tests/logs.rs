//! Every tracing event and span of waits that start, retry, fail and succeed, captured
//! at every level: none carries the account key or the secret key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{failure, fast, polls, quick, success};
use serde_json::json;
use taskpoll_redis_cloud::RedisCloudClient;
use taskpoll_sim::faults::{Fault, FaultPlan};
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig, TaskOptions};

const KEY: &str = "redis-key-DO-NOT-LOG-41a7";
const SECRET: &str = "redis-secret-DO-NOT-LOG-9c3e";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_log_line_carries_the_keys() {
    let lines = taskpoll_behavior::support::capture_logs();

    let sim = RedisCloudSim::start(RedisCloudSimConfig {
        api_key: KEY.into(),
        secret_key: SECRET.into(),
        ..quick()
    })
    .await
    .unwrap();
    let client = RedisCloudClient::builder(KEY, SECRET)
        .base_url(&sim.base_url())
        .build()
        .unwrap();
    let id = client
        .create_subscription(json!({"name": "logs"}))
        .await
        .unwrap();
    sim.set_faults(
        FaultPlan::default()
            .at(1, Fault::ServerError { status: 503 })
            .at(2, Fault::Reset)
            .at(3, Fault::Malformed)
            .at(4, Fault::NonJson { status: 502 }),
    );
    fast(client.poller()).wait(id).await.unwrap();
    let odd = sim.create_task_with(
        success(vec![polls("processing-paused", 1)], json!({})),
        TaskOptions {
            not_found_polls: Some(1),
            ..TaskOptions::default()
        },
    );
    fast(client.poller()).wait(odd).await.unwrap();
    let failing = sim.create_task(failure(vec![], json!("SUBSCRIPTION_NOT_FOUND")));
    fast(client.poller()).wait(failing).await.unwrap_err();
    let wrong = RedisCloudClient::builder(KEY, "wrong")
        .base_url(&sim.base_url())
        .build()
        .unwrap();
    fast(wrong.poller()).wait("t".into()).await.unwrap_err();
    sim.shutdown().await;

    let lines = lines.lock().unwrap();
    assert!(
        lines.iter().any(|l| l.contains("redis-cloud response")),
        "the adapter logs its requests: {lines:#?}"
    );
    assert!(lines.iter().any(|l| l.contains("processing-paused")));
    for line in lines.iter() {
        assert!(!line.contains(KEY), "the key is logged: {line}");
        assert!(!line.contains(SECRET), "the secret is logged: {line}");
        assert!(!line.contains("DO-NOT-LOG"), "{line}");
    }
}
