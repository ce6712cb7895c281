//! [`Worker`]: claims a vendor's due waits under a lease, polls them through one
//! scheduler, writes their progress down and publishes each outcome exactly once.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use redis::Value as RedisValue;
use serde::Serialize;
use serde_json::Value;
use taskpoll::{Outcome, Poller, TaskSource, Update, WaitAll, WaitAllHandle, WaitCheckpoint};
use tokio::time::Instant;

use crate::error::FleetError;
use crate::keys::Keys;
use crate::outcome::{FleetOutcome, OutcomeKind, now_ms};
use crate::scripts::{FINISH, HELD, PERSIST, RELEASE, TICK};
use crate::store::Fleet;
use crate::waits::Progress;

/// Waits per progress or release script.
const CHUNK: usize = 1000;

/// How a worker turns stored waits into its source's ids, and outcomes into stored ones.
///
/// The fleet knows task ids as text plus a JSON `params` value (what the enqueuer gave,
/// such as the number of results a Runware task makes); the source knows its own id
/// type. [`DefaultCodec`] does it for sources whose id is made from a `String`.
pub trait WaitCodec<S: TaskSource>: Send + Sync + 'static {
    /// The source's id for a stored wait; an error ends the wait with outcome `error`.
    fn id(&self, task_id: &str, params: &Value) -> Result<S::Id, String>;

    /// The task id an id of the source is stored under.
    fn task_id(&self, id: &S::Id) -> String;

    /// The stored outcome of a wait that ended; `last_error` is the last fetch error
    /// the wait saw, if any. `worker` and `finished_unix_ms` are filled in afterwards.
    fn outcome(&self, vendor: &str, outcome: Outcome<S>, last_error: Option<&str>) -> FleetOutcome;
}

/// The codec of a source whose id is made from the task id (`S::Id: From<String>`,
/// written back with `Display`) and whose output and failure serialize: outcomes as
/// [`FleetOutcome::from_outcome`] reads them.
pub struct DefaultCodec<S>(PhantomData<fn() -> S>);

impl<S> DefaultCodec<S> {
    /// The codec.
    pub fn new() -> Self {
        DefaultCodec(PhantomData)
    }
}

impl<S> Default for DefaultCodec<S> {
    fn default() -> Self {
        DefaultCodec::new()
    }
}

impl<S> std::fmt::Debug for DefaultCodec<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DefaultCodec")
    }
}

impl<S> WaitCodec<S> for DefaultCodec<S>
where
    S: TaskSource,
    S::Id: From<String>,
    S::Output: Serialize,
    S::Failure: Serialize,
{
    fn id(&self, task_id: &str, _params: &Value) -> Result<S::Id, String> {
        Ok(S::Id::from(task_id.to_owned()))
    }

    fn task_id(&self, id: &S::Id) -> String {
        id.to_string()
    }

    fn outcome(&self, vendor: &str, outcome: Outcome<S>, last_error: Option<&str>) -> FleetOutcome {
        let task_id = outcome.id.to_string();
        let mut out = FleetOutcome::from_outcome(vendor, &task_id, &outcome);
        if let (Some(err), Some(message)) = (last_error, out.message.as_mut())
            && out.outcome != OutcomeKind::Completed
            && out.outcome != OutcomeKind::Failed
        {
            message.push_str(&format!(" (last error: {err})"));
        }
        out
    }
}

/// A worker's timing and capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerSettings {
    /// How long a worker's claim on its waits lasts without renewal: a worker silent
    /// this long (killed, cut off) loses its waits to the others. Default 15 s.
    pub lease: Duration,
    /// How often the worker renews its lease, takes back dead workers' waits and claims
    /// due ones. Default 250 ms (at most a third of the lease).
    pub tick: Duration,
    /// How often the progress of waits polled since is written down. Default 3 s (a
    /// wait resumed elsewhere may repeat up to this much of its schedule).
    pub persist_every: Duration,
    /// Most waits held at once. Default 10,000.
    pub max_waits: usize,
    /// Most waits claimed per tick. Default 1,000.
    pub claim_batch: usize,
    /// Claims waits due within this long (the scheduler times their polls). Default 1 s.
    pub lookahead: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            lease: Duration::from_secs(15),
            tick: Duration::from_millis(250),
            persist_every: Duration::from_secs(3),
            max_waits: 10_000,
            claim_batch: 1_000,
            lookahead: Duration::from_secs(1),
        }
    }
}

impl WorkerSettings {
    /// Sets the lease (at least 300 ms); the tick is kept at most a third of it.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(300));
        self.tick = self.tick.min(self.lease / 3);
        self
    }

    /// Sets the tick (at most a third of the lease, at least 10 ms).
    pub fn tick(mut self, tick: Duration) -> Self {
        self.tick = tick.clamp(Duration::from_millis(10), self.lease / 3);
        self
    }

    /// Sets how often progress is written down.
    pub fn persist_every(mut self, every: Duration) -> Self {
        self.persist_every = every.max(Duration::from_millis(10));
        self
    }

    /// Sets the most waits held at once.
    pub fn max_waits(mut self, n: usize) -> Self {
        self.max_waits = n.max(1);
        self
    }

    /// Sets the most waits claimed per tick.
    pub fn claim_batch(mut self, n: usize) -> Self {
        self.claim_batch = n.max(1);
        self
    }
}

/// What a worker did, from [`Worker::run`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerReport {
    /// Waits claimed.
    pub claimed: u64,
    /// Of those, waits resumed from progress another worker wrote down.
    pub resumed: u64,
    /// Waits of dead workers this worker put back to be claimed.
    pub reaped: u64,
    /// Outcomes published.
    pub published: u64,
    /// Outcomes not published because the wait had one already (another worker ended
    /// it first).
    pub duplicates: u64,
    /// Waits handed back at shutdown.
    pub handed_back: u64,
    /// Times the worker found its lease taken away (it stalled longer than the lease).
    pub leases_lost: u64,
}

/// A fleet worker for one vendor: claims due waits under a lease, polls them through
/// its poller's scheduler (one [`WaitAll`] group: batching and the request budget as
/// for any wait), writes their progress down, and publishes each outcome exactly once.
///
/// ```no_run
/// use serde::Serialize;
/// use taskpoll::{Poller, TaskSource};
/// use taskpoll_fleet::{DefaultCodec, Fleet, FleetError, Worker, WorkerReport};
///
/// /// Polls the fleet's waits of `vendor` until `stop` resolves.
/// async fn work<S>(poller: Poller<S>, vendor: &str, stop: tokio::sync::oneshot::Receiver<()>)
///     -> Result<WorkerReport, FleetError>
/// where
///     S: TaskSource,
///     S::Id: From<String>,
///     S::Output: Serialize,
///     S::Failure: Serialize,
/// {
///     let fleet = Fleet::open("redis://127.0.0.1:6379")?;
///     let worker = Worker::new(&fleet, vendor, poller, DefaultCodec::new())?;
///     worker.run(async { let _ = stop.await; }).await
/// }
/// ```
pub struct Worker<S: TaskSource> {
    fleet: Fleet,
    keys: Keys,
    vendor: String,
    poller: Poller<S>,
    codec: Arc<dyn WaitCodec<S>>,
    settings: WorkerSettings,
    id: String,
}

impl<S: TaskSource> std::fmt::Debug for Worker<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("fleet", &self.fleet)
            .field("vendor", &self.vendor)
            .field("id", &self.id)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// A claimed wait as the scripts return it.
struct Claim {
    task_id: String,
    params: Value,
    enqueued_ms: u64,
    deadline_ms: Option<u64>,
    progress: Option<Progress>,
}

fn text(v: &RedisValue) -> Option<String> {
    match v {
        RedisValue::BulkString(b) => String::from_utf8(b.clone()).ok(),
        RedisValue::SimpleString(s) => Some(s.clone()),
        RedisValue::Int(n) => Some(n.to_string()),
        _ => None,
    }
}

fn int(v: &RedisValue) -> i64 {
    match v {
        RedisValue::Int(n) => *n,
        other => text(other).and_then(|t| t.parse().ok()).unwrap_or(0),
    }
}

/// Claimed waits from a flat list of (id, params, enqueued, deadline, progress).
fn claims(values: &[RedisValue]) -> Vec<Claim> {
    values
        .chunks_exact(5)
        .filter_map(|c| {
            let task_id = text(&c[0])?;
            let params = text(&c[1])
                .and_then(|p| serde_json::from_str(&p).ok())
                .unwrap_or(Value::Null);
            let enqueued_ms = text(&c[2])
                .and_then(|t| t.parse().ok())
                .unwrap_or_else(now_ms);
            let deadline_ms = text(&c[3]).and_then(|t| t.parse().ok());
            let progress = text(&c[4]).and_then(|p| match serde_json::from_str(&p) {
                Ok(p) => Some(p),
                Err(e) => {
                    tracing::warn!(
                        task_id,
                        "unreadable progress ({e}): the wait restarts its interval sequence"
                    );
                    None
                }
            });
            Some(Claim {
                task_id,
                params,
                enqueued_ms,
                deadline_ms,
                progress,
            })
        })
        .collect()
}

/// What a worker keeps while it runs.
struct State<S: TaskSource> {
    group: WaitAll<S>,
    handle: WaitAllHandle<S>,
    /// Task ids held (claimed and not finished).
    held: HashSet<String>,
    /// Held waits polled since their progress was last written.
    dirty: HashSet<String>,
    /// The last fetch error of each held wait.
    last_error: HashMap<String, String>,
    /// Outcomes not yet published (Redis was unreachable): task id, JSON.
    finished: Vec<(String, String)>,
    /// A tick whose answer was lost may have claimed waits: read them back.
    reconcile: bool,
    /// The first tick has not succeeded yet.
    first: bool,
    /// Redis unreachable since, and the pause before the next try.
    down: Option<(Instant, Duration)>,
    retry_at: Option<Instant>,
    report: WorkerReport,
}

impl<S: TaskSource> Worker<S> {
    /// A worker of `vendor`'s waits on `fleet`, polling through `poller` (its
    /// scheduler's budget and batching, its policy's interval strategy; each wait keeps
    /// its own deadline), reading waits with `codec`.
    pub fn new(
        fleet: &Fleet,
        vendor: &str,
        poller: Poller<S>,
        codec: impl WaitCodec<S>,
    ) -> Result<Self, FleetError> {
        Ok(Worker {
            keys: fleet.keys(vendor)?,
            fleet: fleet.clone(),
            vendor: vendor.to_owned(),
            poller,
            codec: Arc::new(codec),
            settings: WorkerSettings::default(),
            id: format!(
                "{}-{}",
                std::process::id(),
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            ),
        })
    }

    /// Sets the lease, tick and capacity.
    pub fn settings(mut self, settings: WorkerSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The worker's id, as its lease and outcomes name it.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn ms(d: Duration) -> u64 {
        u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
    }

    fn new_group(&self) -> (WaitAll<S>, WaitAllHandle<S>) {
        let group = self.poller.wait_all(Vec::new());
        let handle = group.handle();
        (group, handle)
    }

    /// Runs until `shutdown` resolves, then writes every held wait's progress down and
    /// hands them back at once. Redis outages are logged and retried with backoff (the
    /// waits held go on being polled); errors are returned only for what retrying
    /// cannot fix.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<WorkerReport, FleetError> {
        let (group, handle) = self.new_group();
        let mut st = State {
            group,
            handle,
            held: HashSet::new(),
            dirty: HashSet::new(),
            last_error: HashMap::new(),
            finished: Vec::new(),
            reconcile: false,
            first: true,
            down: None,
            retry_at: None,
            report: WorkerReport::default(),
        };
        tracing::info!(
            vendor = %self.vendor,
            worker = %self.id,
            server = %self.fleet.server(),
            "fleet worker started (lease {:?})",
            self.settings.lease
        );
        let mut tick = tokio::time::interval(self.settings.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut persist = tokio::time::interval(self.settings.persist_every);
        persist.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                item = st.group.next() => {
                    let Some((id, update)) = item else { break };
                    self.on_update(&mut st, id, update);
                    // Take every update ready now, to publish their outcomes together.
                    while let Some(Some((id, update))) = st.group.next().now_or_never() {
                        self.on_update(&mut st, id, update);
                    }
                    if !st.finished.is_empty() {
                        self.publish(&mut st).await;
                    }
                }
                _ = tick.tick() => self.tick(&mut st).await,
                _ = persist.tick() => self.persist(&mut st).await,
            }
        }
        self.stop(&mut st).await;
        Ok(st.report)
    }

    fn on_update(&self, st: &mut State<S>, id: S::Id, update: Update<S>) {
        match update {
            Update::Polled { .. } => {
                st.dirty.insert(self.codec.task_id(&id));
            }
            Update::Retrying { error, .. } => {
                let task_id = self.codec.task_id(&id);
                st.last_error.insert(task_id.clone(), error.to_string());
                st.dirty.insert(task_id);
            }
            Update::Finished(outcome) => {
                let task_id = self.codec.task_id(&id);
                st.held.remove(&task_id);
                st.dirty.remove(&task_id);
                let last_error = st.last_error.remove(&task_id);
                let mut out = self
                    .codec
                    .outcome(&self.vendor, outcome, last_error.as_deref());
                out.task_id.clone_from(&task_id);
                out.vendor.clone_from(&self.vendor);
                out.worker.clone_from(&self.id);
                out.finished_unix_ms = now_ms();
                tracing::info!(
                    vendor = %self.vendor,
                    task_id = %task_id,
                    "{} after {} polls",
                    out.outcome,
                    out.polls
                );
                self.push_outcome(st, task_id, &out);
            }
            _ => {}
        }
    }

    fn push_outcome(&self, st: &mut State<S>, task_id: String, out: &FleetOutcome) {
        match serde_json::to_string(out) {
            Ok(json) => st.finished.push((task_id, json)),
            Err(e) => tracing::error!(task_id, "outcome not serializable: {e}"),
        }
    }

    /// Notes a Redis failure: logs it once per outage and sets the next try.
    fn failed(&self, st: &mut State<S>, e: &FleetError) {
        let now = Instant::now();
        let pause = match st.down {
            None => {
                tracing::warn!(vendor = %self.vendor, worker = %self.id, "{e}; the waits held go on being polled, and Redis is tried again with backoff");
                Duration::from_millis(200)
            }
            Some((_, last)) => {
                tracing::debug!(vendor = %self.vendor, "Redis still unreachable: {e}");
                (last * 2).min(Duration::from_secs(5))
            }
        };
        let since = st.down.map_or(now, |(s, _)| s);
        st.down = Some((since, pause));
        st.retry_at = Some(now + pause);
    }

    fn recovered(&self, st: &mut State<S>) {
        if let Some((since, _)) = st.down.take() {
            tracing::warn!(vendor = %self.vendor, worker = %self.id, "Redis answers again after {:?}: the worker goes on", since.elapsed());
        }
        st.retry_at = None;
    }

    fn waiting_out(&self, st: &State<S>) -> bool {
        st.retry_at.is_some_and(|t| Instant::now() < t)
    }

    /// Publishes the outcomes not yet published.
    async fn publish(&self, st: &mut State<S>) {
        if st.finished.is_empty() || self.waiting_out(st) {
            return;
        }
        while !st.finished.is_empty() {
            let n = st.finished.len().min(CHUNK);
            let mut inv = FINISH.prepare_invoke();
            inv.arg(&self.keys.prefix)
                .arg(self.fleet.outcome_ttl_value().as_secs().max(1));
            for (id, json) in &st.finished[..n] {
                inv.arg(id).arg(json);
            }
            let answer: Result<Vec<i64>, FleetError> =
                self.fleet.script("publishing outcomes", &inv).await;
            match answer {
                Ok(flags) => {
                    self.recovered(st);
                    for (flag, (id, _)) in flags.iter().zip(&st.finished[..n]) {
                        if *flag == 1 {
                            st.report.published += 1;
                        } else {
                            st.report.duplicates += 1;
                            tracing::info!(vendor = %self.vendor, task_id = %id, "outcome already published by another worker: not published again");
                        }
                    }
                    st.finished.drain(..n);
                }
                Err(e) => {
                    self.failed(st, &e);
                    return;
                }
            }
        }
    }

    /// Renews the lease, takes dead workers' waits back, claims due waits.
    async fn tick(&self, st: &mut State<S>) {
        if self.waiting_out(st) {
            return;
        }
        self.publish(st).await;
        if self.waiting_out(st) {
            return;
        }
        let room = self.settings.max_waits.saturating_sub(st.held.len());
        let mut inv = TICK.prepare_invoke();
        inv.arg(&self.keys.prefix)
            .arg(&self.id)
            .arg(Self::ms(self.settings.lease))
            .arg(room.min(self.settings.claim_batch))
            .arg(Self::ms(self.settings.lookahead))
            .arg(if st.first { "1" } else { "0" });
        let answer: Result<Vec<RedisValue>, FleetError> = self
            .fleet
            .script("renewing the lease and claiming waits", &inv)
            .await;
        let values = match answer {
            Ok(v) => v,
            Err(e) => {
                // The script may have run and claimed waits whose answer was lost.
                st.reconcile = true;
                self.failed(st, &e);
                return;
            }
        };
        self.recovered(st);
        st.first = false;
        let (lost, reaped) = match values.as_slice() {
            [lost, reaped, _now, ..] => (int(lost), int(reaped)),
            _ => (0, 0),
        };
        if reaped > 0 {
            st.report.reaped += u64::try_from(reaped).unwrap_or(0);
            tracing::info!(vendor = %self.vendor, worker = %self.id, "took back {reaped} waits of workers whose lease expired");
        }
        if lost == 1 {
            st.report.leases_lost += 1;
            tracing::warn!(
                vendor = %self.vendor,
                worker = %self.id,
                "this worker's lease had expired and its {} waits went to other workers: it stops polling them and claims anew",
                st.held.len()
            );
            let (group, handle) = self.new_group();
            st.group = group;
            st.handle = handle;
            st.held.clear();
            st.dirty.clear();
            st.last_error.clear();
            st.reconcile = false;
        }
        let mut claimed = claims(values.get(3..).unwrap_or_default());
        if st.reconcile {
            let mut inv = HELD.prepare_invoke();
            inv.arg(&self.keys.prefix).arg(&self.id);
            match self
                .fleet
                .script::<Vec<RedisValue>>("reading the waits this worker holds", &inv)
                .await
            {
                Ok(values) => {
                    st.reconcile = false;
                    claimed.extend(claims(&values));
                }
                Err(e) => self.failed(st, &e),
            }
        }
        claimed.retain(|c| !st.held.contains(&c.task_id));
        if !claimed.is_empty() {
            self.start(st, claimed).await;
        }
    }

    /// Starts claimed waits in the group, resumed from their progress or from their
    /// enqueue.
    async fn start(&self, st: &mut State<S>, claimed: Vec<Claim>) {
        let mut ids = Vec::with_capacity(claimed.len());
        let mut ok = Vec::with_capacity(claimed.len());
        for c in claimed {
            match self.codec.id(&c.task_id, &c.params) {
                Ok(id) => {
                    ids.push(id);
                    ok.push(c);
                }
                Err(reason) => {
                    let mut out = FleetOutcome::new(&self.vendor, &c.task_id, OutcomeKind::Error);
                    out.message = Some(format!("the wait cannot be polled: {reason}"));
                    out.error =
                        Some(serde_json::json!({ "kind": "invalid", "message": out.message }));
                    out.worker.clone_from(&self.id);
                    out.finished_unix_ms = now_ms();
                    let id = c.task_id.clone();
                    self.push_outcome(st, id, &out);
                }
            }
        }
        // Fresh checkpoints (deadline and first delay from the worker's policy and the
        // source), then set from what Redis holds.
        let fresh = self.poller.wait_all(ids).checkpoint().await;
        let (mut resumed, n) = (0, ok.len());
        for (mut cp, c) in fresh.into_iter().zip(ok) {
            match &c.progress {
                Some(p) => {
                    resumed += 1;
                    apply_progress(&mut cp, p);
                }
                None => {
                    let initial = cp.next_poll_unix_ms.saturating_sub(cp.started_unix_ms);
                    let policy_deadline = cp
                        .deadline_unix_ms
                        .map(|d| d.saturating_sub(cp.started_unix_ms));
                    cp.started_unix_ms = c.enqueued_ms;
                    cp.next_poll_unix_ms = c.enqueued_ms.saturating_add(initial);
                    cp.deadline_unix_ms = c
                        .deadline_ms
                        .or_else(|| policy_deadline.map(|d| c.enqueued_ms.saturating_add(d)));
                }
            }
            st.held.insert(c.task_id);
            st.handle.resume(cp);
        }
        st.report.claimed += n as u64;
        st.report.resumed += resumed;
        tracing::info!(
            vendor = %self.vendor,
            worker = %self.id,
            "claimed {n} waits ({resumed} resumed from another worker's progress); holding {}",
            st.held.len()
        );
        self.publish(st).await;
    }

    /// The progress arguments of `checkpoints`: id, next ms, polls, status, progress.
    fn progress_args(&self, checkpoints: &[WaitCheckpoint<S::Id>]) -> Vec<[String; 5]> {
        checkpoints
            .iter()
            .filter_map(|cp| {
                let progress = Progress {
                    started_unix_ms: cp.started_unix_ms,
                    deadline_unix_ms: cp.deadline_unix_ms,
                    next_poll_unix_ms: cp.next_poll_unix_ms,
                    polls: cp.polls,
                    delays_used: cp.delays_used,
                    consecutive_transient: cp.consecutive_transient,
                    not_visible: cp.not_visible,
                    partials_reported: cp.partials_reported,
                    last_phase: cp.last_phase.clone(),
                };
                let json = serde_json::to_string(&progress).ok()?;
                Some([
                    self.codec.task_id(&cp.id),
                    cp.next_poll_unix_ms.to_string(),
                    cp.polls.to_string(),
                    cp.last_phase
                        .as_ref()
                        .map(|p| p.status.clone())
                        .unwrap_or_default(),
                    json,
                ])
            })
            .collect()
    }

    /// Writes down the progress of the waits polled since last time.
    async fn persist(&self, st: &mut State<S>) {
        if st.dirty.is_empty() || self.waiting_out(st) {
            return;
        }
        let checkpoints = st.group.checkpoint().await;
        let args: Vec<[String; 5]> = self
            .progress_args(&checkpoints)
            .into_iter()
            .filter(|a| st.dirty.contains(&a[0]))
            .collect();
        for chunk in args.chunks(CHUNK) {
            let mut inv = PERSIST.prepare_invoke();
            inv.arg(&self.keys.prefix).arg(&self.id);
            for a in chunk {
                for v in a {
                    inv.arg(v);
                }
            }
            match self
                .fleet
                .script::<Vec<String>>("writing the waits' progress down", &inv)
                .await
            {
                Ok(gone) => {
                    self.recovered(st);
                    for a in chunk {
                        st.dirty.remove(&a[0]);
                    }
                    if !gone.is_empty() {
                        tracing::debug!(vendor = %self.vendor, "{} waits held here are no longer this worker's (ended or taken over)", gone.len());
                    }
                }
                Err(e) => {
                    self.failed(st, &e);
                    return;
                }
            }
        }
    }

    /// Publishes what is left, writes every held wait's progress down and hands the
    /// waits back.
    async fn stop(&self, st: &mut State<S>) {
        st.retry_at = None;
        self.publish(st).await;
        let checkpoints = st.group.checkpoint().await;
        let args = self.progress_args(&checkpoints);
        let mut chunks: Vec<&[[String; 5]]> = args.chunks(CHUNK).collect();
        let last = chunks.pop().unwrap_or_default();
        for chunk in chunks {
            let mut inv = PERSIST.prepare_invoke();
            inv.arg(&self.keys.prefix).arg(&self.id);
            for v in chunk.iter().flatten() {
                inv.arg(v);
            }
            if let Err(e) = self
                .fleet
                .script::<Vec<String>>("writing the waits' progress down", &inv)
                .await
            {
                tracing::warn!(vendor = %self.vendor, "{e}");
            }
        }
        let mut inv = RELEASE.prepare_invoke();
        inv.arg(&self.keys.prefix).arg(&self.id);
        for v in last.iter().flatten() {
            inv.arg(v);
        }
        match self
            .fleet
            .script::<i64>("handing the waits back", &inv)
            .await
        {
            Ok(n) => {
                st.report.handed_back = u64::try_from(n).unwrap_or(0);
                tracing::info!(vendor = %self.vendor, worker = %self.id, "stopped: handed {n} waits back");
            }
            Err(e) => tracing::warn!(
                vendor = %self.vendor,
                worker = %self.id,
                "{e}: the {} waits held go to other workers when this worker's lease expires",
                st.held.len()
            ),
        }
        if !st.finished.is_empty() {
            tracing::warn!(vendor = %self.vendor, "{} outcomes could not be published: their waits stay in Redis and will be polled again", st.finished.len());
        }
    }
}

fn apply_progress<Id>(cp: &mut WaitCheckpoint<Id>, p: &Progress) {
    cp.started_unix_ms = p.started_unix_ms;
    cp.deadline_unix_ms = p.deadline_unix_ms;
    cp.next_poll_unix_ms = p.next_poll_unix_ms;
    cp.polls = p.polls;
    cp.delays_used = p.delays_used;
    cp.consecutive_transient = p.consecutive_transient;
    cp.not_visible = p.not_visible;
    cp.partials_reported = p.partials_reported;
    cp.last_phase.clone_from(&p.last_phase);
}
