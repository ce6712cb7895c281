//! The fleet through the real binaries: `taskpoll worker` processes against the
//! simulators, `taskpoll wait --redis` printing the outcomes, and a real `redis-server`
//! the tests start on a free loopback port (install redis-server to run them).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use taskpoll_fleet::testing::RedisServer;
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::runware::{MediaKind, RunwareSim, RunwareSimConfig, RunwareTaskSpec};
use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};

mod common;
use common::{Running, busiest_window, command, redis_cloud_env, until};

fn redis() -> RedisServer {
    RedisServer::start().unwrap_or_else(|e| panic!("{e}"))
}

/// The Redis Cloud simulator with `config`, its tasks processed side by side.
async fn redis_cloud_sim(config: RedisCloudSimConfig) -> RedisCloudSim {
    RedisCloudSim::start(RedisCloudSimConfig {
        serial_processing: false,
        ..config
    })
    .await
    .unwrap()
}

/// Starts `taskpoll worker VENDOR --redis URL --base-url BASE EXTRA...` with `env`.
fn worker(vendor: &str, url: &str, base: &str, extra: &[&str], env: &[(&str, &str)]) -> Running {
    let mut args = vec!["worker", vendor, "--redis", url, "--base-url", base];
    args.extend(extra);
    Running::start(&args, env)
}

/// Stops a worker with SIGTERM: it exits 0; what it logged.
async fn stop(worker: Running) -> String {
    worker.signal("TERM");
    let done = worker.finish(Duration::from_secs(20)).await;
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    done.stderr
}

/// Starts `taskpoll wait VENDOR IDS... --redis URL EXTRA... --json -q`, no credentials.
fn waiter(vendor: &str, ids: &[&str], url: &str, extra: &[&str]) -> Running {
    let mut args = vec!["wait", vendor];
    args.extend(ids);
    args.extend(["--redis", url]);
    args.extend(extra);
    args.extend(["--json", "-q"]);
    Running::start(&args, &[])
}

fn by_id(lines: &[Value]) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    for l in lines {
        let id = l["task_id"].as_str().unwrap().to_owned();
        assert!(
            out.insert(id.clone(), l.clone()).is_none(),
            "{id} reported twice"
        );
    }
    out
}

fn succeeds_after(d: Duration) -> TaskScript {
    TaskScript {
        steps: vec![ScriptStep::for_time("processing-in-progress", d)],
        outcome: ScriptOutcome::Success {
            result: serde_json::json!({"resourceId": 7, "commandType": "createDatabase"}),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_polls_what_a_wait_without_credentials_enqueued() {
    let server = redis();
    let url = server.url();
    let sim = RunwareSim::start(RunwareSimConfig::default())
        .await
        .unwrap();
    let two = sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 2).finish_after_polls([2, 3]));
    let one = sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1).finish_after_polls([1]));
    let worker = worker(
        "runware",
        &url,
        &sim.base_url(),
        &["--interval", "100ms", "-v"],
        &[("RUNWARE_API_KEY", sim.api_key())],
    );
    // The waiter has no vendor credentials: the worker has them.
    let lines = waiter("runware", &[&two], &url, &["--results", "2"])
        .ends_with(0, Duration::from_secs(20))
        .await;
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert_eq!(line["vendor"], "runware");
    assert_eq!(line["task_id"], two.as_str());
    assert_eq!(line["outcome"], "completed");
    assert_eq!(
        line["result"]["results"].as_array().unwrap().len(),
        2,
        "{line}"
    );
    assert!(line["polls"].as_u64().unwrap() >= 3, "{line}");
    assert!(line["elapsed_ms"].as_u64().is_some());

    // A second waiter on both: the first is read from its stored outcome.
    let lines = waiter("runware", &[&two, &one], &url, &[])
        .ends_with(0, Duration::from_secs(20))
        .await;
    let lines = by_id(&lines);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[&two]["outcome"], "completed");
    assert_eq!(lines[&one]["outcome"], "completed");

    let log = stop(worker).await;
    assert!(log.contains("claimed 1 waits"), "{log}");
    assert!(log.contains("completed after"), "{log}");
    assert!(!log.contains(sim.api_key()), "the key in the log: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_and_timeouts_keep_their_exit_statuses() {
    let server = redis();
    let url = server.url();
    let sim = redis_cloud_sim(RedisCloudSimConfig::default()).await;
    let failed = sim.create_task(TaskScript {
        steps: vec![ScriptStep::for_polls("processing-in-progress", 1)],
        outcome: ScriptOutcome::Failure {
            error: serde_json::json!({"type": "SUBSCRIPTION_NOT_ACTIVE", "status": "400 BAD_REQUEST", "description": "Subscription is not active"}),
        },
    });
    let slow = sim.create_task(succeeds_after(Duration::from_secs(60)));
    let _worker = worker(
        "redis-cloud",
        &url,
        &sim.base_url(),
        &["--interval", "100ms"],
        &redis_cloud_env(&sim),
    );
    let lines = waiter("redis-cloud", &[&failed], &url, &[])
        .ends_with(1, Duration::from_secs(20))
        .await;
    assert_eq!(lines[0]["outcome"], "failed");
    assert_eq!(
        lines[0]["error"]["type"], "SUBSCRIPTION_NOT_ACTIVE",
        "{}",
        lines[0]
    );

    // The enqueuer's --timeout is the wait's deadline, whichever worker polls it.
    let lines = waiter("redis-cloud", &[&slow, &failed], &url, &["--timeout", "1s"])
        .ends_with(3, Duration::from_secs(20))
        .await;
    let lines = by_id(&lines);
    assert_eq!(lines[&slow]["outcome"], "timed_out");
    assert_eq!(
        lines[&slow]["error"]["last_status"],
        "processing-in-progress"
    );
    let elapsed = lines[&slow]["elapsed_ms"].as_u64().unwrap();
    assert!((1000..2500).contains(&elapsed), "{elapsed}");
    assert_eq!(lines[&failed]["outcome"], "failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_waits_are_resumed_by_another_and_each_ends_once() {
    let server = redis();
    let url = server.url();
    let sim = redis_cloud_sim(RedisCloudSimConfig::default()).await;
    let ids: Vec<String> = (0..20)
        .map(|_| sim.create_task(succeeds_after(Duration::from_millis(3500))))
        .collect();
    let (base, env) = (sim.base_url(), redis_cloud_env(&sim));
    let extra = ["--interval", "200ms", "--lease", "1s"];
    let first = worker("redis-cloud", &url, &base, &extra, &env);
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let waiter = waiter("redis-cloud", &ids, &url, &[]);
    // Let the first worker poll for a while, then kill it mid-poll.
    until("the worker polls", Duration::from_secs(10), || {
        sim.counts().total >= 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    first.signal("KILL");
    let killed = Instant::now();
    let requests_at_kill = sim.counts().total;
    let second = worker("redis-cloud", &url, &base, &extra, &env);
    // The second worker polls again within the lease and a poll interval or so.
    until(
        "another worker takes the waits over",
        Duration::from_secs(5),
        || sim.counts().total > requests_at_kill,
    )
    .await;
    let takeover = killed.elapsed();
    assert!(
        takeover < Duration::from_millis(1000 + 200 + 2500),
        "{takeover:?}"
    );
    let lines = waiter.ends_with(0, Duration::from_secs(30)).await;
    let lines = by_id(&lines);
    assert_eq!(lines.len(), 20);
    assert!(lines.values().all(|l| l["outcome"] == "completed"));
    stop(second).await;
    drop(first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_hands_the_waits_back_at_once() {
    let server = redis();
    let url = server.url();
    let sim = redis_cloud_sim(RedisCloudSimConfig::default()).await;
    let id = sim.create_task(succeeds_after(Duration::from_millis(2500)));
    let (base, env) = (sim.base_url(), redis_cloud_env(&sim));
    let extra = ["--interval", "200ms", "--lease", "60s", "-v"];
    let first = worker("redis-cloud", &url, &base, &extra, &env);
    let waiter = waiter("redis-cloud", &[&id], &url, &[]);
    let started = Instant::now();
    until("the worker polls", Duration::from_secs(10), || {
        sim.counts().total >= 2
    })
    .await;
    let log = stop(first).await;
    assert!(log.contains("handed 1 waits back"), "{log}");
    let _second = worker("redis-cloud", &url, &base, &extra, &env);
    // Done within the task's 2.5 s and a poll, not after the first worker's 60 s lease.
    let lines = waiter.ends_with(0, Duration::from_secs(10)).await;
    assert_eq!(lines[0]["outcome"], "completed");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_processes_share_one_budget_per_credential() {
    let server = redis();
    let url = server.url();
    // The vendor allows 30 requests per 2 s window (compressed from a minute); the
    // fleet's budget is 20 in any 2 s, below it as the default budget is below Redis
    // Cloud's 400 a minute (at 0 remaining the client pauses for a whole minute).
    let sim = redis_cloud_sim(RedisCloudSimConfig {
        rate_limit_per_minute: 30,
        rate_window: Duration::from_secs(2),
        ..RedisCloudSimConfig::default()
    })
    .await;
    let ids: Vec<String> = (0..30)
        .map(|i| sim.create_task(succeeds_after(Duration::from_millis(1500 + 100 * i))))
        .collect();
    let (base, env) = (sim.base_url(), redis_cloud_env(&sim));
    // Each worker alone would send 10 requests a second; three of them, 60 per 2 s,
    // would pass the vendor's 30 per 2 s without the shared budget.
    let extra = [
        "--interval",
        "100ms",
        "--rate",
        "20/2s",
        "--max-waits",
        "10",
    ];
    let _workers: Vec<Running> = (0..3)
        .map(|_| worker("redis-cloud", &url, &base, &extra, &env))
        .collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let lines = waiter("redis-cloud", &ids, &url, &[])
        .ends_with(0, Duration::from_secs(40))
        .await;
    assert_eq!(by_id(&lines).len(), 30);
    let counts = sim.counts();
    assert_eq!(
        counts.status(429),
        0,
        "the vendor refused requests: {counts:?}"
    );
    // Every window of 2 s saw about 20 requests at most: the budget counts a request
    // when it grants it, and on a loaded machine a process may send it a little later,
    // so the simulator, counting arrivals, may see a few more in some window.
    let times: Vec<u64> = sim.requests().iter().map(|r| r.at_ms).collect();
    let most = busiest_window(&times, 2000);
    assert!(most <= 23, "{most} requests in 2 s: {times:?}");
    assert!(times.len() >= 20, "{} requests", times.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_with_redis_refuses_worker_flags_and_bad_urls() {
    let with_redis = |flags: &[&'static str]| {
        let mut args = vec!["wait", "runware", "x", "--redis", "redis://127.0.0.1:1"];
        args.extend(flags);
        args
    };
    for (args, needle) in [
        (
            with_redis(&["--rate", "10/1s"]),
            "--rate is set on the workers",
        ),
        (
            with_redis(&["--interval", "1s"]),
            "--interval is set on the workers",
        ),
        (
            vec![
                "wait",
                "--spec",
                "specs/openai-batches.toml",
                "x",
                "--redis",
                "redis://127.0.0.1:1",
            ],
            "not --spec",
        ),
        (
            vec!["wait", "runware", "x", "--redis", "http://nope"],
            "invalid Redis URL",
        ),
        (
            vec!["worker", "runware", "--redis", "redis://127.0.0.1:1"],
            "missing credential: set RUNWARE_API_KEY",
        ),
    ] {
        let out = command(&args, &[]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_reports_redis_down_and_sigint_prints_interrupted_lines() {
    let mut server = redis();
    let url = server.url();
    server.kill();
    let waiter = waiter("runware", &["t-1", "t-2"], &url, &[]);
    let down = format!("Redis at {url} failed");
    until(
        "the waiter reports Redis down",
        Duration::from_secs(10),
        || waiter.stderr_so_far().contains(&down),
    )
    .await;
    waiter.signal("INT");
    let done = waiter.finish(Duration::from_secs(10)).await;
    let err = done.stderr.as_str();
    assert_eq!(done.code, Some(130), "{err}");
    assert!(err.contains(&down), "{err}");
    let lines = by_id(&done.json());
    assert_eq!(lines.len(), 2);
    assert!(lines.values().all(|l| l["outcome"] == "interrupted"));
}
