//! What the engine does with a request's end: each wait's answer (and the pause a 429 or
//! an exhausted rate-limit hint calls for), or the cut-off of a request past a deadline.

use tokio::time::Instant;

use super::{Engine, InFlight, Slot};
use crate::machine::Step;
use crate::policy::PollPolicy;
use crate::scheduler::fetch::Answers;
use crate::scheduler::sink::WaitMsg;
use crate::source::{ErrorClass, TaskSource};
use crate::update::Update;

impl<S: TaskSource> Engine<S> {
    pub(super) fn on_answers(&mut self, flight: InFlight<S>, answers: Answers<S>, now: Instant) {
        self.budget
            .release(now.saturating_duration_since(flight.sent));
        let mut pause: Option<Instant> = None;
        for (idx, answer) in flight.waits.into_iter().zip(answers) {
            let step = {
                let Some(Some(slot)) = self.slots.get_mut(idx) else {
                    continue;
                };
                slot.cutoff = None;
                match answer {
                    None => slot.state.on_unanswered(now, &slot.policy),
                    Some(result) => {
                        if let Err(e) = &result
                            && let ErrorClass::RateLimited { retry_after } =
                                self.source.error_class(e)
                        {
                            let asked = retry_after.unwrap_or(self.limits.rate_limit_pause);
                            let until = now + asked.min(slot.policy.retry_after_ceiling);
                            pause = Some(pause.map_or(until, |p| p.max(until)));
                        }
                        let Slot {
                            state,
                            policy,
                            sink,
                            report,
                            ..
                        } = slot;
                        if *report {
                            let id = state.id.clone();
                            let mut push = |u: Update<S>| sink.send(&id, WaitMsg::Update(u));
                            state.on_result(now, result, &self.source, policy, Some(&mut push))
                        } else {
                            state.on_result(now, result, &self.source, policy, None)
                        }
                    }
                }
            };
            self.apply(idx, step);
        }
        if let Some(hint) = self.source.rate_limit()
            && hint.remaining == 0
            && hint.resets_at > now
        {
            let ceiling = self
                .slots
                .iter()
                .flatten()
                .map(|s| s.policy.retry_after_ceiling)
                .max()
                .unwrap_or(PollPolicy::default().retry_after_ceiling);
            let resets = hint.resets_at.min(now + ceiling);
            pause = Some(pause.map_or(resets, |p| p.max(resets)));
        }
        if let Some(until) = pause {
            let pause = until.saturating_duration_since(now);
            tracing::info!(
                pause_ms = pause.as_millis() as u64,
                "rate limited: pausing every wait on this budget"
            );
            self.budget.pause(pause);
        }
    }

    pub(super) fn on_cutoff(&mut self, flight: InFlight<S>, now: Instant) {
        self.budget
            .release(now.saturating_duration_since(flight.sent));
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
}
