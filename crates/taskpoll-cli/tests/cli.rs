//! The real `taskpoll` binary against in-process simulators: every exit status, the JSON
//! lines, the help texts and the demo's summary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Output;
use std::time::Duration;

use serde_json::Value;
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::runware::{MediaKind, RunwareSim, RunwareSimConfig, RunwareTaskSpec};
use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};
use taskpoll_sim::stream::{StreamSim, StreamSimConfig};

mod common;
use common::{
    Running, fails, one_json_line, redis_cloud_env, runs_forever, stderr, stdout, stream_env,
    succeeds, taskpoll, until,
};

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

/// Runs `taskpoll wait stream IDS... --base-url SIM FLAGS...` with the simulator's
/// credentials.
async fn wait_stream(sim: &StreamSim, ids: &[&str], flags: &[&str]) -> Output {
    let base = sim.base_url();
    let mut args = vec!["wait", "stream"];
    args.extend(ids);
    args.extend(["--base-url", &base]);
    args.extend(flags);
    taskpoll(&args, &stream_env(sim)).await
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
    let id = sim.create_task(succeeds(
        1,
        serde_json::json!({"url": "https://example.test/export.json"}),
    ));
    let out = wait_stream(&sim, &[&id], &["--interval", "50ms", "--json"]).await;
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
    let quiet = wait_stream(&sim, &[&id], &["--json", "-q"]).await;
    assert_eq!(quiet.status.code(), Some(0));
    assert_eq!(stderr(&quiet), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_failed_exits_1_with_the_vendor_fields() {
    let sim = StreamSim::start(StreamSimConfig::default()).await.unwrap();
    let id = sim.create_task(fails(serde_json::json!({"type": "export_failed", "description": "channel messaging:missing does not exist", "stacktrace": "goroutine 42", "version": "v6.112.0"})));
    let out = wait_stream(&sim, &[&id], &["--json"]).await;
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Value> = stdout(&out).lines().map(redact_line).collect();
    insta::assert_json_snapshot!(lines);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_a_delete_with_a_failed_item_exits_1_naming_it() {
    let sim = StreamSim::start(StreamSimConfig::default()).await.unwrap();
    // Stream reports the task completed; one channel of it was not deleted.
    let id = sim.create_task(succeeds(
        1,
        taskpoll_sim::stream::item_results([
            ("messaging:general", None),
            ("messaging:frozen", Some("channel is frozen")),
        ]),
    ));
    let out = wait_stream(&sim, &[&id], &["--interval", "50ms", "--json"]).await;
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let lines: Vec<Value> = stdout(&out).lines().map(redact_line).collect();
    insta::assert_json_snapshot!(lines);
    // The plain line names the item and why.
    let out = wait_stream(&sim, &[&id], &["--interval", "50ms"]).await;
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
    let id = sim.create_task(runs_forever());
    let out = wait_stream(
        &sim,
        &[&id],
        &["--timeout", "600ms", "--interval", "200ms", "--json"],
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
    let out = wait_stream(&sim, &["no-such-task"], &["--json"]).await;
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
async fn the_base_url_comes_from_the_variable_taskpoll_sim_prints() {
    let sim = StreamSim::start(StreamSimConfig::default()).await.unwrap();
    let id = sim.create_task(succeeds(0, serde_json::json!({})));
    let base = sim.base_url();
    let [key, secret] = stream_env(&sim);
    let out = taskpoll(
        &["wait", "stream", &id, "--json"],
        &[key, secret, ("STREAM_BASE_URL", &base)],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(one_json_line(&stdout(&out))["outcome"], "completed");
    assert_eq!(sim.counts().total, 1);

    // --base-url wins over the variable (here a closed port).
    let out = taskpoll(
        &["wait", "stream", &id, "--json", "--base-url", &base],
        &[key, secret, ("STREAM_BASE_URL", "http://127.0.0.1:9")],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(sim.counts().total, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_several_tasks_the_highest_status_wins() {
    let sim = StreamSim::start(StreamSimConfig::default()).await.unwrap();
    let ok = sim.create_task(succeeds(0, serde_json::json!({})));
    let failed = sim.create_task(fails(serde_json::json!({"type": "x", "description": "y"})));
    let forever = sim.create_task(runs_forever());
    let flags = ["--timeout", "500ms", "--interval", "100ms", "--json"];
    let out = wait_stream(&sim, &[&ok, &failed], &flags).await;
    assert_eq!(out.status.code(), Some(1));
    let out = wait_stream(&sim, &[&ok, &failed, &forever], &flags).await;
    assert_eq!(out.status.code(), Some(3));
    let out = wait_stream(&sim, &[&forever, "missing", &failed, &ok], &flags).await;
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
    let id = redis.create_task(TaskScript {
        steps: vec![ScriptStep::for_polls("processing-in-progress", 1)],
        outcome: ScriptOutcome::Success {
            result: serde_json::json!({"resourceId": 77899}),
        },
    });
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
        &redis_cloud_env(&redis),
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
    let id = sim.create_task(runs_forever());
    let base = sim.base_url();
    let wait = Running::start(
        &[
            "wait",
            "stream",
            &id,
            "--base-url",
            &base,
            "--interval",
            "50ms",
        ],
        &stream_env(&sim),
    );
    until("it polls", Duration::from_secs(10), || {
        sim.counts().total >= 3
    })
    .await;
    wait.signal("INT");
    let started = std::time::Instant::now();
    let done = wait.finish(Duration::from_secs(10)).await;
    let took = started.elapsed();
    assert_eq!(done.code, Some(130), "stderr: {}", done.stderr);
    assert!(done.stderr.contains("interrupted"));
    assert!(took < Duration::from_secs(2), "took {took:?} to stop");
    let polls = sim.counts().total;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sim.counts().total, polls, "no request after the interrupt");
}
