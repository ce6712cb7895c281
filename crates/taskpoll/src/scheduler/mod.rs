//! [`Scheduler`]: one per vendor client (per credential), shared by every wait made from
//! it.
//!
//! Every [`Poller`](crate::Poller) made from a scheduler, and every wait, watch and group
//! made from those pollers, goes through the scheduler's one task: one slab of wait
//! states, one heap of due instants, one timer, one [`RequestBudget`], and one pause
//! after a 429. The task starts with the first wait and stops when the last handle (the
//! scheduler, a poller, a watch, a group) is dropped; a later wait starts it again, on
//! the runtime that wait runs on. The budget lives outside the task, so its counts
//! survive.

mod driver;
mod engine;
mod fetch;
pub(crate) mod sink;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::sync::oneshot;

use crate::budget::{Budget, RequestBudget};
use crate::checkpoint::WaitCheckpoint;
use crate::poller::Poller;
use crate::source::{BatchTaskSource, TaskSource};
use driver::{Command, Driver};
use engine::Engine;
pub(crate) use engine::{NewWait, Start};
use fetch::FetchMode;

struct Shared<S: TaskSource> {
    source: Arc<S>,
    budget: Arc<dyn RequestBudget>,
    limits: Budget,
    mode: FetchMode<S>,
    commands: Mutex<Option<UnboundedSender<Command<S>>>>,
    groups: AtomicU64,
    /// Requests sent, over every task the scheduler ran.
    requests: Arc<AtomicU64>,
}

/// The one scheduler of a source: every wait made from it shares its request budget,
/// its batching and its pause after a 429.
///
/// Cheap to clone (clones share everything). Vendor clients hold theirs and hand it to
/// every poller they make ([`SchedulerCell`]); [`Poller::new`] makes a private one.
///
/// ```
/// use std::time::Duration;
/// use taskpoll::testing::{ScriptedSource, Step};
/// use taskpoll::{Budget, Scheduler};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let source = ScriptedSource::new();
/// source.script("a", [Step::running(), Step::succeed("a done")]);
/// source.script("b", [Step::succeed("b done")]);
/// let scheduler = Scheduler::builder(source)
///     .budget(Budget::default().per_minute(300))
///     .build();
/// // Two pollers with different deadlines, one budget of 300 requests a minute.
/// let short = scheduler.poller().configure(|p| p.deadline(Duration::from_secs(30)));
/// let long = scheduler.poller().configure(|p| p.deadline(Duration::from_secs(600)));
/// let (a, b) = tokio::join!(short.wait("a".into()), long.wait("b".into()));
/// assert_eq!((a.unwrap(), b.unwrap()), ("a done".to_string(), "b done".to_string()));
/// # }
/// ```
pub struct Scheduler<S: TaskSource> {
    shared: Arc<Shared<S>>,
}

impl<S: TaskSource> Clone for Scheduler<S> {
    fn clone(&self) -> Self {
        Scheduler {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: TaskSource> fmt::Debug for Scheduler<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scheduler")
            .field("source", &self.shared.source.name())
            .field("limits", &self.shared.limits)
            .field("budget", &self.shared.budget)
            .field("max_batch", &self.shared.mode.max_batch)
            .field("coalesce_window", &self.shared.mode.window)
            .finish()
    }
}

impl<S: TaskSource> Scheduler<S> {
    /// A scheduler over `source` with the default [`Budget`], fetching one id per
    /// request.
    pub fn new(source: S) -> Self {
        Scheduler::builder(source).build()
    }

    /// Configures a scheduler over `source`.
    pub fn builder(source: S) -> SchedulerBuilder<S> {
        SchedulerBuilder::new(Arc::new(source))
    }

    /// A poller with the source's default policy.
    pub fn poller(&self) -> Poller<S> {
        Poller::from_scheduler(self.clone())
    }

    /// The source.
    pub fn source(&self) -> &S {
        &self.shared.source
    }

    /// The shared source.
    pub fn source_arc(&self) -> &Arc<S> {
        &self.shared.source
    }

    /// The limits the scheduler works under.
    pub fn limits(&self) -> Budget {
        self.shared.limits
    }

    /// The request budget it draws from (shared with every scheduler on the same
    /// credential).
    pub fn request_budget(&self) -> &Arc<dyn RequestBudget> {
        &self.shared.budget
    }

    /// Requests sent so far (a batch counts once), by every wait of the scheduler.
    pub fn requests_sent(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// A number no other group of this scheduler has.
    pub(crate) fn next_group(&self) -> u64 {
        self.shared.groups.fetch_add(1, Ordering::Relaxed)
    }

    /// Hands a wait to the running task, starting the task first if none runs.
    pub(crate) fn submit(&self, wait: NewWait<S>) {
        self.send(Command::Wait(wait));
    }

    /// The group's unfinished waits, written down by the running task.
    pub(crate) async fn checkpoint(&self, group: u64) -> Vec<WaitCheckpoint<S::Id>> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Checkpoint { group, reply });
        answer.await.unwrap_or_default()
    }

    fn send(&self, command: Command<S>) {
        let mut guard = self
            .shared
            .commands
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut command = command;
        // Twice at most: a task that stopped (its runtime shut down) is replaced once.
        for _ in 0..2 {
            let tx = match guard.as_ref() {
                Some(tx) if !tx.is_closed() => tx.clone(),
                _ => {
                    let (tx, rx) = unbounded_channel();
                    let engine = Engine::new(
                        Arc::clone(&self.shared.source),
                        Arc::clone(&self.shared.budget),
                        self.shared.limits,
                        self.shared.mode.clone(),
                        Arc::clone(&self.shared.requests),
                    );
                    tokio::spawn(Driver::new(rx, engine));
                    *guard = Some(tx.clone());
                    tx
                }
            };
            match tx.send(command) {
                Ok(()) => return,
                Err(back) => {
                    command = back.0;
                    *guard = None;
                }
            }
        }
    }
}

/// Settings of a [`Scheduler`], from [`Scheduler::builder`].
pub struct SchedulerBuilder<S: TaskSource> {
    source: Arc<S>,
    limits: Budget,
    budget: Option<Arc<dyn RequestBudget>>,
    mode: FetchMode<S>,
}

impl<S: TaskSource> fmt::Debug for SchedulerBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchedulerBuilder")
            .field("source", &self.source.name())
            .field("limits", &self.limits)
            .field("budget", &self.budget)
            .field("max_batch", &self.mode.max_batch)
            .finish()
    }
}

impl<S: TaskSource> SchedulerBuilder<S> {
    /// A builder over a shared source.
    pub fn new(source: Arc<S>) -> Self {
        SchedulerBuilder {
            source,
            limits: Budget::default(),
            budget: None,
            mode: FetchMode::single(),
        }
    }

    /// The limits: request rate (enforced by an in-process [`LocalBudget`] unless
    /// [`request_budget`](SchedulerBuilder::request_budget) plugs in another), requests
    /// in flight, and the pause after a bare 429.
    ///
    /// [`LocalBudget`]: crate::LocalBudget
    pub fn budget(mut self, limits: Budget) -> Self {
        self.limits = limits;
        self
    }

    /// Draws the request rate from `budget` (shared with other schedulers on the same
    /// credential, or with other processes) instead of a budget of its own.
    pub fn request_budget(mut self, budget: Arc<dyn RequestBudget>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// The scheduler.
    pub fn build(self) -> Scheduler<S> {
        let budget = self.budget.unwrap_or_else(|| Arc::new(self.limits.local()));
        Scheduler {
            shared: Arc::new(Shared {
                source: self.source,
                budget,
                limits: self.limits,
                mode: self.mode,
                commands: Mutex::new(None),
                groups: AtomicU64::new(0),
                requests: Arc::new(AtomicU64::new(0)),
            }),
        }
    }
}

impl<S> SchedulerBuilder<S>
where
    S: BatchTaskSource,
    S::Error: Clone,
{
    /// Fetches due waits together: those falling due within `window` (100 ms is a good
    /// start) share one request, up to the source's
    /// [`max_batch`](BatchTaskSource::max_batch) ids, or `max_batch` if smaller.
    pub fn batched(mut self, window: Duration, max_batch: Option<usize>) -> Self {
        let max = self.source.max_batch().max(1);
        let max = max_batch.map_or(max, |m| m.clamp(1, max));
        self.mode = FetchMode::batched(max, window);
        self
    }
}

/// Where a vendor client keeps its scheduler: made on first use, shared by every poller
/// the client and its clones make, and dropped with the last of them.
///
/// It holds the scheduler weakly, so a client that owns it does not keep the
/// scheduler's task (which owns the source, which may own the client) alive.
pub struct SchedulerCell<S: TaskSource> {
    weak: Mutex<Weak<Shared<S>>>,
}

impl<S: TaskSource> Default for SchedulerCell<S> {
    fn default() -> Self {
        SchedulerCell {
            weak: Mutex::new(Weak::new()),
        }
    }
}

impl<S: TaskSource> fmt::Debug for SchedulerCell<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let live = self
            .weak
            .lock()
            .map(|w| w.strong_count() > 0)
            .unwrap_or(false);
        f.debug_struct("SchedulerCell")
            .field("live", &live)
            .finish()
    }
}

impl<S: TaskSource> SchedulerCell<S> {
    /// An empty cell.
    pub fn new() -> Self {
        SchedulerCell::default()
    }

    /// The live scheduler, or a new one from `make`.
    pub fn get_or_init(&self, make: impl FnOnce() -> Scheduler<S>) -> Scheduler<S> {
        let mut weak = self.weak.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(shared) = weak.upgrade() {
            return Scheduler { shared };
        }
        let scheduler = make();
        *weak = Arc::downgrade(&scheduler.shared);
        scheduler
    }
}
