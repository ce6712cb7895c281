//! The real `taskpoll wait` with many tasks: ids from stdin, batching through the
//! client's scheduler, the request rate, lines as tasks end, and SIGINT/SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::runware::{MediaKind, RunwareSim, RunwareSimConfig, RunwareTaskSpec};
use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};
use taskpoll_sim::stream::{StreamSim, StreamSimConfig};

mod common;
use common::{
    Running, busiest_window, json_lines, parts, redis_cloud_env, run, runs_forever, stream_env,
    succeeds, taskpoll_with_stdin, temp_dir, until,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_from_stdin_are_batched_per_post() {
    let sim = RunwareSim::start(RunwareSimConfig::default())
        .await
        .unwrap();
    let ids: Vec<String> = (0..400)
        .map(|_| sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1).finish_after_polls([2])))
        .collect();
    let mut input = ids.join("\n");
    // Blank lines and a duplicate are tolerated.
    input.push_str("\n\n");
    input.push_str(&ids[0]);
    input.push('\n');
    let base = sim.base_url();
    let (code, out, err) = parts(
        &taskpoll_with_stdin(
            &[
                "wait",
                "runware",
                "-",
                "--base-url",
                &base,
                "--interval",
                "100ms",
                "--json",
                "-q",
            ],
            &[("RUNWARE_API_KEY", sim.api_key())],
            Some(&input),
        )
        .await,
    );
    assert_eq!(code, Some(0), "{err}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 400, "one line per distinct id");
    assert!(lines.iter().all(|l| l["outcome"] == "completed"));
    assert!(err.contains("1 duplicate task ids waited on once"), "{err}");
    let counts = sim.counts();
    let polls: u64 = ids.iter().map(|id| counts.task(id)).sum();
    let posts = counts.endpoint("POST /v1 getResponse");
    assert_eq!(polls, 1200, "three polls per task");
    // 50 ids per POST at most: 1,200 polls in a few dozen POSTs, not 1,200.
    assert!(posts <= 40, "{posts} POSTs for {polls} polls");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cloud_waits_poll_the_task_list() {
    let sim = RedisCloudSim::start(RedisCloudSimConfig {
        serial_processing: false,
        ..RedisCloudSimConfig::default()
    })
    .await
    .unwrap();
    let ids: Vec<String> = (0..100)
        .map(|_| {
            sim.create_task(TaskScript {
                steps: vec![ScriptStep::for_polls("processing-in-progress", 2)],
                outcome: ScriptOutcome::Success {
                    result: json!({"resourceId": 1}),
                },
            })
        })
        .collect();
    let base = sim.base_url();
    let mut args = vec!["wait", "redis-cloud"];
    args.extend(ids.iter().map(String::as_str));
    args.extend(["--base-url", &base, "--interval", "100ms", "--json", "-q"]);
    let (code, out, err) = run(&args, &redis_cloud_env(&sim)).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(json_lines(&out).len(), 100);
    let counts = sim.counts();
    let lists = counts.endpoint("GET /v1/tasks");
    let singles = counts.endpoint("GET /v1/tasks/{taskId}");
    assert!(
        lists + singles <= 10,
        "{lists} list and {singles} single requests for 300 polls"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_holds_for_every_wait_together() {
    let sim = StreamSim::start(StreamSimConfig::default()).await.unwrap();
    let ids: Vec<String> = (0..10)
        .map(|_| sim.create_task(succeeds(3, json!({}))))
        .collect();
    let base = sim.base_url();
    let mut args = vec!["wait", "stream"];
    args.extend(ids.iter().map(String::as_str));
    args.extend([
        "--base-url",
        &base,
        "--interval",
        "50ms",
        "--rate",
        "10/1s",
        "--json",
        "-q",
    ]);
    let started = Instant::now();
    let (code, out, err) = run(&args, &stream_env(&sim)).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(json_lines(&out).len(), 10);
    // 40 polls at 10 a second: about 3 seconds where 50 ms intervals alone take 0.15 s.
    assert!(started.elapsed() >= Duration::from_millis(2900));
    let times: Vec<u64> = sim
        .requests()
        .iter()
        .filter(|r| r.endpoint == "GET /api/v2/tasks/{id}")
        .map(|r| r.at_ms)
        .collect();
    assert_eq!(times.len(), 40);
    // As the server saw them, not only as the client sent them.
    let most = busiest_window(&times, 1000);
    assert!(most <= 10, "{most} requests within a second: {times:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_prints_every_unfinished_task_and_exits_130() {
    let sim = StreamSim::start(StreamSimConfig::default()).await.unwrap();
    let fast = sim.create_task(succeeds(1, json!({})));
    let slow: Vec<String> = (0..3).map(|_| sim.create_task(runs_forever())).collect();
    let base = sim.base_url();
    let mut args = vec!["wait", "stream", fast.as_str()];
    args.extend(slow.iter().map(String::as_str));
    args.extend(["--base-url", &base, "--interval", "50ms", "--json", "-q"]);
    let wait = Running::start(&args, &stream_env(&sim));
    // The fast task's line arrives while the others still run.
    let first = wait.next_line(Duration::from_secs(10));
    // Each slow task polled at least twice (and perhaps once more, in flight).
    until("the slow tasks are polled", Duration::from_secs(10), || {
        slow.iter().all(|id| sim.counts().task(id) >= 3)
    })
    .await;
    wait.signal("TERM");
    let started = Instant::now();
    let done = wait.finish(Duration::from_secs(10)).await;
    let took = started.elapsed();
    assert_eq!(done.code, Some(130), "{}", done.stderr);
    assert!(took < Duration::from_secs(2), "took {took:?} to stop");
    let first: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["task_id"], fast.as_str());
    assert_eq!(first["outcome"], "completed");
    let rest = done.json();
    let mut interrupted: Vec<&str> = rest
        .iter()
        .map(|l| {
            assert_eq!(l["outcome"], "interrupted", "{l}");
            assert_eq!(l["error"]["last_status"], "running", "{l}");
            assert!(l["polls"].as_u64().unwrap() >= 2, "{l}");
            l["task_id"].as_str().unwrap()
        })
        .collect();
    interrupted.sort();
    let mut want: Vec<&str> = slow.iter().map(String::as_str).collect();
    want.sort();
    assert_eq!(interrupted, want);
    let polls = sim.counts().total;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sim.counts().total, polls, "no request after the signal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_that_never_fetched_a_status_says_why() {
    // A port nothing listens on: every request is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let id = "6a1c0f7e-3b52-4c8e-9a61-2f0d8d1b7c44";
    let env = [("STREAM_API_KEY", "key"), ("STREAM_API_SECRET", "secret")];
    let args = [
        "wait",
        "stream",
        id,
        "--base-url",
        &base,
        "--timeout",
        "600ms",
        "--interval",
        "100ms",
        "-q",
    ];
    let (code, out, err) = run(&args, &env).await;
    assert_eq!(code, Some(3), "{err}");
    assert!(
        out.contains("no status was ever fetched") && out.contains("the last error was"),
        "{out}"
    );
    assert!(!out.contains("polls,") && !out.contains("1 polls"));
    let (_, out, _) = run(&[&args[..], &["--json"]].concat(), &env).await;
    let line = &json_lines(&out)[0];
    assert_eq!(line["outcome"], "timed_out");
    assert!(line["error"]["last_error"].as_str().is_some(), "{line}");
    assert!(line["error"]["last_status"].is_null(), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_come_from_files() {
    let sim = StreamSim::start(StreamSimConfig::default()).await.unwrap();
    let id = sim.create_task(succeeds(0, json!({})));
    let dir = temp_dir("keys");
    let key = dir.join("key");
    let secret = dir.join("secret");
    std::fs::write(&key, format!("{}\n", sim.api_key())).unwrap();
    std::fs::write(&secret, format!("{}\r\n", sim.api_secret())).unwrap();
    let base = sim.base_url();
    let (code, out, err) = run(
        &[
            "wait",
            "stream",
            &id,
            "--base-url",
            &base,
            "--api-key-file",
            key.to_str().unwrap(),
            "--api-secret-file",
            secret.to_str().unwrap(),
            "-q",
        ],
        &[],
    )
    .await;
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("completed"), "{out}");
    assert!(!out.contains(sim.api_secret()) && !err.contains(sim.api_secret()));
    let missing = dir.join("missing");
    let (code, _, err) = run(
        &[
            "wait",
            "stream",
            &id,
            "--api-key-file",
            missing.to_str().unwrap(),
            "--api-secret",
            "x",
        ],
        &[],
    )
    .await;
    assert_eq!(code, Some(2));
    assert!(err.contains("cannot read --api-key-file"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_and_runtime_failures() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let (code, out, _) = run(&["completions", shell], &[]).await;
        assert_eq!(code, Some(0));
        assert!(out.contains("taskpoll"), "{shell}");
    }
    // A port in use is a runtime failure (1), not a usage error (2).
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, _, err) = run(&["sim", "--stream", &addr], &[]).await;
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("sim:"), "{err}");
}
