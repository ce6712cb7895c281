//! Helpers shared by the core's tests.
#![allow(dead_code)]

use std::time::Duration;

use taskpoll::testing::{ScriptedSource, Step};
use taskpoll::{PollPolicy, Poller, strategy::Fixed};
use tokio::time::Instant;

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

/// A poller over one scripted task `"t"`, polling every second with a 60 s deadline.
pub fn poller(steps: impl IntoIterator<Item = Step>) -> Poller<ScriptedSource> {
    let source = ScriptedSource::new()
        .with_policy(PollPolicy::with_strategy(Fixed::new(secs(1))).deadline(secs(60)));
    source.script("t", steps);
    Poller::new(source)
}

/// Runs the wait on `"t"` and returns its result with the poll offsets from the start.
pub async fn run(
    poller: &Poller<ScriptedSource>,
) -> (taskpoll::WaitResult<ScriptedSource>, Vec<Duration>) {
    let start = Instant::now();
    let result = poller.wait("t".into()).await;
    (result, poller.source().poll_offsets("t", start))
}
