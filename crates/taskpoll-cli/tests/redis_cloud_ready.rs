//! `taskpoll wait redis-cloud ID --ready` against the Redis Cloud simulator: after the
//! task, the database it created and then its subscription until `active`, in the
//! JSON result; a database in `error` fails (exit 1); `--timeout` covers the task and
//! the resource together (exit 3); `--ready` is refused for other vendors (exit 2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use taskpoll::strategy::Fixed;
use taskpoll_redis_cloud::{RedisCloudClient, SubscriptionRef};
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::script::{Defaults, Lasting, ScriptStep};

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

/// Runs `taskpoll ARGS` against `sim` with its keys in the environment; returns the
/// exit status, stdout and stderr.
async fn taskpoll(sim: &RedisCloudSim, args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_taskpoll"));
    cmd.args(args)
        .env("REDIS_CLOUD_API_KEY", sim.api_key())
        .env("REDIS_CLOUD_API_SECRET", sim.secret_key())
        .env_remove("RUST_LOG");
    tokio::task::spawn_blocking(move || {
        let out = cmd.output().expect("run taskpoll");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

fn one_line(stdout: &str) -> Value {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    serde_json::from_str(lines[0]).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_waits_for_the_database_then_its_subscription() {
    let sim = RedisCloudSim::start(config()).await.unwrap();
    let (sub, task) = database_create(&sim).await;
    let base = sim.base_url();
    let (code, stdout, stderr) = taskpoll(
        &sim,
        &[
            "wait",
            "redis-cloud",
            &task,
            "--ready",
            "--json",
            "--interval",
            "50ms",
            "--base-url",
            &base,
            "-q",
        ],
    )
    .await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let line = one_line(&stdout);
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
    let sim = RedisCloudSim::start(config()).await.unwrap();
    let (_, task) = database_create(&sim).await;
    let base = sim.base_url();
    let (code, stdout, stderr) = taskpoll(
        &sim,
        &[
            "wait",
            "redis-cloud",
            &task,
            "--json",
            "--interval",
            "50ms",
            "--base-url",
            &base,
            "-q",
        ],
    )
    .await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let line = one_line(&stdout);
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
    let sim = RedisCloudSim::start(RedisCloudSimConfig {
        database_final: "error".into(),
        ..config()
    })
    .await
    .unwrap();
    let (sub, task) = database_create(&sim).await;
    let base = sim.base_url();
    let (code, stdout, stderr) = taskpoll(
        &sim,
        &[
            "wait",
            "redis-cloud",
            &task,
            "--ready",
            "--json",
            "--interval",
            "50ms",
            "--base-url",
            &base,
            "-q",
        ],
    )
    .await;
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let line = one_line(&stdout);
    assert_eq!(line["outcome"], "failed");
    assert_eq!(line["error"]["status"], "error");
    assert_eq!(line["error"]["subscriptionId"], sub);
    assert!(line["error"]["databaseId"].is_i64());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeout_covers_the_task_and_the_resource() {
    let sim = RedisCloudSim::start(RedisCloudSimConfig {
        database_provisioning: vec![ScriptStep::for_time("pending", Duration::from_secs(600))],
        ..config()
    })
    .await
    .unwrap();
    let (_, task) = database_create(&sim).await;
    let base = sim.base_url();
    let began = Instant::now();
    let (code, stdout, stderr) = taskpoll(
        &sim,
        &[
            "wait",
            "redis-cloud",
            &task,
            "--ready",
            "--json",
            "--interval",
            "50ms",
            "--timeout",
            "1500ms",
            "--base-url",
            &base,
            "-q",
        ],
    )
    .await;
    assert!(began.elapsed() < Duration::from_secs(10));
    assert_eq!(code, Some(3), "{stdout}\n{stderr}");
    let line = one_line(&stdout);
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
