//! A generic scripted task API, for declarative specs (`taskpoll-spec`) and anything else
//! that polls "GET a URL with the id in it".
//!
//! A task is a script of answers, one per poll: an HTTP status, a JSON body (or raw text)
//! and headers. The last answer repeats forever. Any request other than the control API
//! answers the next answer of the task it names: the id is the last path segment
//! (percent-decoded), else a query value, else any string of a JSON body. So one server
//! serves `GET /tasks/{id}`, `GET /v1/batches/{id}`, `GET /v2/transcript/{id}` or
//! `POST /status` with `{"id": ...}` alike. An unknown id answers 404; a request without
//! the [`GenericSimConfig::required_headers`] answers 401. Faults
//! ([`FaultPlan`](crate::faults::FaultPlan)) apply to every such request.
//!
//! `POST /_sim/tasks` takes a [`GenericTask`] as JSON and answers `{"id": ...}`; the
//! other control routes are the shared ones ([`control`](crate::control)).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use serde_json::json;
//! use taskpoll_sim::generic::{Answer, GenericSim, GenericSimConfig, GenericTask};
//!
//! let sim = GenericSim::start(GenericSimConfig::default()).await?;
//! let id = sim.create_task(GenericTask::new([
//!     Answer::json(404, json!({"error": "not found"})),
//!     Answer::json(200, json!({"status": "running"})),
//!     Answer::json(200, json!({"status": "done", "output": 42})),
//! ]));
//! assert!(!id.is_empty());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

mod routes;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::control::{Common, SimState};
use crate::server::{Sim, any_loopback_port};

/// Settings of a generic simulator.
#[derive(Debug, Clone, Default)]
pub struct GenericSimConfig {
    /// Headers every task request must carry with exactly these values (names in any
    /// case), or it is answered 401: `{"authorization": "Bearer sim-key"}`.
    pub required_headers: BTreeMap<String, String>,
}

impl GenericSimConfig {
    /// Requires `name: value` on every task request.
    pub fn require_header(mut self, name: &str, value: &str) -> Self {
        self.required_headers
            .insert(name.to_ascii_lowercase(), value.to_owned());
        self
    }
}

fn ok() -> u16 {
    200
}

/// One scripted answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The HTTP status (200 when left out).
    #[serde(default = "ok")]
    pub status: u16,
    /// A JSON body.
    #[serde(default)]
    pub body: Option<Value>,
    /// A body sent as it is, instead of `body` (an HTML page, a cut JSON text).
    #[serde(default)]
    pub raw: Option<String>,
    /// Headers sent with it (`Retry-After`, rate-limit headers, `Location`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

impl Answer {
    /// `status` with a JSON body.
    pub fn json(status: u16, body: Value) -> Self {
        Answer {
            status,
            body: Some(body),
            raw: None,
            headers: BTreeMap::new(),
        }
    }

    /// `status` with a body sent as it is.
    pub fn raw(status: u16, text: &str) -> Self {
        Answer {
            status,
            body: None,
            raw: Some(text.to_owned()),
            headers: BTreeMap::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.insert(name.to_owned(), value.to_owned());
        self
    }
}

/// A scripted task: its answers, one per poll (the last repeats).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenericTask {
    /// The task id (a new UUID when left out).
    #[serde(default)]
    pub id: Option<String>,
    /// The answers, in order.
    pub answers: Vec<Answer>,
}

impl GenericTask {
    /// A task answering `answers` in turn.
    pub fn new(answers: impl IntoIterator<Item = Answer>) -> Self {
        GenericTask {
            id: None,
            answers: answers.into_iter().collect(),
        }
    }

    /// Sets the task id.
    pub fn with_id(mut self, id: &str) -> Self {
        self.id = Some(id.to_owned());
        self
    }
}

/// A task's script and how far it has got.
#[derive(Debug)]
struct Task {
    answers: Vec<Answer>,
    next: usize,
}

/// Shared state of a generic simulator.
#[derive(Debug)]
pub struct GenericState {
    config: GenericSimConfig,
    common: Common,
    tasks: Mutex<HashMap<String, Task>>,
}

impl GenericState {
    fn tasks(&self) -> MutexGuard<'_, HashMap<String, Task>> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a task (replacing one with the same id); returns its id.
    pub(crate) fn add(&self, task: GenericTask) -> String {
        let id = task.id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        self.tasks().insert(
            id.clone(),
            Task {
                answers: task.answers,
                next: 0,
            },
        );
        id
    }

    pub(crate) fn knows(&self, id: &str) -> bool {
        self.tasks().contains_key(id)
    }

    /// The task's next answer (advancing its script when `advance`).
    pub(crate) fn answer(&self, id: &str, advance: bool) -> Option<Answer> {
        let mut tasks = self.tasks();
        let task = tasks.get_mut(id)?;
        let answer = task
            .answers
            .get(task.next)
            .or_else(|| task.answers.last())
            .cloned()
            .unwrap_or_else(|| Answer::json(200, Value::Object(Default::default())));
        if advance && task.next < task.answers.len() {
            task.next += 1;
        }
        Some(answer)
    }
}

impl SimState for GenericState {
    fn common(&self) -> &Common {
        &self.common
    }

    fn clear_tasks(&self) {
        self.tasks().clear();
    }
}

/// A running generic simulator.
pub type GenericSim = Sim<GenericState>;

impl Sim<GenericState> {
    /// Starts on a free loopback port.
    pub async fn start(config: GenericSimConfig) -> std::io::Result<Self> {
        GenericSim::start_on(any_loopback_port(), config).await
    }

    /// Starts on `addr`.
    pub async fn start_on(addr: SocketAddr, config: GenericSimConfig) -> std::io::Result<Self> {
        let state = GenericState {
            config,
            common: Common::default(),
            tasks: Mutex::new(HashMap::new()),
        };
        Sim::serve(addr, state, routes::router).await
    }

    /// The base URL, `http://127.0.0.1:PORT` (every path below it is a task route).
    pub fn base_url(&self) -> String {
        self.server().base_url()
    }

    /// Creates a scripted task; returns its id.
    pub fn create_task(&self, task: GenericTask) -> String {
        self.state().add(task)
    }
}
