//! `taskpoll wait redis-cloud ID --ready` against the Redis Cloud simulator: after the
//! task, the database it created and then its subscription until `active`, in the
//! JSON result; a database in `error` fails (exit 1); `--timeout` covers the task and
//! the resource together (exit 3); `--ready` is refused for other vendors (exit 2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use serde_json::json;
use taskpoll::strategy::Fixed;
use taskpoll_redis_cloud::{RedisCloudClient, SubscriptionRef};
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::script::{Defaults, Lasting, ScriptStep};

mod common;
use common::{one_json_line, redis_cloud_env, run};

/// Quick tasks; a database `draft` then `pending` for a poll each; its subscription
/// settles one poll after it; a new task answers 404 first (the default).
fn config() -> RedisCloudSimConfig {
    RedisCloudSimConfig {
        defaults: Defaults {
            task_time: Duration::from_millis(100),
            fail_every: None,
        },
        provisioning: Lasting::Polls(1),
        database_provisioning: vec![
            ScriptStep::for_polls("draft", 1),
            ScriptStep::for_polls("pending", 1),
        ],
        subscription_settle: Lasting::Polls(1),
        ..RedisCloudSimConfig::default()
    }
}

fn client(sim: &RedisCloudSim) -> RedisCloudClient {
    RedisCloudClient::builder(sim.api_key(), sim.secret_key())
        .base_url(&sim.base_url())
        .build()
        .unwrap()
}

/// An active subscription, and a database create started in it: the task id.
async fn database_create(sim: &RedisCloudSim) -> (i64, String) {
    let client = client(sim);
    let fast = Fixed::new(Duration::from_millis(20));
    let task = client
        .create_subscription(json!({"name": "cli"}))
        .await
        .unwrap();
    let done = client
        .poller()
        .configure(|p| p.interval(fast))
        .wait(task)
        .await
        .unwrap();
    let sub = done.resource_id.unwrap();
    client
        .subscription_poller()
        .configure(|p| p.interval(fast))
        .wait(SubscriptionRef::pro(sub))
        .await
        .unwrap();
    let task = client
        .create_database(sub, json!({"name": "cli-db"}))
        .await
        .unwrap();
    (sub, task)
}

/// The simulator with `config`, and a database create started in an active
/// subscription: the subscription id and the task id.
async fn started(config: RedisCloudSimConfig) -> (RedisCloudSim, i64, String) {
    let sim = RedisCloudSim::start(config).await.unwrap();
    let (sub, task) = database_create(&sim).await;
    (sim, sub, task)
}

/// Runs `taskpoll ARGS` with `sim`'s keys in the environment: the exit status, stdout
/// and stderr.
async fn taskpoll(sim: &RedisCloudSim, args: &[&str]) -> (Option<i32>, String, String) {
    run(args, &redis_cloud_env(sim)).await
}

/// Runs `taskpoll wait redis-cloud TASK --json -q FLAGS...` against `sim`, polling every
/// 50 ms.
async fn wait(sim: &RedisCloudSim, task: &str, flags: &[&str]) -> (Option<i32>, String, String) {
    let base = sim.base_url();
    let mut args = vec![
        "wait",
        "redis-cloud",
        task,
        "--json",
        "--interval",
        "50ms",
        "--base-url",
        &base,
        "-q",
    ];
    args.extend(flags);
    taskpoll(sim, &args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_waits_for_the_database_then_its_subscription() {
    let (sim, sub, task) = started(config()).await;
    let (code, stdout, stderr) = wait(&sim, &task, &["--ready"]).await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let line = one_json_line(&stdout);
    assert_eq!(line["vendor"], "redis-cloud");
    assert_eq!(line["task_id"], task);
    assert_eq!(line["outcome"], "completed");
    let result = &line["result"];
    assert_eq!(result["commandType"], "databaseCreateRequest");
    assert_eq!(result["additionalResourceId"], sub);
    assert_eq!(result["database"]["status"], "active");
    assert_eq!(result["database"]["databaseId"], result["resourceId"]);
    assert_eq!(result["database"]["name"], "cli-db");
    assert!(result["database"]["publicEndpoint"].is_string());
    assert_eq!(result["subscription"]["status"], "active");
    assert_eq!(result["subscription"]["id"], sub);
    // Task, database and subscription were all read.
    let counts = sim.counts();
    assert!(counts.endpoint("GET /v1/subscriptions/{subscriptionId}/databases/{databaseId}") >= 3);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_ready_the_task_alone() {
    let (sim, _, task) = started(config()).await;
    let (code, stdout, stderr) = wait(&sim, &task, &[]).await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let line = one_json_line(&stdout);
    assert_eq!(line["outcome"], "completed");
    assert!(line["result"].get("database").is_none());
    assert!(line["result"].get("subscription").is_none());
    assert_eq!(
        sim.counts()
            .endpoint("GET /v1/subscriptions/{subscriptionId}/databases/{databaseId}"),
        0
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_with_a_database_in_error_fails() {
    let (sim, sub, task) = started(RedisCloudSimConfig {
        database_final: "error".into(),
        ..config()
    })
    .await;
    let (code, stdout, stderr) = wait(&sim, &task, &["--ready"]).await;
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let line = one_json_line(&stdout);
    assert_eq!(line["outcome"], "failed");
    assert_eq!(line["error"]["status"], "error");
    assert_eq!(line["error"]["subscriptionId"], sub);
    assert!(line["error"]["databaseId"].is_i64());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeout_covers_the_task_and_the_resource() {
    let (sim, _, task) = started(RedisCloudSimConfig {
        database_provisioning: vec![ScriptStep::for_time("pending", Duration::from_secs(600))],
        ..config()
    })
    .await;
    let began = Instant::now();
    let (code, stdout, stderr) = wait(&sim, &task, &["--ready", "--timeout", "1500ms"]).await;
    assert!(began.elapsed() < Duration::from_secs(10));
    assert_eq!(code, Some(3), "{stdout}\n{stderr}");
    let line = one_json_line(&stdout);
    assert_eq!(line["outcome"], "timed_out");
    assert_eq!(line["error"]["last_status"], "database pending");
    let elapsed = line["elapsed_ms"].as_u64().unwrap();
    assert!((1_400..5_000).contains(&elapsed), "{elapsed}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_applies_to_redis_cloud_only() {
    let sim = RedisCloudSim::start(config()).await.unwrap();
    let (code, _, stderr) = taskpoll(&sim, &["wait", "stream", "t-1", "--ready"]).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--ready applies to redis-cloud only"),
        "{stderr}"
    );
    let (code, _, stderr) = taskpoll(
        &sim,
        &[
            "wait",
            "redis-cloud",
            "t-1",
            "--ready",
            "--redis",
            "redis://127.0.0.1:1",
        ],
    )
    .await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--ready is not carried through --redis"),
        "{stderr}"
    );
    sim.shutdown().await;
}
