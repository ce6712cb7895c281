//! Many waits at once: [`WaitAll`], a stream of every wait's updates, that takes new
//! waits while it runs.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use futures_core::Stream;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::checkpoint::{Clock, WaitCheckpoint};
use crate::machine::WaitState;
use crate::policy::PollPolicy;
use crate::scheduler::sink::{GroupMsg, Sink, WaitMsg};
use crate::scheduler::{NewWait, Scheduler, Start};
use crate::source::TaskSource;
use crate::update::{Outcome, Update};

/// What a group's handles share: how to start a wait, and the counts that say when the
/// stream ends.
struct Core<S: TaskSource> {
    scheduler: Scheduler<S>,
    policy: Arc<PollPolicy>,
    group: u64,
    tx: UnboundedSender<GroupMsg<S>>,
    /// Waits submitted and not finished.
    active: AtomicUsize,
    /// Live [`WaitAllHandle`]s.
    handles: AtomicUsize,
    /// Whether waits report every update or only their end.
    report: AtomicBool,
}

impl<S: TaskSource> Core<S> {
    fn submit(&self, start: Start<S::Id>) {
        let report = self.report.load(Ordering::SeqCst);
        self.scheduler.submit(NewWait {
            start,
            policy: Arc::clone(&self.policy),
            sink: Sink::Group {
                tx: self.tx.clone(),
                group: self.group,
            },
            report,
        });
    }
}

/// Many waits on one [`Scheduler`], as one [`Stream`] of `(id, update)`: every wait's
/// polls, partial results and retries as they happen, and each one's
/// [`Update::Finished`] the moment it ends. From
/// [`Poller::wait_all`](crate::Poller::wait_all).
///
/// Each wait keeps its own deadline and interval sequence; all share the scheduler's
/// budget and batching. Nothing starts until the stream is first polled; dropping it
/// abandons every wait. Waits can be added while it runs, with [`add`](WaitAll::add)
/// or, from another task, a [`WaitAllHandle`]. The stream ends when every wait has
/// finished and no handle is left. [`outcomes`](WaitAll::outcomes) keeps only the ends.
#[must_use = "a group does nothing unless polled"]
pub struct WaitAll<S: TaskSource> {
    core: Arc<Core<S>>,
    rx: UnboundedReceiver<GroupMsg<S>>,
    /// Waits added before the first poll.
    unstarted: Vec<Start<S::Id>>,
    started: bool,
}

impl<S: TaskSource> Unpin for WaitAll<S> {}

impl<S: TaskSource> WaitAll<S> {
    pub(crate) fn new(
        scheduler: Scheduler<S>,
        policy: Arc<PollPolicy>,
        ids: impl IntoIterator<Item = S::Id>,
    ) -> Self {
        let (tx, rx) = unbounded_channel();
        let group = scheduler.next_group();
        let unstarted: Vec<_> = ids.into_iter().map(Start::New).collect();
        let core = Arc::new(Core {
            scheduler,
            policy,
            group,
            tx,
            active: AtomicUsize::new(unstarted.len()),
            handles: AtomicUsize::new(0),
            report: AtomicBool::new(true),
        });
        WaitAll {
            core,
            rx,
            unstarted,
            started: false,
        }
    }

    fn push(&mut self, start: Start<S::Id>) {
        self.core.active.fetch_add(1, Ordering::SeqCst);
        if self.started {
            self.core.submit(start);
        } else {
            self.unstarted.push(start);
        }
    }

    /// Adds a wait; it starts at once if the group runs, else with the group.
    pub fn add(&mut self, id: S::Id) {
        self.push(Start::New(id));
    }

    /// Resumes a wait written down by [`checkpoint`](WaitAll::checkpoint) (in this or
    /// another process), with its original deadline.
    pub fn resume(&mut self, checkpoint: WaitCheckpoint<S::Id>) {
        self.push(Start::Resume(checkpoint));
    }

    /// A handle that adds waits to this group from anywhere (another task, a request
    /// handler). While one is alive the stream does not end, even with every wait done.
    pub fn handle(&self) -> WaitAllHandle<S> {
        WaitAllHandle::new(Arc::clone(&self.core))
    }

    /// Waits not yet finished.
    pub fn len(&self) -> usize {
        self.core.active.load(Ordering::SeqCst)
    }

    /// Whether every wait has finished.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes down every unfinished wait, to [`resume`](WaitAll::resume) in this or
    /// another process. Waits in flight are written as due now; waits not started yet
    /// as starting now.
    pub async fn checkpoint(&self) -> Vec<WaitCheckpoint<S::Id>> {
        let clock = Clock::now();
        let source = self.core.scheduler.source();
        let mut out = if self.started {
            self.core.scheduler.checkpoint(self.core.group).await
        } else {
            Vec::new()
        };
        for start in &self.unstarted {
            match start {
                Start::Resume(cp) => out.push(cp.clone()),
                Start::New(id) => {
                    let (state, first) = WaitState::<S>::start(
                        id.clone(),
                        source,
                        &self.core.policy,
                        0,
                        clock.instant(),
                    );
                    out.push(state.checkpoint(first, clock));
                }
            }
        }
        out
    }

    /// Only the outcomes, in the order the tasks finish (waits started from now on do
    /// not even build their intermediate updates).
    pub fn outcomes(self) -> Outcomes<S> {
        self.core.report.store(false, Ordering::SeqCst);
        Outcomes { group: self }
    }

    fn start(&mut self) {
        if !self.started {
            self.started = true;
            for start in std::mem::take(&mut self.unstarted) {
                self.core.submit(start);
            }
        }
    }
}

impl<S: TaskSource> Stream for WaitAll<S> {
    type Item = (S::Id, Update<S>);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.start();
        loop {
            if this.core.active.load(Ordering::SeqCst) == 0
                && this.core.handles.load(Ordering::SeqCst) == 0
            {
                return Poll::Ready(None);
            }
            match this.rx.poll_recv(cx) {
                Poll::Ready(Some(GroupMsg::Wait(id, WaitMsg::Update(update)))) => {
                    if matches!(update, Update::Finished(_)) {
                        this.core.active.fetch_sub(1, Ordering::SeqCst);
                    }
                    return Poll::Ready(Some((id, update)));
                }
                // The scheduler stopped under the wait: resume it on one that runs.
                Poll::Ready(Some(GroupMsg::Wait(_, WaitMsg::Lost(checkpoint)))) => {
                    this.core.submit(Start::Resume(checkpoint));
                }
                Poll::Ready(Some(GroupMsg::Nudge)) => {}
                // The group holds a sender: the channel never closes under it.
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// Adds waits to a running [`WaitAll`] from anywhere; from [`WaitAll::handle`].
///
/// Cheap to clone. The group's stream does not end while a handle is alive: drop the
/// handles when no more waits will come.
pub struct WaitAllHandle<S: TaskSource> {
    core: Option<Arc<Core<S>>>,
}

impl<S: TaskSource> WaitAllHandle<S> {
    fn new(core: Arc<Core<S>>) -> Self {
        core.handles.fetch_add(1, Ordering::SeqCst);
        WaitAllHandle { core: Some(core) }
    }

    fn push(&self, start: Start<S::Id>) {
        if let Some(core) = &self.core {
            core.active.fetch_add(1, Ordering::SeqCst);
            core.submit(start);
        }
    }

    /// Adds a wait; it starts at once.
    pub fn add(&self, id: S::Id) {
        self.push(Start::New(id));
    }

    /// Resumes a checkpointed wait, with its original deadline.
    pub fn resume(&self, checkpoint: WaitCheckpoint<S::Id>) {
        self.push(Start::Resume(checkpoint));
    }
}

impl<S: TaskSource> Clone for WaitAllHandle<S> {
    fn clone(&self) -> Self {
        match &self.core {
            Some(core) => WaitAllHandle::new(Arc::clone(core)),
            None => WaitAllHandle { core: None },
        }
    }
}

impl<S: TaskSource> std::fmt::Debug for WaitAllHandle<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitAllHandle").finish_non_exhaustive()
    }
}

impl<S: TaskSource> Drop for WaitAllHandle<S> {
    fn drop(&mut self) {
        if let Some(core) = self.core.take() {
            core.handles.fetch_sub(1, Ordering::SeqCst);
            // Wake the group: it may be over now.
            let _ = core.tx.send(GroupMsg::Nudge);
        }
    }
}

/// The outcomes of a [`WaitAll`], in the order the tasks finish; from
/// [`WaitAll::outcomes`].
#[must_use = "a group does nothing unless polled"]
pub struct Outcomes<S: TaskSource> {
    group: WaitAll<S>,
}

impl<S: TaskSource> Outcomes<S> {
    /// The group, to add waits or write them down.
    pub fn group(&mut self) -> &mut WaitAll<S> {
        &mut self.group
    }
}

impl<S: TaskSource> Stream for Outcomes<S> {
    type Item = Outcome<S>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Outcome<S>>> {
        let group = &mut self.get_mut().group;
        loop {
            match Pin::new(&mut *group).poll_next(cx) {
                Poll::Ready(Some((_, Update::Finished(outcome)))) => {
                    return Poll::Ready(Some(outcome));
                }
                Poll::Ready(Some(_)) => {}
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
