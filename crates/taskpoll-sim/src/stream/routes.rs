//! The Stream simulator's routes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::wire::{api_error, rfc3339};
use super::{Operation, StreamState, auth};
use crate::accounting::Request;
use crate::control::control_routes;
use crate::faults::{self, Fault};
use crate::script::{Position, ScriptOutcome, TaskScript};

pub(crate) fn router(state: Arc<StreamState>) -> Router {
    Router::new()
        .route("/api/v2/tasks/{id}", get(get_task_v2))
        .route("/tasks/{id}", get(get_task_legacy))
        .route(
            "/api/v2/chat/export_channels",
            start_endpoint(
                Operation::ExportChannels,
                "POST /api/v2/chat/export_channels",
                "ExportChannels",
            ),
        )
        .route(
            "/api/v2/chat/channels/delete",
            start_endpoint(
                Operation::DeleteChannels,
                "POST /api/v2/chat/channels/delete",
                "DeleteChannels",
            ),
        )
        .route(
            "/api/v2/users/delete",
            start_endpoint(
                Operation::DeleteUsers,
                "POST /api/v2/users/delete",
                "DeleteUsers",
            ),
        )
        .route(
            "/api/v2/export/users",
            start_endpoint(
                Operation::ExportUsers,
                "POST /api/v2/export/users",
                "ExportUsers",
            ),
        )
        .route("/_sim/tasks", post(create_scripted))
        .merge(control_routes::<StreamState>())
        .with_state(state)
}

/// One vendor request, as the shared handling path sees it.
struct Call<'a> {
    method: &'a Method,
    uri: &'a Uri,
    endpoint: &'static str,
    operation: &'static str,
    task_ids: Vec<String>,
    is_status: bool,
}

type Query_ = Query<HashMap<String, String>>;

/// Auth, rate limit, faults, then `answer`; rate-limit headers on every response;
/// every request recorded.
async fn handle(
    state: &StreamState,
    call: Call<'_>,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    answer: impl FnOnce(&StreamState) -> (StatusCode, Value),
) -> Response {
    let began = Instant::now();
    let (limit, remaining, reset_in) = take_rate(state, call.endpoint);
    let mut retry_after = None;
    let mut fault_hit = false;
    let (status, mut response) = if let Err(refused) = auth::check(
        &state.config,
        query.get("api_key").map(String::as_str),
        headers,
    ) {
        let body = api_error(refused.code, 401, call.operation, &refused.detail, None);
        json_response(StatusCode::UNAUTHORIZED, &body)
    } else if remaining.is_none() {
        retry_after = state.config.send_retry_after.then_some(reset_in);
        rate_limited(call.operation)
    } else {
        let fault = state.common.draw_fault(call.is_status);
        fault_hit = fault.is_some();
        if let Some(Fault::RateLimited { retry_after_secs }) = fault {
            retry_after = retry_after_secs.map(Duration::from_secs);
        }
        faults::answer_under(
            fault,
            || {
                let (status, body) = answer(state);
                (status, Some(with_duration(body, began)))
            },
            |code| {
                let body = api_error(
                    -1,
                    code.as_u16(),
                    call.operation,
                    "internal server error",
                    None,
                );
                json_response(code, &body)
            },
            || rate_limited(call.operation),
        )
        .await
    };
    let h = response.headers_mut();
    let reset_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        + reset_in.as_secs();
    h.insert("x-ratelimit-limit", HeaderValue::from(limit));
    // A 429 (the window's or an injected one) always says nothing remains, as Stream's do.
    let remaining = match status {
        StatusCode::TOO_MANY_REQUESTS => 0,
        _ => remaining.unwrap_or(0),
    };
    h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from(reset_epoch));
    if let Some(ra) = retry_after {
        h.insert(header::RETRY_AFTER, HeaderValue::from(ra.as_secs()));
    }
    let target = call.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    state.common.record(
        Request {
            method: call.method.as_str(),
            target,
            endpoint: call.endpoint,
            task_ids: &call.task_ids,
        },
        status.as_u16(),
        retry_after,
        fault_hit,
    );
    response
}

/// Counts a request against its endpoint's window: (limit, remaining after it or
/// `None` when over the limit, time to the window's reset).
fn take_rate(state: &StreamState, endpoint: &str) -> (u32, Option<u32>, Duration) {
    let limit = state.config.rate_limit_per_minute;
    let now = Instant::now();
    let mut w = state.window.lock().unwrap_or_else(|e| e.into_inner());
    let window = state.config.rate_window;
    if now.saturating_duration_since(w.started) >= window {
        w.started = now;
        w.used.clear();
    }
    let reset_in = (w.started + window).saturating_duration_since(now);
    // Whole seconds, rounded up, as Retry-After carries.
    let reset_in = Duration::from_secs(reset_in.as_secs() + u64::from(reset_in.subsec_nanos() > 0));
    let used = w.used.entry(endpoint.to_owned()).or_default();
    if *used >= limit {
        return (limit, None, reset_in);
    }
    *used += 1;
    (limit, Some(limit - *used), reset_in)
}

fn rate_limited(operation: &str) -> (StatusCode, Response) {
    let body = api_error(
        9,
        429,
        operation,
        "Too many requests, check response headers for more information.",
        None,
    );
    json_response(StatusCode::TOO_MANY_REQUESTS, &body)
}

fn json_response(status: StatusCode, body: &Value) -> (StatusCode, Response) {
    faults::json_answer(status, Some(body))
}

fn with_duration(mut body: Value, began: Instant) -> Value {
    if let Some(obj) = body.as_object_mut()
        && obj.contains_key("duration")
    {
        let ms = began.elapsed().as_secs_f64() * 1000.0;
        obj.insert("duration".into(), Value::String(format!("{ms:.2}ms")));
    }
    body
}

#[derive(Clone, Copy)]
enum Timestamps {
    Nanos,
    Rfc3339,
}

/// The task's status body, counting one poll.
fn task_body(state: &StreamState, id: &str, ts: Timestamps) -> (StatusCode, Value) {
    let now = Instant::now();
    let mut tasks = state.tasks();
    let Some(task) = tasks.get_mut(id) else {
        drop(tasks);
        return (
            StatusCode::NOT_FOUND,
            api_error(
                16,
                404,
                "GetTask",
                &format!("Can't find task with id {id}"),
                Some(false),
            ),
        );
    };
    let (status, finished) = match task.timeline.poll(now) {
        Position::Step(s) => (s.to_owned(), None),
        Position::Finished(at) => {
            let word = match task.outcome {
                ScriptOutcome::Success { .. } => "completed",
                ScriptOutcome::Failure { .. } => "failed",
            };
            (word.to_owned(), Some(at))
        }
    };
    if status != task.last_status {
        task.last_status = status.clone();
        task.updated = finished.unwrap_or(now);
    }
    let stamp = |at: Instant| -> Value {
        let ns = state.unix_nanos(at);
        match ts {
            Timestamps::Nanos => json!(ns),
            Timestamps::Rfc3339 => json!(rfc3339(ns)),
        }
    };
    let mut body = json!({
        "task_id": task.id,
        "status": status,
        "created_at": stamp(task.created),
        "updated_at": stamp(task.updated),
        "duration": "0.00ms",
    });
    if finished.is_some()
        && let Some(obj) = body.as_object_mut()
    {
        match &task.outcome {
            ScriptOutcome::Success { result } => {
                obj.insert("result".into(), result.clone());
            }
            ScriptOutcome::Failure { error } => {
                obj.insert("error".into(), error.clone());
            }
        }
    }
    (StatusCode::OK, body)
}

async fn get_task_v2(
    State(s): State<Arc<StreamState>>,
    Path(id): Path<String>,
    Query(q): Query_,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let call = Call {
        method: &method,
        uri: &uri,
        endpoint: "GET /api/v2/tasks/{id}",
        operation: "GetTask",
        task_ids: vec![id.clone()],
        is_status: true,
    };
    handle(&s, call, &q, &headers, |s| {
        task_body(s, &id, Timestamps::Nanos)
    })
    .await
}

async fn get_task_legacy(
    State(s): State<Arc<StreamState>>,
    Path(id): Path<String>,
    Query(q): Query_,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let call = Call {
        method: &method,
        uri: &uri,
        endpoint: "GET /tasks/{id}",
        operation: "GetTask",
        task_ids: vec![id.clone()],
        is_status: true,
    };
    handle(&s, call, &q, &headers, |s| {
        task_body(s, &id, Timestamps::Rfc3339)
    })
    .await
}

/// Reads the subjects (channel cids, user ids) a start request names, or says what is
/// wrong with it.
fn subjects(op: Operation, body: &[u8]) -> Result<Vec<String>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))?;
    let strings = |key: &str| -> Result<Vec<String>, String> {
        let items = v
            .get(key)
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{key} is required"))?;
        if items.is_empty() {
            return Err(format!("{key} must not be empty"));
        }
        items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{key} must be a list of strings"))
            })
            .collect()
    };
    match op {
        Operation::ExportChannels => {
            let channels = v
                .get("channels")
                .and_then(Value::as_array)
                .ok_or("channels is required")?;
            if channels.is_empty() || channels.len() > 25 {
                return Err("channels must name 1 to 25 channels".into());
            }
            channels
                .iter()
                .map(|c| {
                    if let Some(cid) = c.get("cid").and_then(Value::as_str) {
                        Ok(cid.to_owned())
                    } else {
                        match (
                            c.get("type").and_then(Value::as_str),
                            c.get("id").and_then(Value::as_str),
                        ) {
                            (Some(t), Some(i)) => Ok(format!("{t}:{i}")),
                            _ => Err("each channel needs a cid or a type and an id".to_owned()),
                        }
                    }
                })
                .collect()
        }
        Operation::DeleteChannels => strings("cids"),
        Operation::DeleteUsers | Operation::ExportUsers => strings("user_ids"),
    }
}

async fn start(
    s: Arc<StreamState>,
    op: Operation,
    endpoint: &'static str,
    operation: &'static str,
    (q, method, uri, headers, body): (HashMap<String, String>, Method, Uri, HeaderMap, Bytes),
) -> Response {
    let call = Call {
        method: &method,
        uri: &uri,
        endpoint,
        operation,
        task_ids: Vec::new(),
        is_status: false,
    };
    handle(&s, call, &q, &headers, |s| match subjects(op, &body) {
        Ok(subjects) => {
            let script = s.default_script(op, &subjects);
            let id = s.add_task(script);
            (
                StatusCode::CREATED,
                json!({"task_id": id, "duration": "0.00ms"}),
            )
        }
        Err(detail) => (
            StatusCode::BAD_REQUEST,
            api_error(4, 400, operation, &detail, None),
        ),
    })
    .await
}

/// The route of one start endpoint.
fn start_endpoint(
    op: Operation,
    endpoint: &'static str,
    operation: &'static str,
) -> MethodRouter<Arc<StreamState>> {
    post(
        move |State(s): State<Arc<StreamState>>,
              Query(q): Query_,
              m: Method,
              u: Uri,
              h: HeaderMap,
              b: Bytes| async move { start(s, op, endpoint, operation, (q, m, u, h, b)).await },
    )
}

/// `POST /_sim/tasks`: body a [`TaskScript`]; answers `{"task_id": ...}`.
async fn create_scripted(State(s): State<Arc<StreamState>>, body: Bytes) -> Response {
    match serde_json::from_slice::<TaskScript>(&body) {
        Ok(script) => {
            let id = s.add_task(script);
            (StatusCode::CREATED, axum::Json(json!({"task_id": id}))).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, format!("invalid task script: {e}")).into_response(),
    }
}
