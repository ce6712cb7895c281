//! Many waits at once: [`WaitAll`], driven by one scheduler per group.
//!
//! A group keeps every wait's state in one place and sleeps on one timer: the earliest
//! instant anything is due. Waits come due in a heap ordered by instant (first due, first
//! served, so no wait starves); requests draw from the poller's shared [`Budget`]. For a
//! [`BatchTaskSource`], waits due within the coalescing window are fetched together, up to
//! the source's `max_batch`. A rate-limit answer (429) or a rate-limit hint with nothing
//! remaining pauses the whole source, not one wait.

pub(crate) mod budget;
pub(crate) mod checkpoint;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use tokio::time::{Instant, Sleep};

use crate::machine::{Step, WaitState};
use crate::policy::PollPolicy;
use crate::source::{ErrorClass, TaskSource};
use crate::update::Outcome;
pub use budget::Budget;
use budget::{Denied, SharedBudget};
use checkpoint::Clock;
pub use checkpoint::WaitCheckpoint;

type Answers<S> = Vec<Option<Result<<S as TaskSource>::Status, <S as TaskSource>::Error>>>;
type AnswerFuture<S> = Pin<Box<dyn Future<Output = Answers<S>> + Send + 'static>>;
type FetchFn<S> = Arc<dyn Fn(Arc<S>, Vec<<S as TaskSource>::Id>) -> AnswerFuture<S> + Send + Sync>;

/// How a group fetches: one id per request, or batches.
pub(crate) struct FetchMode<S: TaskSource> {
    fetch: FetchFn<S>,
    max_batch: usize,
    window: Duration,
}

impl<S: TaskSource> Clone for FetchMode<S> {
    fn clone(&self) -> Self {
        FetchMode {
            fetch: Arc::clone(&self.fetch),
            max_batch: self.max_batch,
            window: self.window,
        }
    }
}

impl<S: TaskSource> FetchMode<S> {
    /// One `fetch` per wait.
    pub(crate) fn single() -> Self {
        FetchMode {
            fetch: Arc::new(|source: Arc<S>, ids: Vec<S::Id>| {
                Box::pin(async move {
                    let mut out = Vec::with_capacity(ids.len());
                    for id in &ids {
                        out.push(Some(source.fetch(id).await));
                    }
                    out
                })
            }),
            max_batch: 1,
            window: Duration::ZERO,
        }
    }

    /// `fetch_batch` for up to `max_batch` waits due within `window` of each other.
    pub(crate) fn batched(max_batch: usize, window: Duration) -> Self
    where
        S: crate::BatchTaskSource,
        S::Error: Clone,
    {
        FetchMode {
            fetch: Arc::new(|source: Arc<S>, ids: Vec<S::Id>| {
                Box::pin(async move {
                    match source.fetch_batch(&ids).await {
                        Ok(mut entries) => {
                            entries.resize_with(ids.len(), || None);
                            entries
                        }
                        Err(e) => ids.iter().map(|_| Some(Err(e.clone()))).collect(),
                    }
                })
            }),
            max_batch: max_batch.max(1),
            window,
        }
    }
}

struct Slot<S: TaskSource> {
    state: WaitState<S>,
    /// When the poll scheduled or in flight was due.
    due: Instant,
    /// When the fetch in flight for this wait is cut off.
    cutoff: Option<Instant>,
}

struct InFlight<S: TaskSource> {
    waits: Vec<usize>,
    cutoff: Option<Instant>,
    answers: AnswerFuture<S>,
}

/// Many waits on one source, as a [`Stream`] of [`Outcome`]s in the order the tasks
/// finish. From [`Poller::wait_all`](crate::Poller::wait_all) or
/// [`Poller::wait_all_batched`](crate::Poller::wait_all_batched).
///
/// Each wait keeps its own deadline and interval sequence. Nothing is fetched until the
/// stream is polled; dropping it stops every wait. The stream ends when every wait has
/// finished (waits can be added with [`add`](WaitAll::add) while it runs).
#[must_use = "a group does nothing unless polled"]
pub struct WaitAll<S: TaskSource> {
    source: Arc<S>,
    policy: PollPolicy,
    salts: Arc<std::sync::atomic::AtomicU64>,
    budget: Arc<SharedBudget>,
    mode: FetchMode<S>,
    slots: Vec<Option<Slot<S>>>,
    free: Vec<usize>,
    pending: Vec<S::Id>,
    resumed: Vec<WaitCheckpoint<S::Id>>,
    due: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    seq: u64,
    in_flight: Vec<InFlight<S>>,
    timer: Option<Pin<Box<Sleep>>>,
    finished: VecDeque<Outcome<S>>,
    active: usize,
    span: tracing::Span,
}

impl<S: TaskSource> Unpin for WaitAll<S> {}

impl<S: TaskSource> WaitAll<S> {
    pub(crate) fn new(
        source: Arc<S>,
        policy: PollPolicy,
        salts: Arc<std::sync::atomic::AtomicU64>,
        budget: Arc<SharedBudget>,
        mode: FetchMode<S>,
        ids: Vec<S::Id>,
        resumed: Vec<WaitCheckpoint<S::Id>>,
    ) -> Self {
        let span = tracing::info_span!(
            "taskpoll.wait_all",
            vendor = source.name(),
            waits = ids.len() + resumed.len()
        );
        let active = ids.len() + resumed.len();
        WaitAll {
            source,
            policy,
            salts,
            budget,
            mode,
            slots: Vec::new(),
            free: Vec::new(),
            pending: ids,
            resumed,
            due: BinaryHeap::new(),
            seq: 0,
            in_flight: Vec::new(),
            timer: None,
            finished: VecDeque::new(),
            active,
            span,
        }
    }

    /// Adds a wait to the group; it starts at the group's next poll.
    pub fn add(&mut self, id: S::Id) {
        self.pending.push(id);
        self.active += 1;
        if let Some(t) = self.timer.as_mut() {
            // Wake the scheduler so the new wait starts now.
            t.as_mut().reset(Instant::now());
        }
    }

    /// Waits not yet finished.
    pub fn len(&self) -> usize {
        self.active
    }

    /// Whether every wait has finished.
    pub fn is_empty(&self) -> bool {
        self.active == 0
    }

    /// Writes down every unfinished wait, to [`resume`](crate::Poller::resume_all) in this
    /// or another process. Waits in flight are written as due now. Waits never polled
    /// are written as starting now.
    pub fn checkpoint(&self) -> Vec<WaitCheckpoint<S::Id>> {
        let clock = Clock::now();
        let mut out: Vec<_> = self.resumed.clone();
        for slot in self.slots.iter().flatten() {
            out.push(slot.state.checkpoint(slot.due.max(clock.instant()), clock));
        }
        for id in &self.pending {
            let (state, first) =
                WaitState::<S>::start(id.clone(), &self.source, &self.policy, 0, clock.instant());
            out.push(state.checkpoint(first, clock));
        }
        out
    }

    fn salt(&self) -> u64 {
        self.salts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    fn insert(&mut self, state: WaitState<S>, at: Instant) {
        let slot = Slot {
            state,
            due: at,
            cutoff: None,
        };
        let idx = match self.free.pop() {
            Some(i) => {
                if let Some(s) = self.slots.get_mut(i) {
                    *s = Some(slot);
                }
                i
            }
            None => {
                self.slots.push(Some(slot));
                self.slots.len() - 1
            }
        };
        self.schedule(idx, at);
    }

    fn schedule(&mut self, idx: usize, at: Instant) {
        if let Some(Some(slot)) = self.slots.get_mut(idx) {
            slot.due = at;
        }
        self.seq += 1;
        self.due.push(Reverse((at, self.seq, idx)));
    }

    fn start_new(&mut self, now: Instant) {
        let clock = Clock::now();
        for cp in std::mem::take(&mut self.resumed) {
            let salt = self.salt();
            let (state, at) = WaitState::<S>::resume(cp, &self.policy, salt, clock);
            self.insert(state, at);
        }
        for id in std::mem::take(&mut self.pending) {
            let salt = self.salt();
            let (state, at) = WaitState::<S>::start(id, &self.source, &self.policy, salt, now);
            self.insert(state, at);
        }
    }

    fn apply(&mut self, idx: usize, step: Step<S>) {
        match step {
            Step::PollAt(at) => self.schedule(idx, at),
            Step::Done(outcome) => {
                if let Some(s) = self.slots.get_mut(idx) {
                    *s = None;
                }
                self.free.push(idx);
                self.active = self.active.saturating_sub(1);
                self.finished.push_back(outcome);
            }
        }
    }

    /// Starts every request the budget allows for waits due by `now`; returns the
    /// budget's refusal, if it refused.
    fn launch(&mut self, now: Instant) -> Option<Denied> {
        while let Some(Reverse((due, _, _))) = self.due.peek() {
            if *due > now {
                return None;
            }
            if let Err(denied) = self.budget.try_acquire(now) {
                if let Denied::Until(until) = denied {
                    self.expire_before(until, now);
                }
                return Some(denied);
            }
            let horizon = now + self.mode.window;
            let mut waits = Vec::new();
            while waits.len() < self.mode.max_batch {
                match self.due.peek() {
                    Some(Reverse((at, _, _))) if *at <= horizon => {}
                    _ => break,
                }
                if let Some(Reverse((_, _, idx))) = self.due.pop() {
                    waits.push(idx);
                }
            }
            let mut ids = Vec::with_capacity(waits.len());
            let mut cutoff: Option<Instant> = None;
            for &idx in &waits {
                if let Some(Some(slot)) = self.slots.get_mut(idx) {
                    let c = slot.state.begin_poll(now, &self.policy);
                    slot.cutoff = c;
                    cutoff = match (cutoff, c) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    ids.push(slot.state.id.clone());
                }
            }
            let answers = (self.mode.fetch)(Arc::clone(&self.source), ids);
            self.in_flight.push(InFlight {
                waits,
                cutoff,
                answers,
            });
        }
        None
    }

    /// Ends, as timed out, every due wait whose deadline comes before `until`, the next
    /// instant any request may be sent: like a single wait whose `Retry-After` reaches
    /// past its deadline, it could only poll against the server's wish or late.
    fn expire_before(&mut self, until: Instant, now: Instant) {
        let mut keep = Vec::new();
        while let Some(Reverse((due, seq, idx))) = self.due.peek().copied() {
            if due > now {
                break;
            }
            self.due.pop();
            let expired = match self.slots.get_mut(idx) {
                Some(Some(slot)) if slot.state.deadline().is_some_and(|d| d < until) => {
                    Some(slot.state.expire(now))
                }
                _ => None,
            };
            match expired {
                Some(step) => self.apply(idx, step),
                None => keep.push(Reverse((due, seq, idx))),
            }
        }
        self.due.extend(keep);
    }

    fn on_answers(&mut self, flight: InFlight<S>, answers: Answers<S>, now: Instant) {
        self.budget.release();
        let mut pause: Option<Instant> = None;
        for (idx, answer) in flight.waits.into_iter().zip(answers) {
            let step = {
                let Some(Some(slot)) = self.slots.get_mut(idx) else {
                    continue;
                };
                slot.cutoff = None;
                match answer {
                    None => slot.state.on_unanswered(now, &self.policy),
                    Some(result) => {
                        if let Err(e) = &result
                            && let ErrorClass::RateLimited { retry_after } =
                                self.source.error_class(e)
                        {
                            let asked =
                                retry_after.unwrap_or(self.budget.limits().rate_limit_pause);
                            let until = now + asked.min(self.policy.retry_after_ceiling);
                            pause = Some(pause.map_or(until, |p| p.max(until)));
                        }
                        slot.state
                            .on_result(now, result, &self.source, &self.policy, None)
                    }
                }
            };
            self.apply(idx, step);
        }
        if let Some(hint) = self.source.rate_limit()
            && hint.remaining == 0
            && hint.resets_at > now
        {
            let resets = hint.resets_at.min(now + self.policy.retry_after_ceiling);
            pause = Some(pause.map_or(resets, |p| p.max(resets)));
        }
        if let Some(until) = pause {
            tracing::info!(
                pause_ms = until.saturating_duration_since(now).as_millis() as u64,
                "rate limited: pausing the source"
            );
            self.budget.pause_until(until);
        }
    }

    fn on_cutoff(&mut self, flight: InFlight<S>, now: Instant) {
        self.budget.release();
        for idx in flight.waits {
            let step = {
                let Some(Some(slot)) = self.slots.get_mut(idx) else {
                    continue;
                };
                match slot.cutoff.take() {
                    Some(c) if c <= now => slot.state.on_cutoff(now),
                    // Cut off with a batch for another wait's deadline: poll again now.
                    _ => Step::PollAt(now),
                }
            };
            self.apply(idx, step);
        }
    }

    fn next_wake(&self, denied: Option<Denied>) -> Option<Instant> {
        let due = self.due.peek().map(|Reverse((at, _, _))| *at);
        let due = match denied {
            None => due,
            Some(Denied::Until(at)) => due.map(|d| d.max(at)),
            // A request in flight completing wakes the group.
            Some(Denied::InFlight) => None,
        };
        let cut = self.in_flight.iter().filter_map(|f| f.cutoff).min();
        match (due, cut) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

impl<S: TaskSource> Stream for WaitAll<S> {
    type Item = Outcome<S>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Outcome<S>>> {
        let this = self.get_mut();
        let span = this.span.clone();
        let _entered = span.enter();
        loop {
            if let Some(outcome) = this.finished.pop_front() {
                return Poll::Ready(Some(outcome));
            }
            if this.active == 0 {
                return Poll::Ready(None);
            }
            let now = Instant::now();
            if !this.pending.is_empty() || !this.resumed.is_empty() {
                this.start_new(now);
            }
            let budget_retry = this.launch(now);
            // Poll every request in flight (those just launched too, so they register
            // their wakers); handle answers and cut-offs.
            let mut progressed = false;
            let mut i = 0;
            while i < this.in_flight.len() {
                let ready = match this.in_flight.get_mut(i) {
                    Some(f) => match f.answers.as_mut().poll(cx) {
                        Poll::Ready(answers) => Some(Ok(answers)),
                        Poll::Pending if f.cutoff.is_some_and(|c| c <= now) => Some(Err(())),
                        Poll::Pending => None,
                    },
                    None => None,
                };
                match ready {
                    Some(result) => {
                        progressed = true;
                        let flight = this.in_flight.remove(i);
                        match result {
                            Ok(answers) => this.on_answers(flight, answers, now),
                            Err(()) => this.on_cutoff(flight, now),
                        }
                    }
                    None => i += 1,
                }
            }
            if progressed || !this.finished.is_empty() {
                continue;
            }
            match this.next_wake(budget_retry) {
                Some(at) => {
                    match this.timer.as_mut() {
                        Some(t) => t.as_mut().reset(at),
                        None => this.timer = Some(Box::pin(tokio::time::sleep_until(at))),
                    }
                    if let Some(t) = this.timer.as_mut()
                        && t.as_mut().poll(cx).is_ready()
                    {
                        continue;
                    }
                    return Poll::Pending;
                }
                None => return Poll::Pending,
            }
        }
    }
}
