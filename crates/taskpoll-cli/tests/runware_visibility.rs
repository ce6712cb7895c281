//! `taskpoll wait runware` on a task Runware does not show: waited for within the
//! visibility grace (5 s), then reported as an unknown task with exit status 4.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;
use taskpoll_sim::runware::{MediaKind, RunwareSim, RunwareSimConfig, RunwareTaskSpec};

mod common;
use common::{one_json_line, stderr, stdout, taskpoll};

/// Runs `taskpoll wait runware UUID --base-url SIM --json FLAGS...` with the
/// simulator's key: its output and its one JSON line.
async fn wait(sim: &RunwareSim, uuid: &str, flags: &[&str]) -> (Output, Value) {
    let base = sim.base_url();
    let mut args = vec!["wait", "runware", uuid, "--base-url", &base, "--json"];
    args.extend(flags);
    let out = taskpoll(&args, &[("RUNWARE_API_KEY", sim.api_key())]).await;
    let line = one_json_line(&stdout(&out));
    (out, line)
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
    let (out, line) = wait(&sim, &uuid, &["--interval", "200ms"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(line["outcome"], "completed");
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
    let started = Instant::now();
    let (out, line) = wait(&sim, &never, &["--interval", "1s", "--timeout", "60s"]).await;
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    // First poll after 1 s, then every second: the first poll past the 5 s grace (at
    // 5 s or 6 s, as the timer falls) ends the wait; the 60 s deadline is far.
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(9),
        "{took:?}"
    );
    assert_eq!(line["outcome"], "error");
    let text = line.to_string();
    assert!(text.contains("taskFailedOrNotFound"), "{text}");
    let polls = sim.counts().task(&never);
    assert!((5..=6).contains(&polls), "{polls} polls");
}
