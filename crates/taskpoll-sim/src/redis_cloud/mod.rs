//! The Redis Cloud simulator: `GET /v1/tasks/{taskId}`, `GET /v1/tasks`, the start
//! endpoints `POST /v1/subscriptions`, `POST /v1/subscriptions/{id}/databases`,
//! `DELETE /v1/subscriptions/{id}`, their Essentials twins `POST /v1/fixed/subscriptions`
//! and `POST /v1/fixed/subscriptions/{id}/databases`, and for the provisioning phase
//! that follows a task `GET /v1/subscriptions/{id}`,
//! `GET /v1/subscriptions/{id}/databases/{databaseId}` and their `/v1/fixed/` twins.
//!
//! Provisioning: a subscription is `pending` after the task that created it, then
//! `active`; a database is `pending` (or any scripted statuses) after its create task
//! completed, then `active`; and its subscription is back to `pending` from the
//! database's create request until the database is done, so a second create in that
//! window fails with `SUBSCRIPTION_NOT_ACTIVE`.
//!
//! Faithful to the wire, quirks included: both key headers required (401 as Spring
//! JSON or as the gateway's nginx page), `received` start replies without `response`,
//! `response: {}` while a task runs, the fixed `description` texts, timestamps with a
//! varying number of fractional digits, `response.error` as an object (or a plain
//! string, as an option), 404s for a task just created (one poll by default), one task processed
//! at a time per account (the others wait in `received`), 400 requests per minute per
//! key with `X-Rate-Limit-Remaining` on every response, and Spring Boot error bodies.
//!
//! Wire reference: `shared/vendors/redis-cloud.md` of the project's design notes; what
//! this simulator does where Redis Cloud's documentation is silent is in
//! `docs/vendors/redis-cloud.md`.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
//! use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};
//!
//! let sim = RedisCloudSim::start(RedisCloudSimConfig::default()).await?;
//! assert!(sim.base_url().ends_with("/v1"));
//! let id = sim.create_task(TaskScript {
//!     steps: vec![ScriptStep::for_polls("processing-in-progress", 2)],
//!     outcome: ScriptOutcome::Success { result: serde_json::json!({"resourceId": 77899}) },
//! });
//! assert_eq!(id.len(), 36);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

mod auth;
mod routes;
mod wire;
mod world;

use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::control::{Common, SimState};
use crate::script::{Defaults, Lasting, ScriptOutcome, ScriptStep, TaskScript, Timeline};
use crate::server::{Sim, any_loopback_port};
pub(crate) use world::{Database, DbLook, Look, ResourceLink, SubStage, Subscription, Task, World};

/// The body of an error response that can be sent empty or Spring-style.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorBody {
    /// Spring Boot's `{timestamp, status, error, message, path}`.
    #[default]
    Spring,
    /// No body at all.
    Empty,
}

/// What a request without valid keys gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthFailure {
    /// 401 with a Spring Boot JSON body.
    #[default]
    Spring,
    /// 401 with the API gateway's nginx HTML page ("401 Authorization Required").
    NginxHtml,
}

/// The shape of `GET /v1/tasks`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListForm {
    /// `{"tasks": [...]}`, and `{}` when there are no tasks (the current API).
    #[default]
    Wrapper,
    /// A bare array (the historical form).
    BareArray,
}

/// Settings of a Redis Cloud simulator.
#[derive(Debug, Clone)]
pub struct RedisCloudSimConfig {
    /// The account key accepted (`x-api-key`).
    pub api_key: String,
    /// The user secret key accepted (`x-api-secret-key`).
    pub secret_key: String,
    /// How start endpoints script their tasks (the whole script is the processing
    /// time: `received`, then `processing-in-progress`).
    pub defaults: Defaults,
    /// Requests per minute per account key (fixed one-minute window) before 429.
    pub rate_limit_per_minute: u32,
    /// The rate-limit window: one minute, as Redis Cloud's (shorter only to compress
    /// time in benchmarks).
    pub rate_window: Duration,
    /// Send `Retry-After` (seconds to the window reset) with rate-limit 429s. Off by
    /// default: there is no evidence Redis Cloud sends it.
    pub send_retry_after: bool,
    /// Body of 429 responses (rate limit, concurrent changes, injected faults).
    pub rate_limit_body: ErrorBody,
    /// Body of 401 responses.
    pub auth_failure: AuthFailure,
    /// Body of 404 responses for unknown tasks and resources.
    pub not_found_body: ErrorBody,
    /// How many status requests a new task is unknown to before the task service
    /// knows it: `GET /v1/tasks/{taskId}` answers 404, and `GET /v1/tasks` leaves it
    /// out; each request of either kind counts (the window is one of time in
    /// production: any request moves it on). One by default, as in production (the Go
    /// client's test of a subscription create scripts POST, 404, then the task); 0
    /// turns it off.
    pub not_found_polls: u32,
    /// Send `response.error` as the bare error code string instead of the object.
    pub string_errors: bool,
    /// Shape of `GET /v1/tasks`.
    pub list_form: ListForm,
    /// One task processed at a time per account: a task's script starts only when
    /// the task created before it has finished; until then it shows `received`.
    pub serial_processing: bool,
    /// Default scripts show `initialized` before `received`.
    pub initialized_first: bool,
    /// How long a subscription stays `pending` after the task that created it
    /// completed (and `deleting` after its delete task completed).
    pub provisioning: Lasting,
    /// Most subscriptions that may be changing (`pending`, `deleting`) at once: one
    /// more `POST /v1/subscriptions` gets 429 (`None`: no limit).
    pub max_pending_subscriptions: Option<u32>,
    /// The statuses a new database shows after its create task completed, each for its
    /// time or polls of `GET .../databases/{databaseId}`, before
    /// [`database_final`](RedisCloudSimConfig::database_final). Default: `pending`
    /// for one second.
    pub database_provisioning: Vec<ScriptStep>,
    /// The status a database keeps after its provisioning steps: `active` by default
    /// (`error` scripts a failed provisioning).
    pub database_final: String,
    /// How long a subscription stays `pending` after its new database finished its
    /// provisioning steps (time, or polls of the subscription). None by default.
    pub subscription_settle: Lasting,
}

impl Default for RedisCloudSimConfig {
    fn default() -> Self {
        RedisCloudSimConfig {
            api_key: "sim-redis-cloud-key".into(),
            secret_key: "sim-redis-cloud-secret".into(),
            defaults: Defaults::default(),
            rate_limit_per_minute: 400,
            rate_window: WINDOW,
            send_retry_after: false,
            rate_limit_body: ErrorBody::Spring,
            auth_failure: AuthFailure::Spring,
            not_found_body: ErrorBody::Spring,
            not_found_polls: 1,
            string_errors: false,
            list_form: ListForm::Wrapper,
            serial_processing: true,
            initialized_first: false,
            provisioning: Lasting::Millis(1_000),
            max_pending_subscriptions: Some(3),
            database_provisioning: vec![ScriptStep::for_time("pending", Duration::from_secs(1))],
            database_final: "active".into(),
            subscription_settle: Lasting::Millis(0),
        }
    }
}

/// Per-task settings of a scripted task (the body of `POST /_sim/tasks` may carry
/// them beside the script, as `command_type` and `not_found_polls`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskOptions {
    /// `commandType` shown (default `subscriptionCreateRequest`).
    pub command_type: Option<String>,
    /// Status requests the task is unknown to (default: the config's
    /// `not_found_polls`).
    pub not_found_polls: Option<u32>,
}

/// Shared state of a Redis Cloud simulator.
#[derive(Debug)]
pub struct RedisCloudState {
    pub(crate) config: RedisCloudSimConfig,
    pub(crate) common: Common,
    pub(crate) world: Mutex<World>,
    pub(crate) base: OnceLock<String>,
    pub(crate) epoch: (Instant, SystemTime),
}

impl RedisCloudState {
    fn new(config: RedisCloudSimConfig) -> Self {
        RedisCloudState {
            config,
            common: Common::default(),
            world: Mutex::new(World::new()),
            base: OnceLock::new(),
            epoch: (Instant::now(), SystemTime::now()),
        }
    }

    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The base URL links point to (`http://127.0.0.1:PORT/v1`).
    pub(crate) fn base(&self) -> &str {
        self.base
            .get()
            .map_or("http://127.0.0.1/v1", String::as_str)
    }

    /// Wall-clock time at `at`.
    pub(crate) fn wall(&self, at: Instant) -> SystemTime {
        let (base_i, base_s) = self.epoch;
        base_s + at.saturating_duration_since(base_i)
    }

    /// Registers a task following `script`; returns its id.
    pub(crate) fn add_task(
        &self,
        world: &mut World,
        script: TaskScript,
        command_type: &str,
        not_found_polls: Option<u32>,
        resource: Option<ResourceLink>,
    ) -> String {
        let now = Instant::now();
        let id = uuid::Uuid::new_v4().to_string();
        let task = Task {
            id: id.clone(),
            command_type: command_type.to_owned(),
            created: now,
            steps: (self.config.serial_processing).then_some(script.steps.clone()),
            timeline: (!self.config.serial_processing).then(|| Timeline::new(script.steps, now)),
            outcome: script.outcome,
            hidden_polls: not_found_polls.unwrap_or(self.config.not_found_polls),
            last_status: "received".into(),
            updated: now,
            updates: 0,
            resource,
        };
        world.tasks.insert(id.clone(), task);
        world.order.push(id.clone());
        world.settle(now, self.config.serial_processing);
        id
    }

    /// Registers a scripted task with its per-task `options` (`commandType`
    /// `subscriptionCreateRequest` unless they name one); returns its id.
    pub(crate) fn add_scripted(&self, script: TaskScript, options: TaskOptions) -> String {
        let mut world = self.world();
        let command = options
            .command_type
            .as_deref()
            .unwrap_or("subscriptionCreateRequest");
        self.add_task(&mut world, script, command, options.not_found_polls, None)
    }

    /// The steps a start endpoint gives its task.
    pub(crate) fn default_steps(&self) -> Vec<ScriptStep> {
        if self.config.initialized_first {
            self.config.defaults.steps(&[
                ("initialized", 1),
                ("received", 1),
                ("processing-in-progress", 8),
            ])
        } else {
            self.config
                .defaults
                .steps(&[("received", 2), ("processing-in-progress", 8)])
        }
    }

    /// A start endpoint's script: `failure` when this start is one of the
    /// `fail_every`-th (or `forced_failure` is given), else success with `result`.
    pub(crate) fn default_script(
        &self,
        world: &mut World,
        result: Value,
        failure: Value,
        forced_failure: Option<Value>,
    ) -> TaskScript {
        world.started += 1;
        let outcome = match forced_failure {
            Some(error) => ScriptOutcome::Failure { error },
            None if self.config.defaults.fails(world.started) => {
                ScriptOutcome::Failure { error: failure }
            }
            None => ScriptOutcome::Success { result },
        };
        TaskScript {
            steps: self.default_steps(),
            outcome,
        }
    }

    /// The body of one look at a task.
    pub(crate) fn task_json(&self, task: &Task, look: &Look, start_reply: bool) -> Value {
        let response = if look.terminal {
            Some(match &task.outcome {
                ScriptOutcome::Success { result } => {
                    if result.is_null() {
                        json!({})
                    } else {
                        result.clone()
                    }
                }
                ScriptOutcome::Failure { error } => {
                    wire::failure_response(error, self.config.string_errors)
                }
            })
        } else {
            None
        };
        // Vary the precision per task and update: 9, 6, 3, 9, ... digits (trailing
        // zeros dropped), as captured timestamps vary.
        let digits = [9, 6, 3][(task.updates as usize + task.id.len()) % 3];
        wire::task_body(&wire::TaskView {
            base: self.base(),
            id: &task.id,
            command_type: &task.command_type,
            status: &look.status,
            timestamp: wire::task_timestamp(self.wall(task.updated), digits),
            response,
            resource: task.resource.as_ref().map(|r| (r.path.as_str(), r.title)),
            start_reply,
        })
    }
}

impl SimState for RedisCloudState {
    fn common(&self) -> &Common {
        &self.common
    }

    fn clear_tasks(&self) {
        *self.world() = World::new();
    }
}

/// A running Redis Cloud simulator.
pub type RedisCloudSim = Sim<RedisCloudState>;

impl Sim<RedisCloudState> {
    /// Starts on a free loopback port.
    pub async fn start(config: RedisCloudSimConfig) -> std::io::Result<Self> {
        RedisCloudSim::start_on(any_loopback_port(), config).await
    }

    /// Starts on `addr`.
    pub async fn start_on(addr: SocketAddr, config: RedisCloudSimConfig) -> std::io::Result<Self> {
        let sim = Sim::serve(addr, RedisCloudState::new(config), routes::router).await?;
        let _ = sim
            .state()
            .base
            .set(format!("{}/v1", sim.server().base_url()));
        Ok(sim)
    }

    /// The base URL (`http://127.0.0.1:PORT/v1`; production is
    /// `https://api.redislabs.com/v1`).
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.server().base_url())
    }

    /// The account key accepted (`x-api-key`).
    pub fn api_key(&self) -> &str {
        &self.state().config.api_key
    }

    /// The user secret key accepted (`x-api-secret-key`).
    pub fn secret_key(&self) -> &str {
        &self.state().config.secret_key
    }

    /// Creates a task following `script` (steps in Redis Cloud's status words; the
    /// outcome's `result` is the `response` object, its `error` the `response.error`
    /// object or string); returns its id.
    pub fn create_task(&self, script: TaskScript) -> String {
        self.create_task_with(script, TaskOptions::default())
    }

    /// Creates a task with per-task options; returns its id.
    pub fn create_task_with(&self, script: TaskScript, options: TaskOptions) -> String {
        self.state().add_scripted(script, options)
    }

    /// When task `id` finished processing at the server, if it has.
    pub fn finished_at(&self, id: &str) -> Option<Instant> {
        let mut world = self.state().world();
        let now = Instant::now();
        world.settle(now, self.state().config.serial_processing);
        world.task_ended(id, now).map(|(at, _)| at)
    }
}

/// How long a rate-limit window lasts.
pub(crate) const WINDOW: Duration = Duration::from_secs(60);
