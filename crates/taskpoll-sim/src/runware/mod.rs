//! The Runware simulator: everything is `POST /v1` with a JSON array of tasks.
//!
//! - Auth by `Authorization: Bearer <key>` or a leading
//!   `{"taskType":"authentication","apiKey":...}` element; a bad or missing key is a
//!   401 with `errors[{code:"invalidApiKey", parameter:"apiKey", taskType:"authentication"}]`.
//! - `videoInference`, `imageInference`, `audioInference`, `upscale`,
//!   `removeBackground` and `modelUpload` ([`TaskType`]) with
//!   `deliveryMethod: "async"` are checked (`taskUUID` a UUID, `model`,
//!   `positivePrompt` for images, `inputs.image` for upscale and background removal,
//!   `air` for model uploads, `numberResults` where the type takes it, `includeCost`,
//!   video `duration`) and acknowledged at once with one `{taskType, taskUUID}` item
//!   per task (or `data: []` with [`RunwareSimConfig::empty_ack`]); a reused
//!   `taskUUID` is `conflictTaskUUID`.
//! - A submitted task is unknown to its first `getResponse`
//!   ([`RunwareSimConfig::not_found_polls`], 1), as right after a submission Runware
//!   may not show it yet.
//! - `getResponse` answers the full cumulative state of the task's `numberResults`
//!   results in a stable order, each `processing` or `success` with its own media
//!   UUID (a model upload: `validated`, `downloaded`, `optimized`, `stored`, then
//!   `ready`); a failure is a top-level `errors` item (or a `status:"error"` data item
//!   with [`RunwareSimConfig::item_errors`]); `errors` is omitted when empty. An
//!   unknown task is `taskFailedOrNotFound` (or nothing at all with
//!   [`RunwareSimConfig::silent_unknown_tasks`]). Several `getResponse` objects in one
//!   POST are answered together (or only the first few, with
//!   [`RunwareSimConfig::batch_answer_limit`]).
//! - Faults ([`FaultPlan`](crate::faults::FaultPlan)) are rendered the Runware way: `errors` bodies for 5xx and
//!   429, an HTML page for `non_json`.
//!
//! Tasks follow a [`RunwareTaskSpec`]; submissions get
//! [`RunwareTaskSpec::from_defaults`]. `POST /_sim/tasks` takes a spec and answers
//! `{"taskUUID": ...}`.
//!
//! Wire reference: `shared/vendors/runware.md` of the project's design notes; what
//! this simulator does where Runware's documentation is silent is in
//! `docs/vendors/runware.md`.
//!
//! ```
//! use taskpoll_sim::runware::{MediaKind, RunwareSim, RunwareSimConfig, RunwareTaskSpec};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let sim = RunwareSim::start(RunwareSimConfig::default()).await?;
//! assert!(sim.base_url().ends_with("/v1"));
//! let uuid = sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 2).finish_after_polls([1, 2]));
//! assert_eq!(uuid.len(), 36);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

mod auth;
mod routes;
mod spec;
mod task;
mod validate;
mod wire;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

pub use spec::{MediaKind, RunwareTaskSpec, SpecFailure, TaskType};

use crate::control::{Common, SimState};
use crate::script::Defaults;
use crate::server::{Sim, any_loopback_port};
use task::Task;
use validate::Submission;

/// Settings of a Runware simulator. The switches cover what Runware's documentation
/// leaves open (see `docs/vendors/runware.md`).
#[derive(Debug, Clone)]
pub struct RunwareSimConfig {
    /// The API key accepted.
    pub api_key: String,
    /// How submissions script their tasks.
    pub defaults: Defaults,
    /// Acknowledge submissions with `{"data": []}` instead of one item per task.
    pub empty_ack: bool,
    /// Report a failed generation as a `data` item with `status: "error"` and a nested
    /// `error{code, message}` instead of a top-level `errors` item.
    pub item_errors: bool,
    /// Give every item a `resultIndex`.
    pub result_index: bool,
    /// How many `getResponse` polls a submitted task answers as unknown before
    /// Runware shows it (1: the first poll right after a submission does not find the
    /// task). Scripted tasks take their spec's `not_found_polls` (0 by default).
    pub not_found_polls: u32,
    /// Answer a `getResponse` for an unknown task (or one not shown yet) with
    /// `{"data": []}` and no error, instead of the `unknown_task_code` error.
    pub silent_unknown_tasks: bool,
    /// Answer at most this many `getResponse` objects of one POST and say nothing
    /// about the others, as a server that does not batch polls might (`None`: answer
    /// them all). Runware documents neither.
    pub batch_answer_limit: Option<usize>,
    /// HTTP status of a `getResponse` for an unknown or expired task.
    pub unknown_task_status: u16,
    /// Error code of a `getResponse` for an unknown or expired task.
    pub unknown_task_code: String,
    /// HTTP status of a `getResponse` whose task has failed.
    pub failed_task_status: u16,
    /// HTTP status of a `conflictTaskUUID` answer.
    pub conflict_status: u16,
    /// How long a finished task stays answerable (`None`: forever); after that
    /// `getResponse` treats it as unknown.
    pub retention: Option<Duration>,
    /// The video `duration` values accepted (empty: any number).
    pub allowed_durations: Vec<f64>,
    /// The largest `numberResults` accepted.
    pub max_results: u32,
}

impl Default for RunwareSimConfig {
    fn default() -> Self {
        RunwareSimConfig {
            api_key: "sim-runware-key".into(),
            defaults: Defaults::default(),
            empty_ack: false,
            item_errors: false,
            result_index: false,
            not_found_polls: 1,
            silent_unknown_tasks: false,
            batch_answer_limit: None,
            unknown_task_status: 200,
            unknown_task_code: "taskFailedOrNotFound".into(),
            failed_task_status: 200,
            conflict_status: 400,
            retention: None,
            allowed_durations: vec![5.0, 10.0],
            max_results: 20,
        }
    }
}

/// The key tasks are stored under: the canonical form of a UUID.
fn key(uuid: &str) -> String {
    uuid::Uuid::parse_str(uuid).map_or_else(
        |_| uuid.to_ascii_lowercase(),
        |u| u.hyphenated().to_string(),
    )
}

/// Shared state of a Runware simulator.
#[derive(Debug)]
pub struct RunwareState {
    pub(crate) config: RunwareSimConfig,
    pub(crate) common: Common,
    tasks: Mutex<HashMap<String, Task>>,
    submitted: Mutex<u64>,
}

impl RunwareState {
    fn new(config: RunwareSimConfig) -> Self {
        RunwareState {
            config,
            common: Common::default(),
            tasks: Mutex::new(HashMap::new()),
            submitted: Mutex::new(0),
        }
    }

    pub(crate) fn tasks(&self) -> MutexGuard<'_, HashMap<String, Task>> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a task following `spec` (replacing one with the same UUID); returns
    /// its `taskUUID`.
    pub(crate) fn add_task(&self, spec: &RunwareTaskSpec) -> String {
        let uuid = spec
            .task_uuid
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let task = Task::new(uuid.clone(), spec, Instant::now());
        self.tasks().insert(key(&uuid), task);
        uuid
    }

    /// Accepts a checked submission, or says which type of task already has its UUID.
    pub(crate) fn submit(&self, sub: &Submission) -> Result<(), TaskType> {
        let mut tasks = self.tasks();
        if let Some(existing) = tasks.get(&key(&sub.uuid)) {
            return Err(existing.task_type);
        }
        let n = {
            let mut submitted = self.submitted.lock().unwrap_or_else(|e| e.into_inner());
            *submitted += 1;
            *submitted
        };
        let defaults = &self.config.defaults;
        let spec =
            RunwareTaskSpec::from_defaults(defaults, sub.task_type, sub.results, defaults.fails(n))
                .include_cost(sub.include_cost)
                .not_found_polls(self.config.not_found_polls);
        let mut task = Task::new(sub.uuid.clone(), &spec, Instant::now());
        task.legacy_image_fields = sub.legacy_image_fields;
        task.air.clone_from(&sub.air);
        tasks.insert(key(&sub.uuid), task);
        Ok(())
    }

    /// Looks a task up for `getResponse`, forgetting it when its retention has passed.
    pub(crate) fn live_task<'a>(
        &self,
        tasks: &'a mut HashMap<String, Task>,
        uuid: &str,
        now: Instant,
    ) -> Option<&'a mut Task> {
        let k = key(uuid);
        if let Some(retention) = self.config.retention {
            let expired = tasks
                .get_mut(&k)
                .and_then(|t| t.finished_at(now))
                .is_some_and(|at| now.saturating_duration_since(at) > retention);
            if expired {
                tasks.remove(&k);
            }
        }
        tasks.get_mut(&k)
    }
}

impl SimState for RunwareState {
    fn common(&self) -> &Common {
        &self.common
    }

    fn clear_tasks(&self) {
        self.tasks().clear();
    }
}

/// A running Runware simulator.
pub type RunwareSim = Sim<RunwareState>;

impl Sim<RunwareState> {
    /// Starts on a free loopback port.
    pub async fn start(config: RunwareSimConfig) -> std::io::Result<Self> {
        RunwareSim::start_on(any_loopback_port(), config).await
    }

    /// Starts on `addr`.
    pub async fn start_on(addr: SocketAddr, config: RunwareSimConfig) -> std::io::Result<Self> {
        let sim = Sim::serve(addr, RunwareState::new(config), routes::router).await?;
        Ok(sim)
    }

    /// The base URL, `http://127.0.0.1:PORT/v1` (every request is a POST to it).
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.server().base_url())
    }

    /// The API key accepted.
    pub fn api_key(&self) -> &str {
        &self.state().config.api_key
    }

    /// Creates a task following `spec`; returns its `taskUUID`.
    pub fn create_task(&self, spec: RunwareTaskSpec) -> String {
        self.state().add_task(&spec)
    }

    /// When task `uuid` ended at the server (its last result, or its failure), if it has.
    pub fn finished_at(&self, uuid: &str) -> Option<Instant> {
        let mut tasks = self.state().tasks();
        tasks.get_mut(&key(uuid))?.finished_at(Instant::now())
    }
}
