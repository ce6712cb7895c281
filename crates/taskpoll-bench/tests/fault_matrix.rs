//! The fault matrix, small: for each vendor, 100 scripted tasks waited on at once
//! through its simulator while it injects seeded faults (5xx, resets, 429 with
//! `Retry-After`, malformed bodies, answers slower than the client's timeout). Every
//! outcome must be exactly the scripted one and no request may come before a
//! `Retry-After` allowed. `cargo run --release -p taskpoll-bench -- fault-matrix` runs
//! the same code with 1,000 tasks per vendor (see docs/reliability.md).
//!
//! The last tests prove the `Retry-After` check can fail: a client told to ignore
//! `Retry-After` is caught by every simulator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use taskpoll::Poller;
use taskpoll::strategy::Fixed;
use taskpoll_bench::matrix::{self as engine, Matrix, Report};
use taskpoll_redis_cloud::RedisCloudClient;
use taskpoll_runware::{RunwareClient, RunwareTaskId};
use taskpoll_sim::faults::{Fault, FaultPlan};
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::runware::{MediaKind, RunwareSim, RunwareSimConfig, RunwareTaskSpec};
use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};
use taskpoll_sim::stream::{StreamSim, StreamSimConfig};
use taskpoll_stream::StreamClient;

const TASKS: usize = 100;
const SEED: u64 = 7;

fn matrix() -> Matrix {
    // Deadlines far beyond what a correct run needs (a few seconds), short of hanging CI.
    Matrix {
        deadline: Duration::from_secs(90),
        ..Matrix::new(TASKS, SEED)
    }
}

fn assert_clean(report: &Report) {
    eprintln!("{report}");
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.correct, TASKS);
    let f = &report.faults;
    // The faults did happen, every kind of them.
    assert!(
        f.server_error > 0 && f.reset > 0 && f.rate_limited > 0 && f.malformed > 0 && f.slow > 0,
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_outcomes_survive_the_faults() {
    assert_clean(&engine::stream(&matrix()).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cloud_outcomes_survive_the_faults() {
    assert_clean(&engine::redis_cloud(&matrix()).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runware_outcomes_survive_the_faults() {
    assert_clean(&engine::runware(&matrix()).await.unwrap());
}

#[test]
fn the_fault_replay_recovers_what_the_simulator_counted() {
    use taskpoll_sim::accounting::Counts;
    let plan = matrix().plan();
    // Draw as a simulator would, and record what it would have recorded when every slow
    // answer is dropped with its connection: each draw but the slow ones.
    let injector = taskpoll_sim::faults::FaultInjector::default();
    injector.set(plan.clone());
    let mut expected = engine::FaultTally::default();
    let mut counts = Counts::default();
    let (mut clean, mut recorded) = (0, 0);
    while clean < 150 {
        let fault = injector.draw(true);
        if !matches!(fault, Some(Fault::Slow { .. })) {
            recorded += 1;
        }
        match fault {
            None => clean += 1,
            Some(Fault::Slow { .. }) => expected.slow += 1,
            Some(Fault::ServerError { status }) => {
                expected.server_error += 1;
                *counts.by_status.entry(status).or_default() += 1;
            }
            Some(Fault::RateLimited { .. }) => {
                expected.rate_limited += 1;
                *counts.by_status.entry(429).or_default() += 1;
            }
            Some(Fault::Reset) => expected.reset += 1,
            Some(Fault::Malformed) => expected.malformed += 1,
            Some(other) => panic!("{other:?}"),
        }
        if fault.is_some_and(|f| !matches!(f, Fault::Slow { .. })) {
            counts.faults += 1;
        }
    }
    assert!(
        expected.slow > 0 && expected.server_error > 0,
        "{expected:?}"
    );
    assert_eq!(engine::tally(&plan, recorded, &counts).unwrap(), expected);
    // A slow answer that was recorded after all is found as such.
    let mut late = counts.clone();
    late.faults += 1;
    let t = engine::tally(&plan, recorded + 1, &late).unwrap();
    assert_eq!((t.slow, t.slow_answered), (expected.slow, 1));
    // Counts that do not add up are reported, not papered over.
    let mut wrong = counts.clone();
    *wrong.by_status.entry(429).or_default() += 1;
    assert!(engine::tally(&plan, recorded, &wrong).is_err());
}

// --- The Retry-After check can fail ------------------------------------------------

/// Three 429s with `Retry-After: 1` on the first three status requests.
fn three_429s() -> FaultPlan {
    let ra = Fault::RateLimited {
        retry_after_secs: Some(1),
    };
    FaultPlan::default().at(1, ra).at(2, ra).at(3, ra)
}

/// A poller that ignores `Retry-After` (its ceiling is zero) and polls every 20 ms.
fn impatient<S: taskpoll::TaskSource>(poller: Poller<S>) -> Poller<S> {
    poller.configure(|p| {
        p.initial_delay(Duration::ZERO)
            .interval(Fixed::new(Duration::from_millis(20)))
            .retry_after_ceiling(Duration::ZERO)
            .deadline(Duration::from_secs(10))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_catches_a_client_that_ignores_retry_after() {
    // Stream's simulator sends Retry-After only when asked (Stream's 429s carry the
    // X-RateLimit-* headers alone). Its own API key keeps this client off the request
    // budget of the Stream matrix above, which runs at the same time in this process
    // and pauses that budget after each of its 429s.
    let sim = StreamSim::start(StreamSimConfig {
        api_key: "sim-stream-key-retry-after-check".into(),
        send_retry_after: true,
        ..StreamSimConfig::default()
    })
    .await
    .unwrap();
    let id = sim.create_task(TaskScript {
        steps: vec![ScriptStep::for_polls("running", 1)],
        outcome: ScriptOutcome::Success {
            result: serde_json::json!({"ok": true}),
        },
    });
    sim.set_faults(three_429s());
    let client = StreamClient::builder(sim.api_key(), sim.api_secret())
        .base_url(&sim.base_url())
        .build()
        .unwrap();
    impatient(client.poller()).wait(id).await.unwrap();
    // The 2nd, 3rd and 4th requests each came 20 ms after a Retry-After of 1 s.
    assert_eq!(sim.counts().retry_after_violations, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cloud_catches_a_client_that_ignores_retry_after() {
    let sim = RedisCloudSim::start(RedisCloudSimConfig::default())
        .await
        .unwrap();
    let id = sim.create_task(TaskScript {
        steps: vec![ScriptStep::for_polls("processing-in-progress", 1)],
        outcome: ScriptOutcome::Success {
            result: serde_json::json!({"resourceId": 1}),
        },
    });
    sim.set_faults(three_429s());
    let client = RedisCloudClient::builder(sim.api_key(), sim.secret_key())
        .base_url(&sim.base_url())
        .build()
        .unwrap();
    // Per-task GETs (a scheduler of its own, not batched): the simulator tells a
    // violation by the task a request names, and a task-list request names none.
    impatient(Poller::new(client.source()))
        .wait(id)
        .await
        .unwrap();
    assert_eq!(sim.counts().retry_after_violations, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runware_catches_a_client_that_ignores_retry_after() {
    let sim = RunwareSim::start(RunwareSimConfig::default())
        .await
        .unwrap();
    let uuid = sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1).finish_after_polls([1]));
    sim.set_faults(three_429s());
    let client = RunwareClient::builder(sim.api_key())
        .base_url(&sim.base_url())
        .build()
        .unwrap();
    impatient(client.poller())
        .wait(RunwareTaskId::image(uuid, 1))
        .await
        .unwrap();
    assert_eq!(sim.counts().retry_after_violations, 3);
}
