//! The real `taskpoll` binary against in-process simulators: every exit status, the JSON
//! lines, the help texts and the demo's summary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::runware::{MediaKind, RunwareSim, RunwareSimConfig, RunwareTaskSpec};
use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};
use taskpoll_sim::stream::{StreamSim, StreamSimConfig};

const VENDOR_VARS: [&str; 5] = [
    "STREAM_API_KEY",
    "STREAM_API_SECRET",
    "REDIS_CLOUD_API_KEY",
    "REDIS_CLOUD_API_SECRET",
    "RUNWARE_API_KEY",
];

/// Runs `taskpoll ARGS` with exactly `env` among the vendor variables.
async fn taskpoll(args: &[&str], env: &[(&str, &str)]) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_taskpoll"));
        for var in VENDOR_VARS {
            cmd.env_remove(var);
        }
        cmd.env("NO_COLOR", "1")
            .args(&args)
            .envs(env)
            .output()
            .expect("run taskpoll")
    })
    .await
    .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Replaces every run of at least 8 lower-case hex digits and dashes that holds a digit
/// (UUIDs, their clipped prefixes) with `[uuid]`.
fn redact_uuids(text: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 8 && run.chars().any(|c| c.is_ascii_digit()) {
            out.push_str("[uuid]");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() || ('a'..='f').contains(&c) || c == '-' {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// A `--json` line with what varies between runs redacted.
fn redact_line(line: &str) -> Value {
    let mut v: Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}"));
    v["elapsed_ms"] = Value::String("[ms]".into());
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, val) in map.iter_mut() {
                    if k.ends_with("_at") || k == "timestamp" || k == "duration" {
                        *val = Value::String("[time]".into());
                    } else if k == "seed" {
                        // The Runware simulator draws each result's seed at random.
                        *val = Value::String("[seed]".into());
                    } else {
                        walk(val);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            Value::String(s) => *s = redact_uuids(s),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

fn script(steps: Vec<ScriptStep>, outcome: ScriptOutcome) -> TaskScript {
    TaskScript { steps, outcome }
}

fn stream_env(sim: &StreamSim) -> Vec<(&'static str, String)> {
    vec![
        ("STREAM_API_KEY", sim.api_key().to_owned()),
        ("STREAM_API_SECRET", sim.api_secret().to_owned()),
    ]
}

fn pairs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_texts() {
    for args in [
        vec!["--help"],
        vec!["wait", "--help"],
        vec!["demo", "--help"],
        vec!["sim", "--help"],
    ] {
        let out = taskpoll(&args, &[]).await;
        assert_eq!(out.status.code(), Some(0));
        insta::assert_snapshot!(format!("help {}", args.join(" ")), stdout(&out));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_completed_exits_0_with_a_json_line() {
    let sim = StreamSim::start(StreamSimConfig::default()).await.unwrap();
    let id = sim.create_task(script(
        vec![ScriptStep::for_polls("running", 1)],
        ScriptOutcome::Success {
            result: serde_json::json!({"url": "https://example.test/export.json"}),
        },
    ));
    let env = stream_env(&sim);
    let out = taskpoll(
        &[
            "wait",
            "stream",
            &id,
            "--base-url",
            &sim.base_url(),
            "--interval",
            "50ms",
            "--json",
        ],
        &pairs(&env),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    // Off a terminal, progress is a plain line per change, for logs.
    let progress = stderr(&out);
    assert!(
        progress.contains(&format!("stream {id} running")),
        "{progress}"
    );
    assert!(!progress.contains('\x1b'), "no escape codes off a terminal");
    let lines: Vec<Value> = stdout(&out).lines().map(redact_line).collect();
    insta::assert_json_snapshot!(lines);
    // -q: nothing on stderr at all.
    let quiet = taskpoll(
        &[
            "wait",
            "stream",
            &id,
            "--base-url",
            &sim.base_url(),
            "--json",
            "-q",
        ],
        &pairs(&env),
    )
    .await;
    assert_eq!(quiet.status.code(), Some(0));
    assert_eq!(stderr(&quiet), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_failed_exits_1_with_the_vendor_fields() {
    let sim = StreamSim::start(StreamSimConfig::default()).await.unwrap();
    let id = sim.create_task(script(
        vec![],
        ScriptOutcome::Failure {
            error: serde_json::json!({"type": "export_failed", "description": "channel messaging:missing does not exist", "stacktrace": "goroutine 42", "version": "v6.112.0"}),
        },
    ));
    let env = stream_env(&sim);
    let out = taskpoll(
        &[
            "wait",
            "stream",
            &id,
            "--base-url",
            &sim.base_url(),
            "--json",
        ],
        &pairs(&env),
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Value> = stdout(&out).lines().map(redact_line).collect();
    insta::assert_json_snapshot!(lines);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_a_delete_with_a_failed_item_exits_1_naming_it() {
    let sim = StreamSim::start(StreamSimConfig::default()).await.unwrap();
    // Stream reports the task completed; one channel of it was not deleted.
    let id = sim.create_task(script(
        vec![ScriptStep::for_polls("running", 1)],
        ScriptOutcome::Success {
            result: taskpoll_sim::stream::item_results([
                ("messaging:general", None),
                ("messaging:frozen", Some("channel is frozen")),
            ]),
        },
    ));
    let env = stream_env(&sim);
    let args = [
        "wait",
        "stream",
        &id,
        "--base-url",
        &sim.base_url(),
        "--interval",
        "50ms",
    ];
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let out = taskpoll(&json_args, &pairs(&env)).await;
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let lines: Vec<Value> = stdout(&out).lines().map(redact_line).collect();
    insta::assert_json_snapshot!(lines);
    // The plain line names the item and why.
    let out = taskpoll(&args, &pairs(&env)).await;
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("items_failed: 1 of 2 items failed: messaging:frozen (channel is frozen)"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_exit_2() {
    let out = taskpoll(&["wait", "stream", "some-task"], &[]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("STREAM_API_KEY"),
        "names the variable: {}",
        stderr(&out)
    );

    let out = taskpoll(&["wait", "redis-cloud", "t", "--api-key", "k"], &[]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("REDIS_CLOUD_API_SECRET"),
        "{}",
        stderr(&out)
    );

    let out = taskpoll(&["wait", "runware", "t"], &[]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("RUNWARE_API_KEY"), "{}", stderr(&out));

    let out = taskpoll(&["wait", "nosuchvendor", "t"], &[]).await;
    assert_eq!(out.status.code(), Some(2));

    let out = taskpoll(
        &["wait", "stream", "t", "--results", "2"],
        &[("STREAM_API_KEY", "k"), ("STREAM_API_SECRET", "s")],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));

    let out = taskpoll(&["wait", "stream", "t", "--timeout", "ten seconds"], &[]).await;
    assert_eq!(out.status.code(), Some(2));

    let out = taskpoll(
        &[
            "wait",
            "stream",
            "t",
            "--base-url",
            "http://api.example.com",
        ],
        &[("STREAM_API_KEY", "k"), ("STREAM_API_SECRET", "s")],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "plain HTTP off loopback is refused: {}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_exits_3() {
    let sim = StreamSim::start(StreamSimConfig::default()).await.unwrap();
    let id = sim.create_task(script(
        vec![ScriptStep::for_time("running", Duration::from_secs(3600))],
        ScriptOutcome::Success {
            result: serde_json::json!({}),
        },
    ));
    let env = stream_env(&sim);
    let out = taskpoll(
        &[
            "wait",
            "stream",
            &id,
            "--base-url",
            &sim.base_url(),
            "--timeout",
            "600ms",
            "--interval",
            "200ms",
            "--json",
        ],
        &pairs(&env),
    )
    .await;
    assert_eq!(out.status.code(), Some(3));
    let line = redact_line(stdout(&out).trim());
    assert_eq!(line["outcome"], "timed_out");
    assert_eq!(line["error"]["kind"], "timed_out");
    assert_eq!(line["error"]["last_status"], "running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfetchable_status_exits_4() {
    let sim = StreamSim::start(StreamSimConfig::default()).await.unwrap();
    let env = stream_env(&sim);
    let out = taskpoll(
        &[
            "wait",
            "stream",
            "no-such-task",
            "--base-url",
            &sim.base_url(),
            "--json",
        ],
        &pairs(&env),
    )
    .await;
    assert_eq!(out.status.code(), Some(4));
    let line = redact_line(stdout(&out).trim());
    assert_eq!(line["outcome"], "error");
    assert_eq!(
        sim.counts().total,
        1,
        "a 404 ends the wait after one request"
    );

    let out = taskpoll(
        &["wait", "stream", "t", "--base-url", &sim.base_url()],
        &[("STREAM_API_KEY", "wrong"), ("STREAM_API_SECRET", "wrong")],
    )
    .await;
    assert_eq!(out.status.code(), Some(4));
    assert!(
        !stdout(&out).contains("wrong") && !stderr(&out).contains("wrong"),
        "no credential in the output"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_several_tasks_the_highest_status_wins() {
    let sim = StreamSim::start(StreamSimConfig::default()).await.unwrap();
    let ok = sim.create_task(script(
        vec![],
        ScriptOutcome::Success {
            result: serde_json::json!({}),
        },
    ));
    let failed = sim.create_task(script(
        vec![],
        ScriptOutcome::Failure {
            error: serde_json::json!({"type": "x", "description": "y"}),
        },
    ));
    let forever = sim.create_task(script(
        vec![ScriptStep::for_time("running", Duration::from_secs(3600))],
        ScriptOutcome::Success {
            result: serde_json::json!({}),
        },
    ));
    let env = stream_env(&sim);
    let base = sim.base_url();
    let env = pairs(&env);
    let run = |ids: &[&str]| {
        let mut args: Vec<String> = vec!["wait".into(), "stream".into()];
        args.extend(ids.iter().map(|s| s.to_string()));
        for a in [
            "--base-url",
            base.as_str(),
            "--timeout",
            "500ms",
            "--interval",
            "100ms",
            "--json",
        ] {
            args.push(a.to_owned());
        }
        args
    };
    let go = |args: Vec<String>| {
        let env = env.clone();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            taskpoll(&args, &env).await
        }
    };
    assert_eq!(go(run(&[&ok, &failed])).await.status.code(), Some(1));
    assert_eq!(
        go(run(&[&ok, &failed, &forever])).await.status.code(),
        Some(3)
    );
    let out = go(run(&[&forever, "missing", &failed, &ok])).await;
    assert_eq!(out.status.code(), Some(4));
    let outcomes: Vec<(String, String)> = stdout(&out)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["task_id"].as_str().unwrap().to_owned(),
                v["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // One line per task, printed the moment it ends: the wait that times out last.
    assert_eq!(outcomes.len(), 4, "{outcomes:?}");
    assert_eq!(outcomes[3], (forever.clone(), "timed_out".to_owned()));
    let mut first: Vec<(String, String)> = outcomes[..3].to_vec();
    first.sort();
    let mut want = vec![
        (ok.clone(), "completed".to_owned()),
        (failed.clone(), "failed".to_owned()),
        ("missing".to_owned(), "error".to_owned()),
    ];
    want.sort();
    assert_eq!(first, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cloud_and_runware_waits() {
    let redis = RedisCloudSim::start(RedisCloudSimConfig::default())
        .await
        .unwrap();
    let id = redis.create_task(script(
        vec![ScriptStep::for_polls("processing-in-progress", 1)],
        ScriptOutcome::Success {
            result: serde_json::json!({"resourceId": 77899}),
        },
    ));
    let out = taskpoll(
        &[
            "wait",
            "redis-cloud",
            &id,
            "--base-url",
            &redis.base_url(),
            "--backoff",
            "50ms..200ms",
            "--json",
        ],
        &[
            ("REDIS_CLOUD_API_KEY", redis.api_key()),
            ("REDIS_CLOUD_API_SECRET", redis.secret_key()),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let redis_line = redact_line(stdout(&out).trim());

    let runware = RunwareSim::start(RunwareSimConfig::default())
        .await
        .unwrap();
    let uuid =
        runware.create_task(RunwareTaskSpec::new(MediaKind::Video, 2).finish_after_polls([1, 2]));
    let out = taskpoll(
        &[
            "wait",
            "runware",
            &uuid,
            "--results",
            "2",
            "--base-url",
            &runware.base_url(),
            "--interval",
            "50ms",
            "--json",
        ],
        &[("RUNWARE_API_KEY", runware.api_key())],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let runware_line = redact_line(stdout(&out).trim());
    insta::assert_json_snapshot!([redis_line, runware_line]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_summary() {
    let out = taskpoll(&["demo", "--speed", "4"], &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Ids, poll counts, times and request totals vary between runs.
    let table: Vec<String> = stdout(&out)
        .lines()
        .map(|line| {
            if line.starts_with("completed") || line.starts_with("failed") {
                // POLLS and ELAPSED are the columns from 86 to 100.
                let chars: Vec<char> = line.chars().collect();
                let head: String = chars.iter().take(86).collect();
                let tail: String = chars.iter().skip(100).collect();
                format!(
                    "{} [polls, time] {}",
                    redact_uuids(head.trim_end()),
                    redact_uuids(tail.trim_start())
                )
            } else if line.contains(" sent, ") {
                // Each number becomes one `#`.
                let mut out = String::new();
                for c in line.chars() {
                    if !c.is_ascii_digit() {
                        out.push(c);
                    } else if !out.ends_with('#') {
                        out.push('#');
                    }
                }
                out
            } else {
                line.to_owned()
            }
        })
        .collect();
    insta::assert_snapshot!(table.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_the_wait_at_once() {
    let sim = StreamSim::start(StreamSimConfig::default()).await.unwrap();
    let id = sim.create_task(script(
        vec![ScriptStep::for_time("running", Duration::from_secs(3600))],
        ScriptOutcome::Success {
            result: serde_json::json!({}),
        },
    ));
    let env = stream_env(&sim);
    let base = sim.base_url();
    let out = tokio::task::spawn_blocking(move || {
        let child = Command::new(env!("CARGO_BIN_EXE_taskpoll"))
            .args([
                "wait",
                "stream",
                &id,
                "--base-url",
                &base,
                "--interval",
                "50ms",
            ])
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run taskpoll");
        std::thread::sleep(Duration::from_millis(500));
        let sent = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
        let started = std::time::Instant::now();
        let out = child.wait_with_output().expect("wait for taskpoll");
        (out, started.elapsed())
    })
    .await
    .unwrap();
    let (out, took) = out;
    assert_eq!(out.status.code(), Some(130), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("interrupted"));
    assert!(took < Duration::from_secs(2), "took {took:?} to stop");
    let polls = sim.counts().total;
    assert!(
        polls >= 3,
        "it was polling before the interrupt ({polls} requests)"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sim.counts().total, polls, "no request after the interrupt");
}
