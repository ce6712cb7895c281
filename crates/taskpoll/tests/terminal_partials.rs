//! `TaskSource::terminal_partials`: pieces that finish in the poll that ends a task
//! still reach a watch as `Update::Partial`, once each, before the final update.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use taskpoll::strategy::Fixed;
use taskpoll::{ErrorClass, Phase, Poller, Progress, SourcePhase, TaskSource, Update};

/// A task with three pieces: poll 1 shows piece 0, poll 2 ends the task with all three
/// (or a failure keeping two when `fail` is set).
struct Pieces {
    polls: AtomicUsize,
    fail: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("never")]
struct Never;

#[async_trait]
impl TaskSource for Pieces {
    type Id = String;
    type Status = usize;
    type Output = Vec<u32>;
    type Partial = u32;
    type Failure = String;
    type Error = Never;

    async fn fetch(&self, _id: &String) -> Result<usize, Never> {
        Ok(self.polls.fetch_add(1, Ordering::SeqCst) + 1)
    }

    fn classify(&self, poll: usize) -> SourcePhase<Self> {
        match (poll, self.fail) {
            (1, _) => Phase::Running(Progress::new("processing").with_partials(vec![0])),
            (_, false) => Phase::Succeeded(vec![0, 1, 2]),
            (_, true) => Phase::Failed("failed after 2 pieces".into()),
        }
    }

    fn error_class(&self, _error: &Never) -> ErrorClass {
        ErrorClass::Permanent
    }

    fn terminal_partials(&self, phase: &SourcePhase<Self>) -> Vec<u32> {
        match phase {
            Phase::Succeeded(all) => all.clone(),
            Phase::Failed(_) => vec![0, 1],
            _ => Vec::new(),
        }
    }
}

async fn updates(fail: bool) -> Vec<String> {
    let source = Pieces {
        polls: AtomicUsize::new(0),
        fail,
    };
    let poller = Poller::new(source).configure(|p| p.interval(Fixed::new(Duration::from_secs(1))));
    poller
        .watch("t".to_owned())
        .map(|u| match u {
            Update::Polled { attempt, .. } => format!("polled {attempt}"),
            Update::Partial { index, result } => format!("partial [{index}] {result}"),
            Update::Finished(o) => format!("finished ok={}", o.result.is_ok()),
            _ => "other".to_owned(),
        })
        .collect()
        .await
}

#[tokio::test(start_paused = true)]
async fn last_pieces_are_reported_before_success() {
    assert_eq!(
        updates(false).await,
        [
            "polled 1",
            "partial [0] 0",
            "polled 2",
            "partial [1] 1",
            "partial [2] 2",
            "finished ok=true"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn pieces_kept_by_a_failure_are_reported_before_it() {
    assert_eq!(
        updates(true).await,
        [
            "polled 1",
            "partial [0] 0",
            "polled 2",
            "partial [1] 1",
            "finished ok=false"
        ]
    );
}
