//! The fleet through the real binaries: `taskpoll worker` processes against the
//! simulators, `taskpoll wait --redis` printing the outcomes, and a real `redis-server`
//! the tests start on a free loopback port (install redis-server to run them).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use taskpoll_fleet::testing::RedisServer;
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::runware::{MediaKind, RunwareSim, RunwareSimConfig, RunwareTaskSpec};
use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};

const VENDOR_VARS: [&str; 5] = [
    "STREAM_API_KEY",
    "STREAM_API_SECRET",
    "REDIS_CLOUD_API_KEY",
    "REDIS_CLOUD_API_SECRET",
    "RUNWARE_API_KEY",
];

fn redis() -> RedisServer {
    RedisServer::start().unwrap_or_else(|e| panic!("{e}"))
}

fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_taskpoll"));
    for var in VENDOR_VARS {
        cmd.env_remove(var);
    }
    cmd.env_remove("RUST_LOG");
    cmd.args(args).envs(env.iter().copied());
    cmd
}

/// A `taskpoll worker` child process, killed when dropped.
struct WorkerProcess {
    child: Child,
    log: mpsc::Receiver<String>,
}

impl WorkerProcess {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = command(args, env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run taskpoll worker");
        let stderr = child.stderr.take().unwrap();
        let (tx, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        WorkerProcess { child, log }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to end; its exit code and everything it logged.
    fn finish(mut self) -> (Option<i32>, String) {
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let log: Vec<String> = self.log.try_iter().collect();
        (status.code(), log.join("\n"))
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `taskpoll wait --redis` process; its stdout lines arrive on a channel.
struct Waiter {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Waiter {
    fn start(args: &[&str]) -> Self {
        let mut child = command(args, &[])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run taskpoll wait");
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        Waiter {
            child,
            lines,
            stderr: Some(stderr),
        }
    }

    /// Waits up to `within` for the process to end: exit code, JSON lines, stderr.
    fn finish(mut self, within: Duration) -> (Option<i32>, Vec<Value>, String) {
        let started = Instant::now();
        let code = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status.code();
            }
            if started.elapsed() > within {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let err = self
                    .stderr
                    .take()
                    .map(|h| h.join().unwrap())
                    .unwrap_or_default();
                let got: Vec<String> = self.lines.try_iter().collect();
                panic!("taskpoll wait did not end within {within:?}; lines {got:?}; stderr {err}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(50));
        let lines = self
            .lines
            .try_iter()
            .map(|l| serde_json::from_str(&l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
            .collect();
        let err = self
            .stderr
            .take()
            .map(|h| h.join().unwrap())
            .unwrap_or_default();
        (code, lines, err)
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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

fn redis_cloud_env(sim: &RedisCloudSim) -> [(&'static str, String); 2] {
    [
        ("REDIS_CLOUD_API_KEY", sim.api_key().to_owned()),
        ("REDIS_CLOUD_API_SECRET", sim.secret_key().to_owned()),
    ]
}

fn env_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
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
    let base = sim.base_url();
    let worker = WorkerProcess::start(
        &[
            "worker",
            "runware",
            "--redis",
            &url,
            "--base-url",
            &base,
            "--interval",
            "100ms",
            "-v",
        ],
        &[("RUNWARE_API_KEY", sim.api_key())],
    );
    // The waiter has no vendor credentials: the worker has them.
    let waiter = Waiter::start(&[
        "wait",
        "runware",
        &two,
        "--redis",
        &url,
        "--results",
        "2",
        "--json",
        "-q",
    ]);
    let (code, lines, err) =
        tokio::task::spawn_blocking(move || waiter.finish(Duration::from_secs(20)))
            .await
            .unwrap();
    assert_eq!(code, Some(0), "{err}");
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
    let waiter = Waiter::start(&[
        "wait", "runware", &two, &one, "--redis", &url, "--json", "-q",
    ]);
    let (code, lines, err) =
        tokio::task::spawn_blocking(move || waiter.finish(Duration::from_secs(20)))
            .await
            .unwrap();
    assert_eq!(code, Some(0), "{err}");
    let lines = by_id(&lines);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[&two]["outcome"], "completed");
    assert_eq!(lines[&one]["outcome"], "completed");

    worker.signal("TERM");
    let (code, log) = tokio::task::spawn_blocking(move || worker.finish())
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("claimed 1 waits"), "{log}");
    assert!(log.contains("completed after"), "{log}");
    assert!(!log.contains(sim.api_key()), "the key in the log: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_and_timeouts_keep_their_exit_statuses() {
    let server = redis();
    let url = server.url();
    let sim = RedisCloudSim::start(RedisCloudSimConfig {
        serial_processing: false,
        ..RedisCloudSimConfig::default()
    })
    .await
    .unwrap();
    let failed = sim.create_task(TaskScript {
        steps: vec![ScriptStep::for_polls("processing-in-progress", 1)],
        outcome: ScriptOutcome::Failure {
            error: serde_json::json!({"type": "SUBSCRIPTION_NOT_ACTIVE", "status": "400 BAD_REQUEST", "description": "Subscription is not active"}),
        },
    });
    let slow = sim.create_task(succeeds_after(Duration::from_secs(60)));
    let env = redis_cloud_env(&sim);
    let base = sim.base_url();
    let _worker = WorkerProcess::start(
        &[
            "worker",
            "redis-cloud",
            "--redis",
            &url,
            "--base-url",
            &base,
            "--interval",
            "100ms",
        ],
        &env_refs(&env),
    );
    let waiter = Waiter::start(&[
        "wait",
        "redis-cloud",
        &failed,
        "--redis",
        &url,
        "--json",
        "-q",
    ]);
    let (code, lines, err) =
        tokio::task::spawn_blocking(move || waiter.finish(Duration::from_secs(20)))
            .await
            .unwrap();
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(lines[0]["outcome"], "failed");
    assert_eq!(
        lines[0]["error"]["type"], "SUBSCRIPTION_NOT_ACTIVE",
        "{}",
        lines[0]
    );

    // The enqueuer's --timeout is the wait's deadline, whichever worker polls it.
    let waiter = Waiter::start(&[
        "wait",
        "redis-cloud",
        &slow,
        &failed,
        "--redis",
        &url,
        "--timeout",
        "1s",
        "--json",
        "-q",
    ]);
    let (code, lines, err) =
        tokio::task::spawn_blocking(move || waiter.finish(Duration::from_secs(20)))
            .await
            .unwrap();
    assert_eq!(code, Some(3), "{err}");
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
    let sim = RedisCloudSim::start(RedisCloudSimConfig {
        serial_processing: false,
        ..RedisCloudSimConfig::default()
    })
    .await
    .unwrap();
    let ids: Vec<String> = (0..20)
        .map(|_| sim.create_task(succeeds_after(Duration::from_millis(3500))))
        .collect();
    let env = redis_cloud_env(&sim);
    let base = sim.base_url();
    let worker_args = [
        "worker",
        "redis-cloud",
        "--redis",
        &url,
        "--base-url",
        &base,
        "--interval",
        "200ms",
        "--lease",
        "1s",
    ];
    let first = WorkerProcess::start(&worker_args, &env_refs(&env));
    let mut args = vec!["wait", "redis-cloud"];
    args.extend(ids.iter().map(String::as_str));
    args.extend(["--redis", &url, "--json", "-q"]);
    let waiter = Waiter::start(&args);
    // Let the first worker poll for a while, then kill it mid-poll.
    let started = Instant::now();
    while sim.counts().total < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the worker never polled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    first.signal("KILL");
    let killed = Instant::now();
    let requests_at_kill = sim.counts().total;
    let second = WorkerProcess::start(&worker_args, &env_refs(&env));
    // The second worker polls again within the lease and a poll interval or so.
    while sim.counts().total == requests_at_kill {
        assert!(
            killed.elapsed() < Duration::from_secs(5),
            "nobody took the waits over"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let takeover = killed.elapsed();
    assert!(
        takeover < Duration::from_millis(1000 + 200 + 2500),
        "{takeover:?}"
    );
    let (code, lines, err) =
        tokio::task::spawn_blocking(move || waiter.finish(Duration::from_secs(30)))
            .await
            .unwrap();
    assert_eq!(code, Some(0), "{err}");
    let lines = by_id(&lines);
    assert_eq!(lines.len(), 20);
    assert!(lines.values().all(|l| l["outcome"] == "completed"));
    second.signal("TERM");
    let (code, log) = tokio::task::spawn_blocking(move || second.finish())
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{log}");
    drop(first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_hands_the_waits_back_at_once() {
    let server = redis();
    let url = server.url();
    let sim = RedisCloudSim::start(RedisCloudSimConfig {
        serial_processing: false,
        ..RedisCloudSimConfig::default()
    })
    .await
    .unwrap();
    let id = sim.create_task(succeeds_after(Duration::from_millis(2500)));
    let env = redis_cloud_env(&sim);
    let base = sim.base_url();
    let worker_args = [
        "worker",
        "redis-cloud",
        "--redis",
        &url,
        "--base-url",
        &base,
        "--interval",
        "200ms",
        "--lease",
        "60s",
        "-v",
    ];
    let first = WorkerProcess::start(&worker_args, &env_refs(&env));
    let waiter = Waiter::start(&["wait", "redis-cloud", &id, "--redis", &url, "--json", "-q"]);
    let started = Instant::now();
    while sim.counts().total < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the worker never polled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.signal("TERM");
    let (code, log) = tokio::task::spawn_blocking(move || first.finish())
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("handed 1 waits back"), "{log}");
    let _second = WorkerProcess::start(&worker_args, &env_refs(&env));
    // Done within the task's 2.5 s and a poll, not after the first worker's 60 s lease.
    let (code, lines, err) =
        tokio::task::spawn_blocking(move || waiter.finish(Duration::from_secs(10)))
            .await
            .unwrap();
    assert_eq!(code, Some(0), "{err}");
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
    let sim = RedisCloudSim::start(RedisCloudSimConfig {
        serial_processing: false,
        rate_limit_per_minute: 30,
        rate_window: Duration::from_secs(2),
        ..RedisCloudSimConfig::default()
    })
    .await
    .unwrap();
    let ids: Vec<String> = (0..30)
        .map(|i| sim.create_task(succeeds_after(Duration::from_millis(1500 + 100 * i))))
        .collect();
    let env = redis_cloud_env(&sim);
    let base = sim.base_url();
    // Each worker alone would send 10 requests a second; three of them, 60 per 2 s,
    // would pass the vendor's 30 per 2 s without the shared budget.
    let worker_args = [
        "worker",
        "redis-cloud",
        "--redis",
        &url,
        "--base-url",
        &base,
        "--interval",
        "100ms",
        "--rate",
        "20/2s",
        "--max-waits",
        "10",
    ];
    let _workers: Vec<WorkerProcess> = (0..3)
        .map(|_| WorkerProcess::start(&worker_args, &env_refs(&env)))
        .collect();
    let mut args = vec!["wait", "redis-cloud"];
    args.extend(ids.iter().map(String::as_str));
    args.extend(["--redis", &url, "--json", "-q"]);
    let waiter = Waiter::start(&args);
    let (code, lines, err) =
        tokio::task::spawn_blocking(move || waiter.finish(Duration::from_secs(40)))
            .await
            .unwrap();
    assert_eq!(code, Some(0), "{err}");
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
    let mut times: Vec<u64> = sim.requests().iter().map(|r| r.at_ms).collect();
    times.sort();
    for (i, t) in times.iter().enumerate() {
        let n = times[i..].iter().take_while(|u| **u < t + 2000).count();
        assert!(n <= 23, "{n} requests in 2 s from {t} ms");
    }
    assert!(times.len() >= 20, "{} requests", times.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_with_redis_refuses_worker_flags_and_bad_urls() {
    for (args, needle) in [
        (
            vec![
                "wait",
                "runware",
                "x",
                "--redis",
                "redis://127.0.0.1:1",
                "--rate",
                "10/1s",
            ],
            "--rate is set on the workers",
        ),
        (
            vec![
                "wait",
                "runware",
                "x",
                "--redis",
                "redis://127.0.0.1:1",
                "--interval",
                "1s",
            ],
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
    let waiter = Waiter::start(&[
        "wait", "runware", "t-1", "t-2", "--redis", &url, "--json", "-q",
    ]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let status = Command::new("kill")
        .args(["-INT", &waiter.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let (code, lines, err) =
        tokio::task::spawn_blocking(move || waiter.finish(Duration::from_secs(10)))
            .await
            .unwrap();
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains(&format!("Redis at {url} failed")), "{err}");
    let lines = by_id(&lines);
    assert_eq!(lines.len(), 2);
    assert!(lines.values().all(|l| l["outcome"] == "interrupted"));
}
