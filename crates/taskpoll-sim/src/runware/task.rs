//! One simulated Runware task: a timeline per result, and what a poll shows.

use tokio::time::Instant;

use super::spec::{RunwareTaskSpec, SpecFailure, TaskType};
use crate::script::{Lasting, Position, ScriptStep, Timeline};

/// One of a task's `numberResults` generations.
#[derive(Debug)]
pub(crate) struct Slot {
    timeline: Timeline,
    lasting: Lasting,
    /// Its own media UUID (`videoUUID` / `imageUUID`), distinct per result.
    pub(crate) media_uuid: String,
    pub(crate) seed: u64,
    /// Whether the last poll showed it done (a poll-counted result is still shown
    /// processing on the poll that ends its step).
    shown_done: bool,
    /// When a poll first showed a poll-counted result done.
    shown_at: Option<Instant>,
}

impl Slot {
    /// When a client could first see this result done: the scripted instant of a
    /// timed result, the first poll showing it for a poll-counted one.
    fn done_at(&mut self, now: Instant) -> Option<Instant> {
        match self.lasting {
            Lasting::Millis(_) => {
                self.timeline.advance(now);
                self.timeline.finished_at()
            }
            Lasting::Polls(_) => self.shown_at,
        }
    }
}

/// What one item of a poll shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItemState {
    /// Still generating, with a progress estimate in percent.
    Processing { progress: u32 },
    /// Result `i` is done.
    Success(usize),
    /// This generation failed: the task's failure. Always the last item.
    Failed,
}

#[derive(Debug)]
pub(crate) struct Task {
    /// The `taskUUID` as submitted.
    pub(crate) uuid: String,
    pub(crate) task_type: TaskType,
    /// Upscale and background removal submitted with the legacy `inputImage` answer
    /// `imageUUID`/`imageURL` instead of `mediaUUID`/`mediaURL`.
    pub(crate) legacy_image_fields: bool,
    /// A model upload's `air`, shown on its `ready` item.
    pub(crate) air: Option<String>,
    /// `getResponse` polls still to answer as unknown.
    pub(crate) hidden_polls: u32,
    pub(crate) created: Instant,
    pub(crate) include_cost: bool,
    progress: bool,
    pub(crate) slots: Vec<Slot>,
    pub(crate) failure: Option<SpecFailure>,
    polls: u32,
}

impl Task {
    pub(crate) fn new(uuid: String, spec: &RunwareTaskSpec, now: Instant) -> Self {
        let n = spec.results.max(1);
        let base_seed = u64::from(uuid::Uuid::new_v4().as_u128() as u32);
        let slots = (0..n as usize)
            .map(|i| {
                let lasting = spec.lasting(i);
                Slot {
                    timeline: Timeline::new(
                        vec![ScriptStep {
                            status: "processing".into(),
                            lasts: lasting,
                        }],
                        now,
                    ),
                    lasting,
                    media_uuid: uuid::Uuid::new_v4().to_string(),
                    seed: base_seed + i as u64,
                    shown_done: false,
                    shown_at: None,
                }
            })
            .collect();
        let failure = spec.failure.clone().map(|mut f| {
            f.after = f.after.min(n - 1);
            f
        });
        Task {
            uuid,
            task_type: spec.task(),
            legacy_image_fields: false,
            air: None,
            hidden_polls: spec.not_found_polls,
            created: now,
            include_cost: spec.include_cost,
            progress: spec.progress,
            slots,
            failure,
            polls: 0,
        }
    }

    /// Counts one `getResponse` poll at `now` and says what each item shows.
    pub(crate) fn poll(&mut self, now: Instant) -> Vec<ItemState> {
        self.polls = self.polls.saturating_add(1);
        for slot in &mut self.slots {
            slot.shown_done = matches!(slot.timeline.poll(now), Position::Finished(_));
            if slot.shown_done && slot.shown_at.is_none() {
                slot.shown_at = Some(now);
            }
        }
        self.items(now)
    }

    /// Whether progress figures are shown.
    pub(crate) fn shows_progress(&self) -> bool {
        self.progress
    }

    fn done(&self, i: usize) -> bool {
        self.slots.get(i).is_some_and(|s| s.shown_done)
    }

    /// The index of the failing result, once the failure has happened.
    fn failed_at(&self) -> Option<usize> {
        let k = self.failure.as_ref()?.after as usize;
        (0..=k).all(|i| self.done(i)).then_some(k)
    }

    fn items(&self, now: Instant) -> Vec<ItemState> {
        if let Some(k) = self.failed_at() {
            let mut items: Vec<ItemState> = (0..k).map(ItemState::Success).collect();
            items.push(ItemState::Failed);
            return items;
        }
        let pending_failure = self.failure.as_ref().map(|f| f.after as usize);
        self.slots
            .iter()
            .enumerate()
            .map(|(i, slot)| {
                if self.done(i) && pending_failure != Some(i) {
                    ItemState::Success(i)
                } else {
                    ItemState::Processing {
                        progress: self.progress_of(slot, now),
                    }
                }
            })
            .collect()
    }

    fn progress_of(&self, slot: &Slot, now: Instant) -> u32 {
        let p = match slot.lasting {
            Lasting::Millis(0) | Lasting::Polls(0) => 99,
            Lasting::Millis(ms) => {
                let elapsed = now.saturating_duration_since(self.created).as_millis();
                u32::try_from(elapsed * 100 / u128::from(ms)).unwrap_or(99)
            }
            Lasting::Polls(n) => self.polls.saturating_mul(100) / n.saturating_add(1),
        };
        p.min(99)
    }

    /// When the task ended (all results done, or the failure) as a client could first
    /// see it, if it has; no poll counted.
    pub(crate) fn finished_at(&mut self, now: Instant) -> Option<Instant> {
        let last = match &self.failure {
            Some(f) => f.after as usize,
            None => self.slots.len().saturating_sub(1),
        };
        let mut at: Option<Instant> = None;
        for slot in self.slots.iter_mut().take(last + 1) {
            let done = slot.done_at(now)?;
            at = Some(at.map_or(done, |a| a.max(done)));
        }
        at
    }
}
