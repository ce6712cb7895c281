//! Helpers shared by the adapter's tests: a simulator, a client of it, scripts, and
//! watch collection.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use futures_core::Stream;
use serde_json::Value;
use taskpoll::strategy::Fixed;
use taskpoll::{Outcome, PhaseKind, Poller, TaskSource, Update, Watch};
use taskpoll_sim::script::{Defaults, ScriptOutcome, ScriptStep, TaskScript};
use taskpoll_sim::stream::{StreamSim, StreamSimConfig};
use taskpoll_stream::{StreamClient, StreamSource};

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A simulator config whose start endpoints' tasks take `task_ms`.
pub fn quick(task_ms: u64) -> StreamSimConfig {
    StreamSimConfig {
        defaults: Defaults {
            task_time: ms(task_ms),
            fail_every: None,
        },
        ..StreamSimConfig::default()
    }
}

pub async fn sim(config: StreamSimConfig) -> StreamSim {
    StreamSim::start(config).await.unwrap()
}

/// A client of the simulator.
pub fn client(sim: &StreamSim) -> StreamClient {
    StreamClient::builder(sim.api_key(), sim.api_secret())
        .base_url(&sim.base_url())
        .request_timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

/// The SDK defaults with a 20 ms interval and a 5 s deadline, for fast tests.
pub fn fast(client: &StreamClient) -> Poller<StreamSource> {
    client.poller().configure(|p| {
        p.interval(Fixed::new(ms(20)))
            .deadline(Duration::from_secs(5))
    })
}

fn steps(steps: &[(&str, u32)]) -> Vec<ScriptStep> {
    steps
        .iter()
        .map(|(s, n)| ScriptStep::for_polls(*s, *n))
        .collect()
}

/// A task showing each status for its number of polls, then completing with `result`.
pub fn succeeds(s: &[(&str, u32)], result: Value) -> TaskScript {
    TaskScript {
        steps: steps(s),
        outcome: ScriptOutcome::Success { result },
    }
}

/// A task showing each status for its number of polls, then failing with `error`.
pub fn fails(s: &[(&str, u32)], error: Value) -> TaskScript {
    TaskScript {
        steps: steps(s),
        outcome: ScriptOutcome::Failure { error },
    }
}

/// Every update of a watch, the final one included.
pub async fn collect<S: TaskSource>(mut watch: Watch<S>) -> Vec<Update<S>> {
    let mut out = Vec::new();
    while let Some(update) =
        std::future::poll_fn(|cx| Stream::poll_next(Pin::new(&mut watch), cx)).await
    {
        out.push(update);
    }
    out
}

/// The repository's copy of a Stream fixture.
pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/stream")
        .join(name)
}

/// Every fixture file name, sorted.
pub fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture_path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
}

/// Each poll of a watch's updates: the status word, its phase, and whether the adapter
/// knew the word.
pub fn polled<S: TaskSource>(updates: &[Update<S>]) -> Vec<(String, PhaseKind, bool)> {
    updates
        .iter()
        .filter_map(|u| match u {
            Update::Polled { phase, .. } => {
                Some((phase.status.clone(), phase.kind, phase.recognized))
            }
            _ => None,
        })
        .collect()
}

/// The outcome a watch's updates end with.
pub fn outcome<S: TaskSource>(updates: &[Update<S>]) -> &Outcome<S> {
    match updates.last() {
        Some(Update::Finished(outcome)) => outcome,
        other => panic!(
            "the updates end without an outcome: {:?}",
            other.map(|_| "an update")
        ),
    }
}
