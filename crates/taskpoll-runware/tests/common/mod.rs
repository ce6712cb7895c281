//! Helpers shared by the adapter's tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Duration;

use taskpoll::strategy::Fixed;
use taskpoll::{BatchEntry, Poller, VisibilityGrace};
use taskpoll_runware::{RunwareClient, RunwareClientBuilder, RunwareSource};
use taskpoll_sim::runware::{RunwareSim, RunwareSimConfig};
use taskpoll_sim::script::Defaults;

/// A simulator whose submitted tasks take `task_time`.
pub async fn sim_with(task_time: Duration, config: RunwareSimConfig) -> RunwareSim {
    RunwareSim::start(RunwareSimConfig {
        defaults: Defaults {
            task_time,
            ..config.defaults
        },
        ..config
    })
    .await
    .unwrap()
}

/// A simulator with the default settings and 100 ms tasks.
pub async fn sim() -> RunwareSim {
    sim_with(Duration::from_millis(100), RunwareSimConfig::default()).await
}

/// A client for `sim` that retries submissions quickly.
pub fn client(sim: &RunwareSim) -> RunwareClient {
    RunwareClient::builder(sim.api_key())
        .base_url(&sim.base_url())
        .request_timeout(Duration::from_secs(2))
        .submit_retry_delay(Duration::from_millis(10))
        .build()
        .unwrap()
}

/// A client for `sim` with the builder's defaults and what `configure` sets.
pub fn client_with(
    sim: &RunwareSim,
    configure: impl FnOnce(RunwareClientBuilder) -> RunwareClientBuilder,
) -> RunwareClient {
    configure(RunwareClient::builder(sim.api_key()).base_url(&sim.base_url()))
        .build()
        .unwrap()
}

/// Whether every entry of a batched fetch is an answered status.
pub fn all_answered(entries: &[BatchEntry<RunwareSource>]) -> bool {
    entries
        .iter()
        .all(|e| e.as_ref().is_some_and(Result::is_ok))
}

/// How many task ids each `getResponse` POST the simulator received asked about.
pub fn post_sizes(sim: &RunwareSim) -> Vec<usize> {
    sim.requests().iter().map(|r| r.task_ids.len()).collect()
}

/// Runware's defaults (the client's visibility grace too), but no initial delay, a
/// poll every 10 ms and a 5 s deadline.
pub fn fast(client: &RunwareClient) -> Poller<RunwareSource> {
    client.poller().configure(|p| {
        p.initial_delay(Duration::ZERO)
            .interval(Fixed::new(Duration::from_millis(10)))
            .deadline(Duration::from_secs(5))
    })
}

/// [`fast`] without a visibility grace: the first unknown-task answer ends the wait.
pub fn impatient(client: &RunwareClient) -> Poller<RunwareSource> {
    fast(client).configure(|p| p.visibility(VisibilityGrace::none()))
}

/// The repository's Runware fixtures: (file name, parsed JSON), sorted by name.
pub fn fixtures() -> Vec<(String, serde_json::Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/runware");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).unwrap();
            (name, serde_json::from_str(&text).unwrap())
        })
        .collect()
}

/// The raw bytes of one fixture.
pub fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/runware")
        .join(name);
    std::fs::read(path).unwrap()
}
