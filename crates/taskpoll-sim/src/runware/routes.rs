//! The Runware simulator's routes: `POST /v1` (the body array is the routing) and
//! `POST /_sim/tasks`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use super::auth::{self, Refused};
use super::spec::{RunwareTaskSpec, TaskType};
use super::task::ItemState;
use super::wire::{self, Envelope, error_item};
use super::{RunwareState, validate};
use crate::accounting::Request;
use crate::control::control_routes;
use crate::faults::{self, Fault};

pub(crate) fn router(state: Arc<RunwareState>) -> Router {
    Router::new()
        .route("/v1", post(api))
        .route("/v1/", post(api))
        .route("/_sim/tasks", post(create_scripted))
        .merge(control_routes::<RunwareState>())
        .with_state(state)
}

type Task = Map<String, Value>;

/// What the ledger needs to know about one POST.
struct Call {
    /// `"POST /v1 getResponse"`, `"POST /v1 videoInference"`, types joined by `+`
    /// when one POST mixes them, `"POST /v1"` when the body names none.
    endpoint: String,
    /// The task ids the request polls (`getResponse` taskUUIDs; a batch names several).
    task_ids: Vec<String>,
    /// Only `getResponse` tasks: fault scope `status` applies.
    is_status: bool,
}

fn task_type(task: &Task) -> Option<&str> {
    task.get("taskType").and_then(Value::as_str)
}

/// Reads the body: a non-empty JSON array of objects.
fn parse(body: &[u8]) -> Result<Vec<Task>, String> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| format!("The request body is not valid JSON: {e}."))?;
    let Value::Array(items) = value else {
        return Err("The request body must be a JSON array of task objects.".into());
    };
    if items.is_empty() {
        return Err("The request body must contain at least one task.".into());
    }
    items
        .into_iter()
        .map(|item| match item {
            Value::Object(task) => Ok(task),
            _ => Err("Every element of the request array must be a task object.".to_owned()),
        })
        .collect()
}

fn describe(tasks: &[Task]) -> Call {
    let mut types: Vec<&str> = Vec::new();
    let mut task_ids = Vec::new();
    for (i, task) in tasks.iter().enumerate() {
        if i == 0 && auth::is_auth_element(task) {
            continue;
        }
        let t = task_type(task).unwrap_or("unknown");
        if !types.contains(&t) {
            types.push(t);
        }
        if t == "getResponse"
            && let Some(id) = task.get("taskUUID").and_then(Value::as_str)
        {
            task_ids.push(id.to_owned());
        }
    }
    let endpoint = if types.is_empty() {
        "POST /v1".to_owned()
    } else {
        format!("POST /v1 {}", types.join("+"))
    };
    let is_status = !types.is_empty() && types.iter().all(|t| *t == "getResponse");
    Call {
        endpoint,
        task_ids,
        is_status,
    }
}

fn json_response(status: StatusCode, body: &Value) -> (StatusCode, Response) {
    faults::json_answer(status, Some(body))
}

fn bad_request(code: &str, message: &str, fields: &[(&str, Value)]) -> (StatusCode, Response) {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"errors": [error_item(code, message, fields)]}),
    )
}

/// `POST /v1`: auth, faults, then the answer; every request recorded.
async fn api(
    State(s): State<Arc<RunwareState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed = parse(&body);
    let call = match &parsed {
        Ok(tasks) => describe(tasks),
        Err(_) => Call {
            endpoint: "POST /v1".into(),
            task_ids: Vec::new(),
            is_status: false,
        },
    };
    let mut retry_after = None;
    let mut fault_hit = false;
    let first = parsed.as_ref().ok().and_then(|t| t.first());
    let (status, mut response) = match auth::check(&s.config.api_key, &headers, first) {
        Err(Refused::InvalidKey) => {
            json_response(StatusCode::UNAUTHORIZED, &wire::invalid_api_key())
        }
        Err(Refused::UnknownParameter(key)) => bad_request(
            "unknownParameter",
            &format!(
                "Unknown parameter {key}: the authentication task accepts only apiKey and connectionSessionUUID."
            ),
            &[
                ("parameter", json!(key)),
                ("taskType", json!("authentication")),
            ],
        ),
        Ok(()) => match parsed {
            Err(reason) => bad_request("invalidRequestBody", &reason, &[]),
            Ok(tasks) => {
                let fault = s.common.draw_fault(call.is_status);
                fault_hit = fault.is_some();
                if let Some(Fault::RateLimited { retry_after_secs }) = fault {
                    retry_after = retry_after_secs.map(Duration::from_secs);
                }
                faults::answer_under(
                    fault,
                    || {
                        let (status, body) = answer(&s, &tasks);
                        (status, Some(body))
                    },
                    |code| json_response(code, &wire::server_error(code.as_u16())),
                    || json_response(StatusCode::TOO_MANY_REQUESTS, &wire::rate_limited()),
                )
                .await
            }
        },
    };
    if let Some(ra) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(ra.as_secs()));
    }
    let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    s.common.record(
        Request {
            method: method.as_str(),
            target,
            endpoint: &call.endpoint,
            task_ids: &call.task_ids,
        },
        status.as_u16(),
        retry_after,
        fault_hit,
    );
    response
}

/// Answers every task of an authenticated request: the union of their items and
/// errors, under the highest HTTP status any of them calls for.
fn answer(s: &RunwareState, tasks: &[Task]) -> (StatusCode, Value) {
    let config = &s.config;
    let now = Instant::now();
    let mut out = Envelope::default();
    let mut status: u16 = 200;
    let rest = match tasks.first() {
        Some(first) if auth::is_auth_element(first) => tasks.get(1..).unwrap_or_default(),
        _ => tasks,
    };
    if rest.is_empty() {
        out.data.push(wire::authenticated());
    }
    let mut polls_answered = 0;
    for task in rest {
        let served = task_type(task).and_then(TaskType::from_task_type);
        match (task_type(task), served) {
            (Some("getResponse"), _)
                if config
                    .batch_answer_limit
                    .is_some_and(|n| polls_answered >= n) => {}
            (Some("getResponse"), _) => match validate::task_uuid(task, "getResponse") {
                Err(e) => {
                    out.errors.push(e);
                    status = status.max(400);
                }
                Ok(uuid) => {
                    polls_answered += 1;
                    let mut all = s.tasks();
                    let shown = match s.live_task(&mut all, &uuid, now) {
                        Some(t) if t.hidden_polls > 0 => {
                            t.hidden_polls -= 1;
                            None
                        }
                        other => other,
                    };
                    match shown {
                        // Unknown, expired, or not shown yet: the same answer.
                        None => status = status.max(unknown(config, &uuid, &mut out)),
                        Some(t) => {
                            let items = t.poll(now);
                            wire::poll_items(t, &items, config, &mut out);
                            if items.last() == Some(&ItemState::Failed) {
                                status = status.max(config.failed_task_status);
                            }
                        }
                    }
                }
            },
            (Some(t), Some(task_type)) => {
                out.force_data = true;
                match validate::submission(task, task_type, config) {
                    Err(e) => {
                        out.errors.push(e);
                        status = status.max(400);
                    }
                    Ok(sub) => match s.submit(&sub) {
                        Ok(()) => {
                            if !config.empty_ack {
                                out.data.push(wire::ack(t, &sub.uuid));
                            }
                        }
                        Err(existing) => {
                            out.errors.push(wire::conflict(t, &sub.uuid, existing));
                            status = status.max(config.conflict_status);
                        }
                    },
                }
            }
            (Some("authentication"), _) => {
                out.errors.push(error_item(
                    "invalidTaskType",
                    "The authentication task must be the first element of the request array.",
                    &[
                        ("parameter", json!("taskType")),
                        ("taskType", json!("authentication")),
                    ],
                ));
                status = status.max(400);
            }
            (Some(other), None) => {
                out.errors.push(error_item(
                    "invalidTaskType",
                    &format!("Task type {other} is not served by this simulator."),
                    &[("parameter", json!("taskType")), ("taskType", json!(other))],
                ));
                status = status.max(400);
            }
            (None, _) => {
                out.errors.push(error_item(
                    "missingTaskType",
                    "Missing required parameter: taskType.",
                    &[("parameter", json!("taskType"))],
                ));
                status = status.max(400);
            }
        }
    }
    // A conflict alone carries no `data` key (as Runware sends it).
    if out.data.is_empty() && !out.errors.is_empty() && out.errors.iter().all(is_conflict) {
        out.force_data = false;
    }
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (code, out.into_body())
}

/// The answer about a task the server does not know (or does not show yet): the
/// `unknown_task_code` error, or nothing at all with `silent_unknown_tasks`. Returns
/// the HTTP status it calls for.
fn unknown(config: &super::RunwareSimConfig, uuid: &str, out: &mut Envelope) -> u16 {
    if config.silent_unknown_tasks {
        return 200;
    }
    out.errors
        .push(wire::unknown_task(&config.unknown_task_code, uuid));
    config.unknown_task_status
}

fn is_conflict(e: &Value) -> bool {
    e.get("code").and_then(Value::as_str) == Some("conflictTaskUUID")
}

/// `POST /_sim/tasks`: body a [`RunwareTaskSpec`]; answers `{"taskUUID": ...}`.
async fn create_scripted(State(s): State<Arc<RunwareState>>, body: Bytes) -> Response {
    match serde_json::from_slice::<RunwareTaskSpec>(&body) {
        Ok(spec) => {
            let uuid = s.add_task(&spec);
            (StatusCode::CREATED, axum::Json(json!({"taskUUID": uuid}))).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, format!("invalid task spec: {e}")).into_response(),
    }
}
