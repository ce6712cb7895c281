//! `taskpoll wait runware` on a task Runware does not show: waited for within the
//! visibility grace (5 s), then reported as an unknown task with exit status 4.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;
use taskpoll_sim::runware::{MediaKind, RunwareSim, RunwareSimConfig, RunwareTaskSpec};

/// Runs `taskpoll ARGS` with `RUNWARE_API_KEY` set to `key`.
async fn taskpoll(args: &[&str], key: &str) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let key = key.to_owned();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_taskpoll"))
            .env_remove("RUNWARE_API_KEY")
            .env("NO_COLOR", "1")
            .env("RUNWARE_API_KEY", key)
            .args(&args)
            .output()
            .expect("run taskpoll")
    })
    .await
    .unwrap()
}

fn json_line(o: &Output) -> Value {
    let out = String::from_utf8_lossy(&o.stdout);
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON: {out}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_runware_does_not_show_yet_is_waited_for() {
    let sim = RunwareSim::start(RunwareSimConfig::default())
        .await
        .unwrap();
    let uuid = sim.create_task(
        RunwareTaskSpec::new(MediaKind::Image, 1)
            .finish_after_polls([1])
            .not_found_polls(2),
    );
    let base = sim.base_url();
    let args = [
        "wait",
        "runware",
        &uuid,
        "--base-url",
        &base,
        "--interval",
        "200ms",
        "--json",
    ];
    let out = taskpoll(&args, sim.api_key()).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json_line(&out)["outcome"], "completed");
    assert_eq!(
        sim.counts().task(&uuid),
        4,
        "two unknown answers, then the task"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_runware_never_shows_exits_4_after_the_grace() {
    let sim = RunwareSim::start(RunwareSimConfig::default())
        .await
        .unwrap();
    let never =
        sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1).not_found_polls(u32::MAX));
    let base = sim.base_url();
    let args = [
        "wait",
        "runware",
        &never,
        "--base-url",
        &base,
        "--interval",
        "1s",
        "--timeout",
        "60s",
        "--json",
    ];
    let started = Instant::now();
    let out = taskpoll(&args, sim.api_key()).await;
    let took = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // First poll after 1 s, then every second: the first poll past the 5 s grace (at
    // 5 s or 6 s, as the timer falls) ends the wait; the 60 s deadline is far.
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(9),
        "{took:?}"
    );
    let line = json_line(&out);
    assert_eq!(line["outcome"], "error");
    let text = line.to_string();
    assert!(text.contains("taskFailedOrNotFound"), "{text}");
    let polls = sim.counts().task(&never);
    assert!((5..=6).contains(&polls), "{polls} polls");
}
