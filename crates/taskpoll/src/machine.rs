//! The wait state machine: every decision of a wait, with no I/O and no clock of its
//! own. The drivers ([`Watch`](crate::Watch), and the many-tasks scheduler) feed it
//! instants and fetch results and carry out what it decides.

use std::time::Duration;

use tokio::time::Instant;

use crate::checkpoint::{Clock, WaitCheckpoint};
use crate::error::{ExhaustedReason, FetchGiveUp, WaitError};
use crate::phase::{Phase, PhaseSummary};
use crate::policy::PollPolicy;
use crate::source::{ErrorClass, TaskSource};
use crate::strategy::Delays;
use crate::update::{Outcome, Update};

/// What the driver does next.
pub(crate) enum Step<S: TaskSource> {
    /// Fetch again at this instant.
    PollAt(Instant),
    /// The wait is over.
    Done(Outcome<S>),
}

/// One wait's state.
pub(crate) struct WaitState<S: TaskSource> {
    pub(crate) id: S::Id,
    started: Instant,
    deadline: Option<Instant>,
    polls: u32,
    delays: Delays,
    delays_used: u32,
    consecutive_transient: u32,
    transient_since: Option<Instant>,
    not_visible: u32,
    last: Option<PhaseSummary>,
    partials_reported: usize,
    /// The poll scheduled or in flight is the final one, at the deadline.
    at_deadline: bool,
}

impl<S: TaskSource> WaitState<S> {
    /// A wait that starts now; returns it with the instant of its first poll.
    pub(crate) fn start(
        id: S::Id,
        source: &S,
        policy: &PollPolicy,
        salt: u64,
        now: Instant,
    ) -> (Self, Instant) {
        let initial = policy
            .initial_delay
            .unwrap_or_else(|| source.initial_delay(&id));
        let deadline = policy.deadline.map(|d| now + d);
        let mut state = WaitState {
            id,
            started: now,
            deadline,
            polls: 0,
            delays: policy.strategy.delays(salt),
            delays_used: 0,
            consecutive_transient: 0,
            transient_since: None,
            not_visible: 0,
            last: None,
            partials_reported: 0,
            at_deadline: false,
        };
        let first = state.clamp_to_deadline(now + initial);
        (state, first)
    }

    /// Resumes a checkpointed wait; returns it with the instant of its next poll.
    pub(crate) fn resume(
        cp: WaitCheckpoint<S::Id>,
        policy: &PollPolicy,
        salt: u64,
        clock: Clock,
    ) -> (Self, Instant) {
        let mut delays = policy.strategy.delays(salt);
        for _ in 0..cp.delays_used {
            if delays.next().is_none() {
                break;
            }
        }
        let deadline = cp.deadline_unix_ms.map(|ms| clock.to_instant(ms));
        let mut state = WaitState {
            id: cp.id,
            started: clock.to_instant(cp.started_unix_ms),
            deadline,
            polls: cp.polls,
            delays,
            delays_used: cp.delays_used,
            consecutive_transient: cp.consecutive_transient,
            transient_since: None,
            not_visible: cp.not_visible,
            last: cp.last_phase,
            partials_reported: cp.partials_reported,
            at_deadline: false,
        };
        let next = clock.to_instant(cp.next_poll_unix_ms).max(clock.instant());
        let next = state.clamp_to_deadline(next);
        (state, next)
    }

    /// Writes the wait down, with its next poll due at `next_poll`.
    pub(crate) fn checkpoint(&self, next_poll: Instant, clock: Clock) -> WaitCheckpoint<S::Id> {
        WaitCheckpoint {
            id: self.id.clone(),
            started_unix_ms: clock.to_unix_ms(self.started),
            deadline_unix_ms: self.deadline.map(|d| clock.to_unix_ms(d)),
            next_poll_unix_ms: clock.to_unix_ms(next_poll),
            polls: self.polls,
            delays_used: self.delays_used,
            consecutive_transient: self.consecutive_transient,
            not_visible: self.not_visible,
            partials_reported: self.partials_reported,
            last_phase: self.last.clone(),
        }
    }

    /// The wait's deadline, if any.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Ends the wait as timed out now: the source may not be asked again before its
    /// deadline (a rate-limit pause or the request budget reaches past it).
    pub(crate) fn expire(&mut self, now: Instant) -> Step<S> {
        Step::Done(self.timed_out(now))
    }

    /// A batched request did not answer for this wait: poll again after the next delay.
    pub(crate) fn on_unanswered(&mut self, now: Instant, policy: &PollPolicy) -> Step<S> {
        self.schedule_next(now, None, policy)
    }

    /// Marks a fetch as started; returns the instant at which it is cut off, if any.
    pub(crate) fn begin_poll(&mut self, now: Instant, policy: &PollPolicy) -> Option<Instant> {
        self.polls = self.polls.saturating_add(1);
        // A poll delayed past the deadline (by a shared request budget) is the final one.
        if self.deadline.is_some_and(|d| now >= d) {
            self.at_deadline = true;
        }
        if self.at_deadline {
            Some(now + policy.final_poll_timeout)
        } else {
            self.deadline
        }
    }

    /// The fetch in flight was cut off at its cut-off instant.
    pub(crate) fn on_cutoff(&mut self, now: Instant) -> Step<S> {
        if self.at_deadline {
            tracing::debug!(task_id = %self.id,attempt = self.polls, "final poll cut off");
            Step::Done(self.timed_out(now))
        } else {
            // A request was in flight at the deadline: it is cut off, and the final
            // poll is made at once.
            tracing::debug!(
                task_id = %self.id,attempt = self.polls,
                "poll in flight at the deadline cut off"
            );
            self.at_deadline = true;
            Step::PollAt(now)
        }
    }

    /// A fetch returned.
    pub(crate) fn on_result(
        &mut self,
        now: Instant,
        result: Result<S::Status, S::Error>,
        source: &S,
        policy: &PollPolicy,
        mut report: Option<&mut dyn FnMut(Update<S>)>,
    ) -> Step<S> {
        let elapsed = now.saturating_duration_since(self.started);
        let attempt = self.polls;
        match result {
            Ok(status) => {
                self.consecutive_transient = 0;
                self.transient_since = None;
                let phase = source.classify(status);
                let summary = PhaseSummary::of(&phase);
                tracing::debug!(
                    task_id = %self.id,attempt,
                    elapsed_ms = elapsed.as_millis() as u64,
                    phase = summary.kind.as_str(),
                    status = summary.status.as_str(),
                    "polled"
                );
                if !summary.recognized
                    && self
                        .last
                        .as_ref()
                        .is_none_or(|l| l.status != summary.status)
                {
                    tracing::warn!(
                        task_id = %self.id,status = summary.status.as_str(),
                        "unrecognized status: treating the task as still in progress"
                    );
                }
                if let Some(r) = report.as_deref_mut() {
                    r(Update::Polled {
                        attempt,
                        elapsed,
                        phase: summary.clone(),
                    });
                }
                if phase.is_terminal()
                    && let Some(r) = report.as_deref_mut()
                {
                    // Pieces that finished in the poll that ended the task.
                    let all = source.terminal_partials(&phase);
                    for (index, result) in all.into_iter().enumerate().skip(self.partials_reported)
                    {
                        r(Update::Partial { index, result });
                    }
                }
                match phase {
                    Phase::Succeeded(output) => Step::Done(self.finish(now, Ok(output))),
                    Phase::Failed(failure) => {
                        let err = WaitError::Failed {
                            task_id: self.id.to_string(),
                            failure,
                            polls: self.polls,
                            elapsed,
                        };
                        Step::Done(self.finish(now, Err(err)))
                    }
                    Phase::Pending(progress) | Phase::Running(progress) => {
                        let seen = progress.partials.len();
                        if seen > self.partials_reported {
                            if let Some(r) = report.as_deref_mut() {
                                for (index, result) in progress
                                    .partials
                                    .into_iter()
                                    .enumerate()
                                    .skip(self.partials_reported)
                                {
                                    r(Update::Partial { index, result });
                                }
                            }
                            self.partials_reported = seen;
                        }
                        self.last = Some(summary);
                        self.schedule_next(now, None, policy)
                    }
                }
            }
            Err(error) => {
                let class = source.error_class(&error);
                let give_up = match class {
                    ErrorClass::Permanent => Some(FetchGiveUp::Permanent),
                    ErrorClass::NotYetVisible => {
                        self.not_visible = self.not_visible.saturating_add(1);
                        let grace = &policy.visibility;
                        let within = grace.max_count.is_none_or(|m| self.not_visible <= m)
                            && grace.max_elapsed.is_none_or(|m| elapsed <= m);
                        (!within).then_some(FetchGiveUp::NotVisible {
                            count: self.not_visible,
                        })
                    }
                    ErrorClass::Transient { .. } | ErrorClass::RateLimited { .. } => {
                        self.consecutive_transient = self.consecutive_transient.saturating_add(1);
                        let since = *self.transient_since.get_or_insert(now);
                        let retry = &policy.transient;
                        let within = retry
                            .max_consecutive
                            .is_none_or(|m| self.consecutive_transient <= m)
                            && retry
                                .max_duration
                                .is_none_or(|m| now.saturating_duration_since(since) <= m);
                        (!within).then_some(FetchGiveUp::RetriesExhausted {
                            consecutive: self.consecutive_transient,
                        })
                    }
                };
                if let Some(give_up) = give_up {
                    tracing::debug!(task_id = %self.id,attempt, error = %error, "fetch failed; giving up");
                    let err = WaitError::Fetch {
                        task_id: self.id.to_string(),
                        error,
                        give_up,
                        polls: self.polls,
                        elapsed,
                    };
                    return Step::Done(self.finish(now, Err(err)));
                }
                let retry_after = class.retry_after_hint();
                let step = self.schedule_next(now, retry_after, policy);
                if let Step::PollAt(at) = &step {
                    let delay = at.saturating_duration_since(now);
                    tracing::info!(
                        task_id = %self.id,attempt,
                        delay_ms = delay.as_millis() as u64,
                        error = %error,
                        "fetch failed; retrying"
                    );
                    if let Some(r) = report {
                        r(Update::Retrying {
                            attempt,
                            elapsed,
                            error,
                            class,
                            delay,
                        });
                    }
                }
                step
            }
        }
    }

    fn schedule_next(
        &mut self,
        now: Instant,
        retry_after: Option<Duration>,
        policy: &PollPolicy,
    ) -> Step<S> {
        if self.at_deadline {
            return Step::Done(self.timed_out(now));
        }
        if let Some(max) = policy.max_attempts
            && self.polls >= max
        {
            return Step::Done(self.exhausted(now, ExhaustedReason::MaxAttempts(max)));
        }
        self.delays_used = self.delays_used.saturating_add(1);
        let Some(mut delay) = self.delays.next() else {
            return Step::Done(self.exhausted(now, ExhaustedReason::StrategyEnded));
        };
        if let Some(asked) = retry_after {
            let asked = asked.min(policy.retry_after_ceiling);
            if self.deadline.is_some_and(|d| now + asked > d) {
                // The server asks us not to come back before the deadline.
                tracing::debug!(
                    task_id = %self.id,retry_after_ms = asked.as_millis() as u64,
                    "Retry-After reaches past the deadline"
                );
                return Step::Done(self.timed_out(now));
            }
            delay = delay.max(asked);
        }
        Step::PollAt(self.clamp_to_deadline(now + delay))
    }

    /// Moves a poll due at or after the deadline to the deadline, as the final poll.
    fn clamp_to_deadline(&mut self, at: Instant) -> Instant {
        match self.deadline {
            Some(d) if at >= d => {
                self.at_deadline = true;
                d
            }
            _ => at,
        }
    }

    fn finish(&mut self, now: Instant, result: crate::update::WaitResult<S>) -> Outcome<S> {
        Outcome::new(
            self.id.clone(),
            result,
            self.polls,
            now.saturating_duration_since(self.started),
        )
    }

    fn timed_out(&mut self, now: Instant) -> Outcome<S> {
        let err = WaitError::TimedOut {
            task_id: self.id.to_string(),
            elapsed: now.saturating_duration_since(self.started),
            polls: self.polls,
            last_phase: self.last.clone(),
        };
        self.finish(now, Err(err))
    }

    fn exhausted(&mut self, now: Instant, reason: ExhaustedReason) -> Outcome<S> {
        let err = WaitError::Exhausted {
            task_id: self.id.to_string(),
            reason,
            polls: self.polls,
            elapsed: now.saturating_duration_since(self.started),
            last_phase: self.last.clone(),
        };
        self.finish(now, Err(err))
    }
}
