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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn scripts_answer_in_turn_and_everything_is_counted() {
        let sim = GenericSim::start(GenericSimConfig::default().require_header("x-api-key", "k1"))
            .await
            .unwrap();
        let http = reqwest::Client::new();
        let base = sim.base_url();
        // A task made through the control API.
        let made = http
            .post(format!("{base}/_sim/tasks"))
            .header("content-type", "application/json")
            .body(
                json!({"id": "t/1", "answers": [
                    {"status": 503, "body": {"e": 1}, "headers": {"Retry-After": "0"}},
                    {"body": {"status": "done"}}
                ]})
                .to_string(),
            )
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let made: Value = serde_json::from_str(&made).unwrap();
        assert_eq!(made["id"], "t/1");
        let get = |path: String, key: &'static str| {
            let http = http.clone();
            async move {
                let r = http
                    .get(path)
                    .header("x-api-key", key)
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                (status, r.text().await.unwrap())
            }
        };
        assert_eq!(get(format!("{base}/v1/jobs/t%2F1"), "k1").await.0, 503);
        assert_eq!(
            get(format!("{base}/v1/jobs/t%2F1"), "k1").await,
            (200, r#"{"status":"done"}"#.to_owned())
        );
        // The last answer repeats; the id may come in the query.
        assert_eq!(get(format!("{base}/status?id=t%2F1"), "k1").await.0, 200);
        assert_eq!(get(format!("{base}/v1/jobs/t%2F1"), "wrong").await.0, 401);
        assert_eq!(get(format!("{base}/v1/jobs/nope"), "k1").await.0, 404);
        // Or in a JSON body.
        let r = http
            .post(format!("{base}/poll"))
            .header("x-api-key", "k1")
            .body(json!({"tasks": [{"taskUUID": "t/1"}]}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let counts = sim.counts();
        assert_eq!(counts.total, 6);
        assert_eq!(counts.task("t/1"), 5);
        assert_eq!(counts.task("nope"), 1);
        assert_eq!(counts.endpoint("GET /v1/jobs/{id}"), 4);
        assert_eq!(counts.status(404), 1);
        let log = sim.requests();
        assert_eq!(log[0].target, "/v1/jobs/t%2F1");
        assert_eq!(log[0].task_ids, ["t/1"]);
        sim.shutdown().await;
    }
}
