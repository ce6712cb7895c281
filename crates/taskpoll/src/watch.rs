//! [`Watch`]: one wait as a stream of [`Update`]s.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_core::Stream;
use tokio::time::{Instant, Sleep};

use crate::machine::{Step, WaitState};
use crate::policy::PollPolicy;
use crate::source::TaskSource;
use crate::update::{Outcome, Update};

type FetchFuture<S> = Pin<
    Box<
        dyn Future<Output = Result<<S as TaskSource>::Status, <S as TaskSource>::Error>>
            + Send
            + 'static,
    >,
>;

enum Stage<S: TaskSource> {
    /// Not polled yet: the wait starts at the first poll of the stream.
    Idle(S::Id),
    /// Sleeping on the timer until the next poll.
    Sleeping,
    /// A fetch is in flight; when `cutoff` is set, the timer cuts it off.
    Fetching { fetch: FetchFuture<S>, cutoff: bool },
    /// Over.
    Done,
}

/// One wait as a [`Stream`] of [`Update`]s, from [`Poller::watch`](crate::Poller::watch).
///
/// Nothing happens until the stream is first polled (the deadline counts from then).
/// The last item is [`Update::Finished`]; the stream ends after it. Dropping the
/// stream stops the wait: no further request is made, and a fetch in flight is
/// dropped. It must be polled within a Tokio runtime with the time driver enabled.
#[must_use = "a watch does nothing unless polled"]
pub struct Watch<S: TaskSource> {
    source: Arc<S>,
    policy: PollPolicy,
    salt: u64,
    state: Option<WaitState<S>>,
    stage: Stage<S>,
    timer: Option<Pin<Box<Sleep>>>,
    queue: VecDeque<Update<S>>,
    report: bool,
    span: tracing::Span,
}

// Every pinned part (the fetch, the timer) is boxed, so moving a `Watch` is fine.
impl<S: TaskSource> Unpin for Watch<S> {}

impl<S: TaskSource> Watch<S> {
    pub(crate) fn new(
        source: Arc<S>,
        policy: PollPolicy,
        salt: u64,
        id: S::Id,
        report: bool,
    ) -> Self {
        let span = tracing::info_span!("taskpoll.wait", vendor = source.name(), task_id = %id);
        Watch {
            source,
            policy,
            salt,
            state: None,
            stage: Stage::Idle(id),
            timer: None,
            queue: VecDeque::new(),
            report,
            span,
        }
    }

    /// Drives the wait to its end, discarding intermediate updates.
    pub(crate) async fn finish(mut self) -> Outcome<S> {
        loop {
            match std::future::poll_fn(|cx| Pin::new(&mut self).poll_next(cx)).await {
                Some(Update::Finished(outcome)) => return outcome,
                Some(_) => continue,
                // Unreachable: the stream always yields `Finished` before it ends.
                None => continue,
            }
        }
    }

    fn set_timer(&mut self, at: Instant) {
        match &mut self.timer {
            Some(t) => t.as_mut().reset(at),
            None => self.timer = Some(Box::pin(tokio::time::sleep_until(at))),
        }
    }

    fn apply(&mut self, step: Step<S>, now: Instant) {
        match step {
            Step::PollAt(at) if at <= now => self.start_fetch(now),
            Step::PollAt(at) => {
                self.set_timer(at);
                self.stage = Stage::Sleeping;
            }
            Step::Done(outcome) => {
                tracing::debug!(
                    polls = outcome.polls,
                    ok = outcome.result.is_ok(),
                    "wait finished"
                );
                self.queue.push_back(Update::Finished(outcome));
                self.stage = Stage::Done;
                self.timer = None;
            }
        }
    }

    fn start_fetch(&mut self, now: Instant) {
        let Some(state) = self.state.as_mut() else {
            return;
        };
        let cutoff = state.begin_poll(now, &self.policy);
        let source = Arc::clone(&self.source);
        let id = state.id.clone();
        let fetch: FetchFuture<S> = Box::pin(async move { source.fetch(&id).await });
        if let Some(at) = cutoff {
            self.set_timer(at);
        }
        self.stage = Stage::Fetching {
            fetch,
            cutoff: cutoff.is_some(),
        };
    }
}

impl<S: TaskSource> Stream for Watch<S> {
    type Item = Update<S>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Update<S>>> {
        let this = self.get_mut();
        let span = this.span.clone();
        let _entered = span.enter();
        loop {
            if let Some(update) = this.queue.pop_front() {
                return Poll::Ready(Some(update));
            }
            match &mut this.stage {
                Stage::Done => return Poll::Ready(None),
                Stage::Idle(_) => {
                    let Stage::Idle(id) = std::mem::replace(&mut this.stage, Stage::Sleeping)
                    else {
                        continue;
                    };
                    let now = Instant::now();
                    let (state, first) =
                        WaitState::<S>::start(id, &*this.source, &this.policy, this.salt, now);
                    this.state = Some(state);
                    this.apply(Step::PollAt(first), now);
                }
                Stage::Sleeping => {
                    if let Some(timer) = this.timer.as_mut() {
                        ready!(timer.as_mut().poll(cx));
                    }
                    this.start_fetch(Instant::now());
                }
                Stage::Fetching { fetch, cutoff } => {
                    let step = match fetch.as_mut().poll(cx) {
                        Poll::Ready(result) => {
                            let now = Instant::now();
                            let Some(state) = this.state.as_mut() else {
                                return Poll::Ready(None);
                            };
                            let queue = &mut this.queue;
                            let mut push = |u: Update<S>| queue.push_back(u);
                            let report: Option<&mut dyn FnMut(Update<S>)> =
                                if this.report { Some(&mut push) } else { None };
                            let step =
                                state.on_result(now, result, &*this.source, &this.policy, report);
                            (step, now)
                        }
                        Poll::Pending => {
                            let cut = *cutoff
                                && this
                                    .timer
                                    .as_mut()
                                    .is_some_and(|t| t.as_mut().poll(cx).is_ready());
                            if !cut {
                                return Poll::Pending;
                            }
                            let now = Instant::now();
                            let Some(state) = this.state.as_mut() else {
                                return Poll::Ready(None);
                            };
                            (state.on_cutoff(now), now)
                        }
                    };
                    this.apply(step.0, step.1);
                }
            }
        }
    }
}
