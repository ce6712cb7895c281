//! The Redis Cloud simulator's world: its tasks (in creation order and processed one
//! at a time per account), the subscriptions and databases they make and how those
//! stand over time, and the rate-limit window.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tokio::time::Instant;

use super::RedisCloudSimConfig;
use crate::script::{Lasting, Position, ScriptOutcome, ScriptStep, Timeline};

/// A task's link to the resource it made, for `links[rel=resource]`.
#[derive(Debug, Clone)]
pub(crate) struct ResourceLink {
    pub(crate) path: String,
    pub(crate) title: Option<&'static str>,
}

#[derive(Debug)]
pub(crate) struct Task {
    pub(crate) id: String,
    pub(crate) command_type: String,
    pub(crate) created: Instant,
    /// The script, until the task's turn to be processed comes.
    pub(crate) steps: Option<Vec<ScriptStep>>,
    /// The script's progress, once started.
    pub(crate) timeline: Option<Timeline>,
    pub(crate) outcome: ScriptOutcome,
    pub(crate) hidden_polls: u32,
    pub(crate) last_status: String,
    pub(crate) updated: Instant,
    pub(crate) updates: u32,
    pub(crate) resource: Option<ResourceLink>,
}

impl Task {
    /// When the task finished and whether it succeeded, if it has finished.
    fn ended(&self) -> Option<(Instant, bool)> {
        let at = self.timeline.as_ref()?.finished_at()?;
        Some((at, matches!(self.outcome, ScriptOutcome::Success { .. })))
    }
}

/// The status word and body parts of one look at a task.
pub(crate) struct Look {
    pub(crate) status: String,
    pub(crate) terminal: bool,
}

#[derive(Debug)]
pub(crate) struct Subscription {
    /// An Essentials (fixed) subscription: seen only under `/v1/fixed/subscriptions`.
    pub(crate) fixed: bool,
    pub(crate) name: String,
    pub(crate) created_by: String,
    pub(crate) deleted_by: Option<String>,
    pub(crate) provision_polls: u32,
    pub(crate) deleting_polls: u32,
}

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubStage {
    Pending,
    Active,
    Deleting,
    /// Never made (its create failed) or deleted.
    Gone,
}

impl SubStage {
    pub(crate) fn word(self) -> &'static str {
        match self {
            SubStage::Pending => "pending",
            SubStage::Active => "active",
            SubStage::Deleting => "deleting",
            SubStage::Gone => "gone",
        }
    }
}

#[derive(Debug)]
pub(crate) struct Database {
    pub(crate) subscription: i64,
    pub(crate) name: String,
    pub(crate) created_by: String,
    /// The create was accepted (not refused for a subscription that was not active):
    /// the subscription is `pending` until the database is done.
    pub(crate) changes_subscription: bool,
    /// The provisioning steps, from the moment the create task completed.
    pub(crate) timeline: Option<Timeline>,
    /// Polls of the subscription since the database was done (for a poll-counted
    /// `subscription_settle`).
    pub(crate) settle_polls: u32,
}

/// Where a database stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DbLook {
    /// Unknown to the API: its create task has not completed (or failed).
    Hidden,
    /// In a provisioning step, showing this status.
    Provisioning(String),
    /// Past its provisioning steps since this instant.
    Done(Instant),
}

#[derive(Debug)]
pub(crate) struct Window {
    pub(crate) started: Instant,
    pub(crate) used: HashMap<String, u32>,
}

/// Everything that changes: tasks (in creation order), resources, the rate window.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) tasks: HashMap<String, Task>,
    pub(crate) order: Vec<String>,
    /// How many tasks at the head of `order` have finished (they need no more work).
    pub(crate) done_prefix: usize,
    /// When the last of those finished.
    pub(crate) done_at: Option<Instant>,
    pub(crate) subscriptions: BTreeMap<i64, Subscription>,
    pub(crate) databases: BTreeMap<i64, Database>,
    pub(crate) next_subscription: i64,
    pub(crate) next_database: i64,
    pub(crate) started: u64,
    pub(crate) window: Window,
}

impl World {
    pub(super) fn new() -> Self {
        World {
            tasks: HashMap::new(),
            order: Vec::new(),
            done_prefix: 0,
            done_at: None,
            subscriptions: BTreeMap::new(),
            databases: BTreeMap::new(),
            next_subscription: 77_899,
            next_database: 51_055_029,
            started: 0,
            window: Window {
                started: Instant::now(),
                used: HashMap::new(),
            },
        }
    }

    /// Starts the scripts whose turn has come and advances time-based steps. With
    /// serial processing a task starts when the one created before it finished (or at
    /// its creation, if later).
    pub(crate) fn settle(&mut self, now: Instant, serial: bool) {
        if !serial {
            // Tasks run side by side: each got its timeline when it was created, and is
            // advanced when something looks at it. Nothing to walk.
            return;
        }
        // `Some(t)`: the account is free since `t` (`None`: since always).
        let mut free_since: Option<Option<Instant>> = Some(self.done_at);
        // Finished tasks at the head of the queue need no more work: skip them.
        let mut prefix = true;
        for (i, id) in self.order.iter().enumerate().skip(self.done_prefix) {
            let Some(task) = self.tasks.get_mut(id) else {
                continue;
            };
            if task.timeline.is_none() {
                let start = if serial {
                    match free_since {
                        Some(since) => since.map_or(task.created, |s| s.max(task.created)),
                        None => break,
                    }
                } else {
                    task.created
                };
                let steps = task.steps.take().unwrap_or_default();
                task.timeline = Some(Timeline::new(steps, start));
            }
            if let Some(tl) = task.timeline.as_mut() {
                tl.advance(now);
                let finished = tl.finished_at();
                if serial {
                    free_since = finished.map(Some);
                }
                match finished {
                    Some(at) if prefix => {
                        self.done_prefix = i + 1;
                        self.done_at = Some(at);
                    }
                    _ => prefix = false,
                }
            }
        }
    }

    /// One status poll of a visible task: counts it against poll-counted steps.
    pub(crate) fn poll(&mut self, id: &str, now: Instant) -> Option<Look> {
        let task = self.tasks.get_mut(id)?;
        let look = match task.timeline.as_mut() {
            None => Look {
                status: "received".into(),
                terminal: false,
            },
            Some(tl) => match tl.poll(now) {
                Position::Step(s) => Look {
                    status: s.to_owned(),
                    terminal: false,
                },
                Position::Finished(_) => Look {
                    status: match task.outcome {
                        ScriptOutcome::Success { .. } => "processing-completed".into(),
                        ScriptOutcome::Failure { .. } => "processing-error".into(),
                    },
                    terminal: true,
                },
            },
        };
        if look.status != task.last_status {
            task.last_status = look.status.clone();
            task.updated = task.ended().map_or(now, |(at, _)| at);
            task.updates += 1;
        }
        Some(look)
    }

    pub(crate) fn task_ended(&mut self, id: &str, now: Instant) -> Option<(Instant, bool)> {
        let task = self.tasks.get_mut(id)?;
        if let Some(tl) = task.timeline.as_mut() {
            tl.advance(now);
        }
        task.ended()
    }

    /// Whether task `id` has finished with a failure.
    pub(crate) fn task_failed(&mut self, id: &str, now: Instant) -> bool {
        self.task_ended(id, now).is_some_and(|(_, ok)| !ok)
    }

    /// Where subscription `id` stands; `count_poll` counts a `GET` of it against
    /// poll-counted provisioning (`config.provisioning`, and `config.subscription_settle`
    /// after a database create).
    pub(crate) fn stage(
        &mut self,
        id: i64,
        now: Instant,
        config: &RedisCloudSimConfig,
        count_poll: bool,
    ) -> SubStage {
        let Some(sub) = self.subscriptions.get(&id) else {
            return SubStage::Gone;
        };
        let (created_by, deleted_by) = (sub.created_by.clone(), sub.deleted_by.clone());
        let created = self.task_ended(&created_by, now);
        let deleted = deleted_by.and_then(|t| self.task_ended(&t, now));
        let Some(sub) = self.subscriptions.get_mut(&id) else {
            return SubStage::Gone;
        };
        let provisioned = |since: Instant, polls: &mut u32| {
            lasted(config.provisioning, since, now, polls, count_poll)
        };
        match (created, deleted) {
            (None, _) => SubStage::Pending,
            (Some((_, false)), _) => SubStage::Gone,
            (Some(_), Some((at, true))) => {
                if provisioned(at, &mut sub.deleting_polls) {
                    SubStage::Gone
                } else {
                    SubStage::Deleting
                }
            }
            (Some((at, true)), _) => {
                if !provisioned(at, &mut sub.provision_polls)
                    || self.database_changing(id, now, config, count_poll)
                {
                    SubStage::Pending
                } else {
                    SubStage::Active
                }
            }
        }
    }

    /// Whether a database create keeps subscription `id` `pending`: from the request
    /// until the database is done provisioning, and `config.subscription_settle` after.
    /// A create that failed changed nothing.
    fn database_changing(
        &mut self,
        id: i64,
        now: Instant,
        config: &RedisCloudSimConfig,
        count_poll: bool,
    ) -> bool {
        let ids: Vec<i64> = self
            .databases
            .iter()
            .filter(|(_, d)| d.subscription == id && d.changes_subscription)
            .map(|(k, _)| *k)
            .collect();
        let mut changing = false;
        for db_id in ids {
            let since = match self.database_look(db_id, now, &config.database_provisioning, false) {
                DbLook::Done(at) => at,
                DbLook::Provisioning(_) => {
                    changing = true;
                    continue;
                }
                DbLook::Hidden => {
                    let creator = self.databases.get(&db_id).map(|d| d.created_by.clone());
                    let ended = creator.is_some_and(|t| self.task_ended(&t, now).is_some());
                    // Hidden and ended: the create failed. Not ended: being processed.
                    changing |= !ended;
                    continue;
                }
            };
            let Some(d) = self.databases.get_mut(&db_id) else {
                continue;
            };
            changing |= !lasted(
                config.subscription_settle,
                since,
                now,
                &mut d.settle_polls,
                count_poll,
            );
        }
        changing
    }

    /// Where database `id` stands; `steps` are its provisioning steps, and
    /// `count_poll` counts a `GET` of it against poll-counted steps.
    pub(crate) fn database_look(
        &mut self,
        id: i64,
        now: Instant,
        steps: &[ScriptStep],
        count_poll: bool,
    ) -> DbLook {
        let Some(created_by) = self.databases.get(&id).map(|d| d.created_by.clone()) else {
            return DbLook::Hidden;
        };
        let Some((at, true)) = self.task_ended(&created_by, now) else {
            return DbLook::Hidden;
        };
        let Some(d) = self.databases.get_mut(&id) else {
            return DbLook::Hidden;
        };
        let tl = d
            .timeline
            .get_or_insert_with(|| Timeline::new(steps.to_vec(), at));
        let position = if count_poll {
            tl.poll(now)
        } else {
            tl.peek(now)
        };
        match position {
            Position::Step(word) => DbLook::Provisioning(word.to_owned()),
            Position::Finished(at) => DbLook::Done(at),
        }
    }

    /// Databases of subscription `id` whose create task completed.
    pub(crate) fn database_count(&mut self, id: i64, now: Instant) -> usize {
        let creators: Vec<String> = self
            .databases
            .values()
            .filter(|d| d.subscription == id)
            .map(|d| d.created_by.clone())
            .collect();
        creators
            .iter()
            .filter(|t| self.task_ended(t, now).is_some_and(|(_, ok)| ok))
            .count()
    }
}

/// Whether `lasting` has passed since `since`: by time, or by polls, where `polls`
/// are the polls seen so far and `count_poll` counts this one while it has not passed.
fn lasted(
    lasting: Lasting,
    since: Instant,
    now: Instant,
    polls: &mut u32,
    count_poll: bool,
) -> bool {
    match lasting {
        Lasting::Millis(ms) => now >= since + Duration::from_millis(ms),
        Lasting::Polls(n) => {
            if *polls >= n {
                true
            } else {
                if count_poll {
                    *polls += 1;
                }
                false
            }
        }
    }
}
