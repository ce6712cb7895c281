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

use super::wire::{self, api_error, rfc3339};
use super::{Operation, StreamState, auth};
use crate::accounting::Request;
use crate::control::control_routes;
use crate::faults::{self, Fault};
use crate::script::{Position, ScriptOutcome, TaskScript};

pub(crate) fn router(state: Arc<StreamState>) -> Router {
    let start = |op, endpoint, operation| {
        start_endpoint(Start {
            op,
            endpoint,
            operation,
        })
    };
    Router::new()
        .route(
            "/api/v2/tasks/{id}",
            task_endpoint("GET /api/v2/tasks/{id}", Timestamps::Nanos),
        )
        .route(
            "/tasks/{id}",
            task_endpoint("GET /tasks/{id}", Timestamps::Rfc3339),
        )
        .route(
            "/api/v2/chat/export_channels",
            start(
                Operation::ExportChannels,
                "POST /api/v2/chat/export_channels",
                "ExportChannels",
            ),
        )
        .route(
            "/api/v2/chat/channels/delete",
            start(
                Operation::DeleteChannels,
                "POST /api/v2/chat/channels/delete",
                "DeleteChannels",
            ),
        )
        .route(
            "/api/v2/users/delete",
            start(
                Operation::DeleteUsers,
                "POST /api/v2/users/delete",
                "DeleteUsers",
            ),
        )
        .route(
            "/api/v2/export/users",
            start(
                Operation::ExportUsers,
                "POST /api/v2/export/users",
                "ExportUsers",
            ),
        )
        .route(
            "/api/v2/users/deactivate",
            start(
                Operation::DeactivateUsers,
                "POST /api/v2/users/deactivate",
                "DeactivateUsers",
            ),
        )
        .route(
            "/api/v2/users/reactivate",
            start(
                Operation::ReactivateUsers,
                "POST /api/v2/users/reactivate",
                "ReactivateUsers",
            ),
        )
        .route(
            "/api/v2/blocklists/{id}/import",
            start_endpoint_with_path(Start {
                op: Operation::ImportBlockList,
                endpoint: "POST /api/v2/blocklists/{id}/import",
                operation: "ImportBlockList",
            }),
        )
        .route(
            "/api/v2/video/call/{type}/{id}/delete",
            start_endpoint_with_path(Start {
                op: Operation::DeleteCall,
                endpoint: "POST /api/v2/video/call/{type}/{id}/delete",
                operation: "DeleteCall",
            }),
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
///
/// A 429 (over the window, or injected) says when to come back in `X-RateLimit-Reset`,
/// as Stream's do: the window's reset, or for an injected 429 with `retry_after_secs`
/// that many seconds from now. `Retry-After` is added only when the config asks. The
/// request log remembers the wait the client was told (`Retry-After` when sent, else
/// the time to `X-RateLimit-Reset`), so a client that comes back early is counted.
async fn handle(
    state: &StreamState,
    call: Call<'_>,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    answer: impl FnOnce(&StreamState) -> (StatusCode, Value),
) -> Response {
    let began = Instant::now();
    let (limit, remaining, window_reset) = take_rate(state, call.endpoint);
    let until_window_reset = whole_secs(window_reset.saturating_duration_since(began));
    // A 429's reset instant and its delay in whole seconds.
    let mut come_back: Option<(Instant, u64)> = None;
    let mut fault_hit = false;
    let (status, mut response) = if let Err(refused) = auth::check(
        &state.config,
        query.get("api_key").map(String::as_str),
        headers,
    ) {
        let body = api_error(refused.code, 401, call.operation, &refused.detail, None);
        json_response(StatusCode::UNAUTHORIZED, &body)
    } else if remaining.is_none() {
        come_back = Some((window_reset, until_window_reset));
        rate_limited(call.operation)
    } else {
        let fault = state.common.draw_fault(call.is_status);
        fault_hit = fault.is_some();
        if let Some(Fault::RateLimited { retry_after_secs }) = fault {
            come_back = Some(match retry_after_secs {
                Some(secs) => (began + Duration::from_secs(secs), secs),
                None => (window_reset, until_window_reset),
            });
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
    let reset_epoch = state.unix_secs_ceil(come_back.map_or(window_reset, |(at, _)| at));
    let h = response.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(limit));
    // A 429 (the window's or an injected one) always says nothing remains, as Stream's do.
    let remaining = match status {
        StatusCode::TOO_MANY_REQUESTS => 0,
        _ => remaining.unwrap_or(0),
    };
    h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from(reset_epoch));
    let retry_after = come_back
        .filter(|_| state.config.send_retry_after)
        .map(|(_, secs)| secs);
    if let Some(secs) = retry_after {
        h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    let told_to_wait = come_back.map(|_| match retry_after {
        Some(secs) => Duration::from_secs(secs),
        None => state.until_epoch(Instant::now(), reset_epoch),
    });
    let target = call.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    state.common.record(
        Request {
            method: call.method.as_str(),
            target,
            endpoint: call.endpoint,
            task_ids: &call.task_ids,
        },
        status.as_u16(),
        told_to_wait,
        fault_hit,
    );
    response
}

/// A duration in whole seconds, rounded up (as `Retry-After` carries it).
fn whole_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// Counts a request against its endpoint's window: (limit, remaining after it or
/// `None` when over the limit, when the window resets).
fn take_rate(state: &StreamState, endpoint: &str) -> (u32, Option<u32>, Instant) {
    let limit = state.config.rate_limit_per_minute;
    let now = Instant::now();
    let mut w = state.window.lock().unwrap_or_else(|e| e.into_inner());
    let window = state.config.rate_window;
    if now.saturating_duration_since(w.started) >= window {
        w.started = now;
        w.used.clear();
    }
    let reset_at = w.started + window;
    let used = w.used.entry(endpoint.to_owned()).or_default();
    if *used >= limit {
        return (limit, None, reset_at);
    }
    *used += 1;
    (limit, Some(limit - *used), reset_at)
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

/// The route of a task status endpoint, its timestamps written as `ts`.
fn task_endpoint(endpoint: &'static str, ts: Timestamps) -> MethodRouter<Arc<StreamState>> {
    get(
        move |State(s): State<Arc<StreamState>>,
              Path(id): Path<String>,
              Query(q): Query_,
              method: Method,
              uri: Uri,
              headers: HeaderMap| async move {
            let call = Call {
                method: &method,
                uri: &uri,
                endpoint,
                operation: "GetTask",
                task_ids: vec![id.clone()],
                is_status: true,
            };
            handle(&s, call, &q, &headers, |s| task_body(s, &id, ts)).await
        },
    )
}

/// One start endpoint.
#[derive(Debug, Clone, Copy)]
struct Start {
    op: Operation,
    endpoint: &'static str,
    operation: &'static str,
}

/// What a start request asks for.
struct StartRequest {
    /// The items it names: channel cids, user ids, the blocklist's name, the call's cid.
    subjects: Vec<String>,
    /// `DeleteCall` only: `"hard": true`.
    hard: bool,
}

/// Reads a start request (its path parameters and body), or says what is wrong with it.
fn read_start(
    op: Operation,
    params: &HashMap<String, String>,
    body: &[u8],
) -> Result<StartRequest, String> {
    let v: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))?
    };
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
    let param = |key: &str| params.get(key).cloned().unwrap_or_default();
    let subjects = match op {
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
                .collect::<Result<_, _>>()?
        }
        Operation::DeleteChannels => strings("cids")?,
        Operation::DeleteUsers
        | Operation::ExportUsers
        | Operation::DeactivateUsers
        | Operation::ReactivateUsers => strings("user_ids")?,
        Operation::ImportBlockList => {
            strings("items")?;
            vec![param("id")]
        }
        Operation::DeleteCall => vec![format!("{}:{}", param("type"), param("id"))],
    };
    let hard = match v.get("hard") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("hard must be a boolean".into()),
    };
    Ok(StartRequest { subjects, hard })
}

/// A start endpoint's answer: a task started (`task_id`), or for a soft call delete
/// and (when configured) a channel delete, the result at once without one.
fn answer_start(
    s: &StreamState,
    start: Start,
    params: &HashMap<String, String>,
    body: &[u8],
) -> (StatusCode, Value) {
    let request = match read_start(start.op, params, body) {
        Ok(request) => request,
        Err(detail) => {
            return (
                StatusCode::BAD_REQUEST,
                api_error(4, 400, start.operation, &detail, None),
            );
        }
    };
    let call = || {
        json!({
            "type": params.get("type"),
            "id": params.get("id"),
            "cid": request.subjects.first(),
        })
    };
    match start.op {
        Operation::DeleteChannels if s.config.sync_delete_channels => {
            let result = wire::default_result(start.op, &request.subjects, &s.config.item_errors);
            (
                StatusCode::CREATED,
                json!({"result": result, "duration": "0.00ms"}),
            )
        }
        // A soft call delete starts no task (Stream answers `"task_id": null`).
        Operation::DeleteCall if !request.hard => (
            StatusCode::CREATED,
            json!({"call": call(), "task_id": null, "duration": "0.00ms"}),
        ),
        op => {
            let script = s.default_script(op, &request.subjects);
            let id = s.add_task(script);
            let mut reply = json!({"task_id": id, "duration": "0.00ms"});
            if let (Operation::DeleteCall, Some(obj)) = (op, reply.as_object_mut()) {
                obj.insert("call".into(), call());
            }
            (StatusCode::CREATED, reply)
        }
    }
}

async fn start(
    s: Arc<StreamState>,
    start: Start,
    params: HashMap<String, String>,
    (q, method, uri, headers, body): (HashMap<String, String>, Method, Uri, HeaderMap, Bytes),
) -> Response {
    let call = Call {
        method: &method,
        uri: &uri,
        endpoint: start.endpoint,
        operation: start.operation,
        task_ids: Vec::new(),
        is_status: false,
    };
    handle(&s, call, &q, &headers, |s| {
        answer_start(s, start, &params, &body)
    })
    .await
}

/// The route of a start endpoint without path parameters.
fn start_endpoint(op: Start) -> MethodRouter<Arc<StreamState>> {
    post(
        move |State(s): State<Arc<StreamState>>,
              Query(q): Query_,
              m: Method,
              u: Uri,
              h: HeaderMap,
              b: Bytes| async move { start(s, op, HashMap::new(), (q, m, u, h, b)).await },
    )
}

/// The route of a start endpoint with path parameters (`{id}`, `{type}`).
fn start_endpoint_with_path(op: Start) -> MethodRouter<Arc<StreamState>> {
    post(
        move |State(s): State<Arc<StreamState>>,
              Path(params): Path<HashMap<String, String>>,
              Query(q): Query_,
              m: Method,
              u: Uri,
              h: HeaderMap,
              b: Bytes| async move { start(s, op, params, (q, m, u, h, b)).await },
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
