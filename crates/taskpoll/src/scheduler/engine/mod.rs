//! The scheduler's engine: every wait's state in one slab, one heap of due instants, one
//! timer, the requests in flight.
//!
//! Waits come due in a heap ordered by instant (first due, first served, so no wait
//! starves); each request draws from the [`RequestBudget`]. For a batch source, waits due
//! within the coalescing window are fetched together, up to `max_batch`. A rate-limit
//! answer (429), or a rate-limit hint with nothing remaining, pauses the budget for
//! everyone.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use tokio::time::{Instant, Sleep};

mod answers;
mod wait;

pub(crate) use wait::{NewWait, Start};

use super::fetch::{AnswerFuture, FetchMode};
use super::sink::{Sink, WaitMsg};
use crate::budget::{Admission, Budget, RequestBudget};
use crate::checkpoint::{Clock, WaitCheckpoint};
use crate::machine::{Step, WaitState};
use crate::policy::PollPolicy;
use crate::source::TaskSource;
use crate::update::Update;

type AdmissionFuture = Pin<Box<dyn Future<Output = Admission> + Send + 'static>>;

struct Slot<S: TaskSource> {
    state: WaitState<S>,
    policy: Arc<PollPolicy>,
    sink: Sink<S>,
    report: bool,
    /// When the poll scheduled or in flight was due.
    due: Instant,
    /// When the fetch in flight for this wait is cut off.
    cutoff: Option<Instant>,
}

struct InFlight<S: TaskSource> {
    waits: Vec<usize>,
    /// When the request was granted.
    sent: Instant,
    cutoff: Option<Instant>,
    answers: AnswerFuture<S>,
}

/// Why no further request starts now.
#[derive(Debug, Clone, Copy)]
enum Blocked {
    /// Nothing is due.
    Nothing,
    /// The budget said not before this instant.
    Until(Instant),
    /// Waiting for a request in flight to end, or for the budget to answer.
    Woken,
}

pub(crate) struct Engine<S: TaskSource> {
    source: Arc<S>,
    budget: Arc<dyn RequestBudget>,
    limits: Budget,
    mode: FetchMode<S>,
    slots: Vec<Option<Slot<S>>>,
    free: Vec<usize>,
    due: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    seq: u64,
    salt: u64,
    in_flight: Vec<InFlight<S>>,
    admission: Option<AdmissionFuture>,
    timer: Option<Pin<Box<Sleep>>>,
    requests: Arc<AtomicU64>,
    span: tracing::Span,
}

impl<S: TaskSource> Engine<S> {
    pub(crate) fn new(
        source: Arc<S>,
        budget: Arc<dyn RequestBudget>,
        limits: Budget,
        mode: FetchMode<S>,
        requests: Arc<AtomicU64>,
    ) -> Self {
        let span = tracing::info_span!("taskpoll.scheduler", vendor = source.name());
        Engine {
            source,
            budget,
            limits,
            mode,
            slots: Vec::new(),
            free: Vec::new(),
            due: BinaryHeap::new(),
            seq: 0,
            salt: 0,
            in_flight: Vec::new(),
            admission: None,
            timer: None,
            requests,
            span,
        }
    }

    /// Takes a new wait; its first poll is scheduled by its policy.
    pub(crate) fn add(&mut self, wait: NewWait<S>) {
        let now = Instant::now();
        let salt = self.salt;
        self.salt = self.salt.wrapping_add(1);
        let (state, at) = match wait.start {
            Start::New(id) => WaitState::<S>::start(id, &*self.source, &wait.policy, salt, now),
            Start::Resume(cp) => WaitState::<S>::resume(cp, &wait.policy, salt, Clock::now()),
        };
        let slot = Slot {
            state,
            policy: wait.policy,
            sink: wait.sink,
            report: wait.report,
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

    /// Every unfinished wait of `group`, written down. Waits in flight are written as
    /// due now.
    pub(crate) fn checkpoint(&self, group: u64) -> Vec<WaitCheckpoint<S::Id>> {
        let clock = Clock::now();
        self.slots
            .iter()
            .flatten()
            .filter(|s| s.sink.group() == Some(group))
            .map(|s| s.state.checkpoint(s.due.max(clock.instant()), clock))
            .collect()
    }

    /// Waits not finished (abandoned ones included until they come due).
    pub(crate) fn is_idle(&self) -> bool {
        self.slots.len() == self.free.len()
    }

    fn schedule(&mut self, idx: usize, at: Instant) {
        if let Some(Some(slot)) = self.slots.get_mut(idx) {
            slot.due = at;
        }
        self.seq += 1;
        self.due.push(Reverse((at, self.seq, idx)));
    }

    fn release(&mut self, idx: usize) -> Option<Slot<S>> {
        let slot = self.slots.get_mut(idx).and_then(Option::take);
        if slot.is_some() {
            self.free.push(idx);
        }
        slot
    }

    fn apply(&mut self, idx: usize, step: Step<S>) {
        match step {
            Step::PollAt(at) => self.schedule(idx, at),
            Step::Done(outcome) => {
                if let Some(slot) = self.release(idx) {
                    tracing::debug!(
                        task_id = %outcome.id,
                        polls = outcome.polls,
                        ok = outcome.result.is_ok(),
                        "wait finished"
                    );
                    let id = outcome.id.clone();
                    slot.sink
                        .send(&id, WaitMsg::Update(Update::Finished(outcome)));
                }
            }
        }
    }

    /// Pops the first due wait whose owner still listens (abandoned ones are dropped).
    fn peek_due(&mut self, by: Instant) -> Option<Instant> {
        while let Some(Reverse((at, _, idx))) = self.due.peek().copied() {
            if at > by {
                return None;
            }
            let abandoned = match self.slots.get(idx) {
                Some(Some(slot)) => slot.sink.is_closed(),
                _ => true,
            };
            if !abandoned {
                return Some(at);
            }
            self.due.pop();
            self.release(idx);
        }
        None
    }

    /// Asks the budget for one request; `None` while it has not answered.
    fn admit(&mut self, cx: &mut Context<'_>) -> Option<Admission> {
        let fut = self.admission.get_or_insert_with(|| {
            let budget = Arc::clone(&self.budget);
            Box::pin(async move { budget.acquire().await })
        });
        match fut.as_mut().poll(cx) {
            Poll::Ready(answer) => {
                self.admission = None;
                Some(answer)
            }
            Poll::Pending => None,
        }
    }

    /// Starts every request the budget allows for waits due by `now`.
    fn launch(&mut self, now: Instant, cx: &mut Context<'_>) -> Blocked {
        loop {
            if self.peek_due(now).is_none() {
                return Blocked::Nothing;
            }
            if self
                .limits
                .max_in_flight
                .is_some_and(|m| self.in_flight.len() >= m)
            {
                return Blocked::Woken;
            }
            match self.admit(cx) {
                None => return Blocked::Woken,
                Some(Admission::RetryIn(delay)) => {
                    let until = now + delay;
                    self.expire_before(until, now);
                    return Blocked::Until(until);
                }
                Some(Admission::Granted) => {}
            }
            let horizon = now + self.mode.window;
            let mut waits = Vec::new();
            while waits.len() < self.mode.max_batch && self.peek_due(horizon).is_some() {
                if let Some(Reverse((_, _, idx))) = self.due.pop() {
                    waits.push(idx);
                }
            }
            let mut ids = Vec::with_capacity(waits.len());
            let mut cutoff: Option<Instant> = None;
            for &idx in &waits {
                if let Some(Some(slot)) = self.slots.get_mut(idx) {
                    let c = slot.state.begin_poll(now, &slot.policy);
                    slot.cutoff = c;
                    cutoff = match (cutoff, c) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    ids.push(slot.state.id.clone());
                }
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let answers = self.mode.fetch(&self.source, ids);
            self.in_flight.push(InFlight {
                waits,
                sent: now,
                cutoff,
                answers,
            });
        }
    }

    /// Ends, as timed out, every due wait that could not even make its final poll by
    /// `until`, the next instant any request may be sent: its deadline plus the time a
    /// final poll may take comes before it (a long 429 pause, like a lone wait's
    /// `Retry-After` past its deadline). A wait the budget holds only a little past its
    /// deadline keeps its final poll, made late, when the budget allows: a task that
    /// ended in time is still reported as done.
    fn expire_before(&mut self, until: Instant, now: Instant) {
        let mut keep = Vec::new();
        while let Some(Reverse((due, seq, idx))) = self.due.peek().copied() {
            if due > now {
                break;
            }
            self.due.pop();
            let expired = match self.slots.get_mut(idx) {
                Some(Some(slot))
                    if slot
                        .state
                        .deadline()
                        .is_some_and(|d| d + slot.policy.final_poll_timeout < until) =>
                {
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

    fn next_wake(&self, blocked: Blocked) -> Option<Instant> {
        let due = match blocked {
            Blocked::Nothing => self.due.peek().map(|Reverse((at, _, _))| *at),
            Blocked::Until(at) => Some(at),
            // A request in flight ending, or the budget answering, wakes the engine.
            Blocked::Woken => None,
        };
        let cut = self.in_flight.iter().filter_map(|f| f.cutoff).min();
        match (due, cut) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Does everything that can be done now, and arranges to be woken for the rest.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) {
        let span = self.span.clone();
        let _entered = span.enter();
        loop {
            let now = Instant::now();
            let blocked = self.launch(now, cx);
            // Poll every request in flight (those just launched too, so they register
            // their wakers); handle answers and cut-offs.
            let mut progressed = false;
            let mut i = 0;
            while i < self.in_flight.len() {
                let ready = match self.in_flight.get_mut(i) {
                    Some(f) => match f.answers.as_mut().poll(cx) {
                        Poll::Ready(answers) => Some(Some(answers)),
                        Poll::Pending if f.cutoff.is_some_and(|c| c <= now) => Some(None),
                        Poll::Pending => None,
                    },
                    None => None,
                };
                match ready {
                    Some(result) => {
                        progressed = true;
                        let flight = self.in_flight.remove(i);
                        match result {
                            Some(answers) => self.on_answers(flight, answers, now),
                            None => self.on_cutoff(flight, now),
                        }
                    }
                    None => i += 1,
                }
            }
            if progressed {
                continue;
            }
            let Some(at) = self.next_wake(blocked) else {
                return;
            };
            match self.timer.as_mut() {
                Some(t) => t.as_mut().reset(at),
                None => self.timer = Some(Box::pin(tokio::time::sleep_until(at))),
            }
            if let Some(t) = self.timer.as_mut()
                && t.as_mut().poll(cx).is_ready()
            {
                continue;
            }
            return;
        }
    }
}

impl<S: TaskSource> Drop for Engine<S> {
    /// The engine stops with waits unfinished only when its runtime shuts down: each is
    /// handed back to its owner, written down, to resume on a scheduler that runs.
    fn drop(&mut self) {
        let clock = Clock::now();
        for slot in self.slots.iter().flatten() {
            let cp = slot.state.checkpoint(slot.due.max(clock.instant()), clock);
            slot.sink.send(&slot.state.id, WaitMsg::Lost(cp));
        }
    }
}
