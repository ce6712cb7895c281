//! The Stream simulator: `GET /api/v2/tasks/{id}` (integer-nanosecond timestamps), the
//! legacy `GET /tasks/{id}` (RFC 3339), start endpoints, server-JWT auth, the full
//! `APIError` body on every error and `X-RateLimit-*` on every response.
//!
//! Wire reference: `shared/vendors/stream.md` of the project's design notes; what this
//! simulator does where Stream's documentation is silent is in `docs/vendors/stream.md`.

mod auth;
mod routes;
mod wire;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use crate::control::{Common, SimState};
use crate::script::{Defaults, ScriptOutcome, TaskScript, Timeline};
use crate::server::{Sim, any_loopback_port};

/// Settings of a Stream simulator.
#[derive(Debug, Clone)]
pub struct StreamSimConfig {
    /// The API key accepted (`api_key` query parameter).
    pub api_key: String,
    /// The secret server JWTs must be signed with (HS256).
    pub api_secret: String,
    /// How start endpoints script their tasks.
    pub defaults: Defaults,
    /// Requests per minute per endpoint before 429 (code 9).
    pub rate_limit_per_minute: u32,
    /// The rate-limit window: one minute, as Stream's (shorter only to compress time in
    /// benchmarks).
    pub rate_window: Duration,
    /// Send `Retry-After` with 429s: the whole seconds to the window's reset, or an
    /// injected 429's `retry_after_secs`. Off by default, as Stream documents only the
    /// `X-RateLimit-*` headers (which every 429 carries, `X-RateLimit-Reset` saying when
    /// to come back).
    pub send_retry_after: bool,
    /// Items (channel cids, user ids, call cids) whose deletes fail: a delete naming one
    /// reports it `{"status": "error", "error": <reason>}` in its per-item `result`, the
    /// other items `{"status": "ok"}`, and the task still ends `completed`.
    pub item_errors: BTreeMap<String, String>,
    /// Answer `POST /api/v2/chat/channels/delete` at once: `{"result": {cid: ...},
    /// "duration"}` without a `task_id`, and no task to wait on.
    pub sync_delete_channels: bool,
}

impl Default for StreamSimConfig {
    fn default() -> Self {
        StreamSimConfig {
            api_key: "sim-stream-key".into(),
            api_secret: "sim-stream-secret".into(),
            defaults: Defaults::default(),
            rate_limit_per_minute: 1_000_000,
            rate_window: WINDOW,
            send_retry_after: false,
            item_errors: BTreeMap::new(),
            sync_delete_channels: false,
        }
    }
}

/// What a start endpoint started (decides the shape of `result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    ExportChannels,
    DeleteChannels,
    DeleteUsers,
    ExportUsers,
    DeactivateUsers,
    ReactivateUsers,
    ImportBlockList,
    DeleteCall,
}

#[derive(Debug)]
pub(crate) struct Task {
    pub(crate) id: String,
    pub(crate) created: Instant,
    pub(crate) timeline: Timeline,
    pub(crate) outcome: ScriptOutcome,
    pub(crate) last_status: String,
    pub(crate) updated: Instant,
}

#[derive(Debug)]
pub(crate) struct Window {
    pub(crate) started: Instant,
    pub(crate) used: HashMap<String, u32>,
}

/// Shared state of a Stream simulator.
#[derive(Debug)]
pub struct StreamState {
    pub(crate) config: StreamSimConfig,
    pub(crate) common: Common,
    pub(crate) tasks: Mutex<HashMap<String, Task>>,
    pub(crate) started: Mutex<u64>,
    pub(crate) window: Mutex<Window>,
    pub(crate) epoch: (Instant, std::time::SystemTime),
}

impl StreamState {
    fn new(config: StreamSimConfig) -> Self {
        StreamState {
            config,
            common: Common::default(),
            tasks: Mutex::new(HashMap::new()),
            started: Mutex::new(0),
            window: Mutex::new(Window {
                started: Instant::now(),
                used: HashMap::new(),
            }),
            epoch: (Instant::now(), std::time::SystemTime::now()),
        }
    }

    pub(crate) fn tasks(&self) -> MutexGuard<'_, HashMap<String, Task>> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a task following `script`; returns its id.
    pub(crate) fn add_task(&self, script: TaskScript) -> String {
        let now = Instant::now();
        let id = uuid::Uuid::new_v4().to_string();
        let first = script
            .steps
            .first()
            .map(|s| s.status.clone())
            .unwrap_or_else(|| "waiting".into());
        let task = Task {
            id: id.clone(),
            created: now,
            timeline: Timeline::new(script.steps, now),
            outcome: script.outcome,
            last_status: first,
            updated: now,
        };
        self.tasks().insert(id.clone(), task);
        id
    }

    /// The script a start endpoint gives its task.
    pub(crate) fn default_script(&self, op: Operation, subjects: &[String]) -> TaskScript {
        let n = {
            let mut started = self.started.lock().unwrap_or_else(|e| e.into_inner());
            *started += 1;
            *started
        };
        let steps = self
            .config
            .defaults
            .steps(&[("waiting", 1), ("pending", 2), ("running", 7)]);
        let outcome = if self.config.defaults.fails(n) {
            ScriptOutcome::Failure {
                error: wire::default_failure(op, subjects),
            }
        } else {
            ScriptOutcome::Success {
                result: wire::default_result(op, subjects, &self.config.item_errors),
            }
        };
        TaskScript { steps, outcome }
    }

    /// Whole Unix epoch seconds at `at`, rounded up (so that a client waiting until
    /// then never comes back before `at`).
    pub(crate) fn unix_secs_ceil(&self, at: Instant) -> u64 {
        let ns = u64::try_from(self.unix_nanos(at)).unwrap_or(0);
        ns.div_ceil(1_000_000_000)
    }

    /// How long from `now` until the Unix epoch second `epoch_secs` (zero if passed).
    pub(crate) fn until_epoch(&self, now: Instant, epoch_secs: u64) -> Duration {
        let now_ns = u64::try_from(self.unix_nanos(now)).unwrap_or(0);
        Duration::from_nanos(
            epoch_secs
                .saturating_mul(1_000_000_000)
                .saturating_sub(now_ns),
        )
    }

    /// Nanoseconds since the Unix epoch at `at`.
    pub(crate) fn unix_nanos(&self, at: Instant) -> i64 {
        let (base_i, base_s) = self.epoch;
        let wall = base_s + at.saturating_duration_since(base_i);
        wall.duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

impl SimState for StreamState {
    fn common(&self) -> &Common {
        &self.common
    }

    fn clear_tasks(&self) {
        self.tasks().clear();
    }
}

/// A running Stream simulator.
pub type StreamSim = Sim<StreamState>;

impl Sim<StreamState> {
    /// Starts on a free loopback port.
    pub async fn start(config: StreamSimConfig) -> std::io::Result<Self> {
        StreamSim::start_on(any_loopback_port(), config).await
    }

    /// Starts on `addr`.
    pub async fn start_on(addr: SocketAddr, config: StreamSimConfig) -> std::io::Result<Self> {
        let sim = Sim::serve(addr, StreamState::new(config), routes::router).await?;
        Ok(sim)
    }

    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> String {
        self.server().base_url()
    }

    /// The API key accepted.
    pub fn api_key(&self) -> &str {
        &self.state().config.api_key
    }

    /// The API secret accepted.
    pub fn api_secret(&self) -> &str {
        &self.state().config.api_secret
    }

    /// Creates a task following `script`; returns its id.
    pub fn create_task(&self, script: TaskScript) -> String {
        self.state().add_task(script)
    }

    /// When task `id` finished at the server, if it has.
    pub fn finished_at(&self, id: &str) -> Option<Instant> {
        let mut tasks = self.state().tasks();
        let task = tasks.get_mut(id)?;
        task.timeline.advance(Instant::now());
        task.timeline.finished_at()
    }
}

/// A delete's per-item `result`, as Stream writes it: each item (channel cid, user id,
/// call cid) to `{"status": "ok"}`, or to `{"status": "error", "error": reason}` when
/// `reason` is given. For scripts ([`TaskScript`]'s success `result`).
///
/// ```
/// let result = taskpoll_sim::stream::item_results([
///     ("messaging:general", None),
///     ("messaging:frozen", Some("channel is frozen")),
/// ]);
/// assert_eq!(result["messaging:frozen"]["status"], "error");
/// ```
pub fn item_results<'a>(
    items: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> serde_json::Value {
    wire::item_results(items)
}

/// How long a rate-limit window lasts.
pub(crate) const WINDOW: Duration = Duration::from_secs(60);
