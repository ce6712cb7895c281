//! [`Watch`]: one wait as a stream of [`Update`]s.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::policy::PollPolicy;
use crate::scheduler::sink::{Sink, WaitMsg};
use crate::scheduler::{NewWait, Scheduler, Start};
use crate::source::TaskSource;
use crate::update::{Outcome, Update};

/// One wait as a [`Stream`] of [`Update`]s, from [`Poller::watch`](crate::Poller::watch).
///
/// The wait runs on its poller's [`Scheduler`], under its budget. Nothing happens until
/// the stream is first polled (the deadline counts from then). The last item is
/// [`Update::Finished`]; the stream ends after it. Dropping the stream abandons the
/// wait: no further request is made for it (a request already sent is let finish and
/// its answer dropped). It must be polled within a Tokio runtime with the time driver
/// enabled.
#[must_use = "a watch does nothing unless polled"]
pub struct Watch<S: TaskSource> {
    scheduler: Scheduler<S>,
    policy: Arc<PollPolicy>,
    /// How the wait starts (again, if its scheduler stopped under it).
    start: Option<Start<S::Id>>,
    id: S::Id,
    rx: Option<UnboundedReceiver<WaitMsg<S>>>,
    report: bool,
    done: bool,
}

impl<S: TaskSource> Unpin for Watch<S> {}

impl<S: TaskSource> Watch<S> {
    pub(crate) fn new(scheduler: Scheduler<S>, policy: Arc<PollPolicy>, id: S::Id) -> Self {
        Watch {
            scheduler,
            policy,
            start: Some(Start::New(id.clone())),
            id,
            rx: None,
            report: true,
            done: false,
        }
    }

    /// The task watched.
    pub fn id(&self) -> &S::Id {
        &self.id
    }

    /// Drives the wait to its end and returns how it ended, skipping the updates.
    pub async fn outcome(mut self) -> Outcome<S> {
        if self.rx.is_none() {
            self.report = false;
        }
        loop {
            if let Some(Update::Finished(outcome)) =
                std::future::poll_fn(|cx| self.poll_update(cx)).await
            {
                return outcome;
            }
        }
    }

    /// The next update; `None` only after [`Update::Finished`].
    fn poll_update(&mut self, cx: &mut Context<'_>) -> Poll<Option<Update<S>>> {
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            let rx = match self.rx.as_mut() {
                Some(rx) => rx,
                None => {
                    let (tx, rx) = unbounded_channel();
                    let start = self
                        .start
                        .take()
                        .unwrap_or_else(|| Start::New(self.id.clone()));
                    self.scheduler.submit(NewWait {
                        start,
                        policy: Arc::clone(&self.policy),
                        sink: Sink::Watch(tx),
                        report: self.report,
                    });
                    self.rx.insert(rx)
                }
            };
            match rx.poll_recv(cx) {
                Poll::Ready(Some(WaitMsg::Update(update))) => {
                    self.done = matches!(update, Update::Finished(_));
                    return Poll::Ready(Some(update));
                }
                // The scheduler stopped under the wait: resume it, with its deadline,
                // on one that runs.
                Poll::Ready(Some(WaitMsg::Lost(checkpoint))) => {
                    self.start = Some(Start::Resume(checkpoint));
                    self.rx = None;
                }
                // Closed without a word: start it again.
                Poll::Ready(None) => self.rx = None,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<S: TaskSource> Stream for Watch<S> {
    type Item = Update<S>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Update<S>>> {
        self.get_mut().poll_update(cx)
    }
}
