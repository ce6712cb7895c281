//! The Redis Cloud simulator's routes.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::wire;
use super::{
    AuthFailure, ErrorBody, ListForm, Look, RedisCloudState, ResourceLink, SubStage, Subscription,
    TaskOptions, auth,
};
use crate::accounting::Request;
use crate::control::control_routes;
use crate::faults::{self, Fault};
use crate::script::TaskScript;

pub(crate) fn router(state: Arc<RedisCloudState>) -> Router {
    Router::new()
        .route("/v1/tasks", get(list_tasks))
        .route("/v1/tasks/{taskId}", get(get_task))
        .route("/v1/subscriptions", post(create_subscription))
        .route(
            "/v1/subscriptions/{subscriptionId}",
            get(get_subscription).delete(delete_subscription),
        )
        .route(
            "/v1/subscriptions/{subscriptionId}/databases",
            post(create_database),
        )
        .route(
            "/v1/subscriptions/{subscriptionId}/databases/{databaseId}",
            get(get_database),
        )
        .route("/v1/fixed/subscriptions", post(create_fixed_subscription))
        .route(
            "/v1/fixed/subscriptions/{subscriptionId}",
            get(get_fixed_subscription),
        )
        .route(
            "/v1/fixed/subscriptions/{subscriptionId}/databases",
            post(create_fixed_database),
        )
        .route(
            "/v1/fixed/subscriptions/{subscriptionId}/databases/{databaseId}",
            get(get_fixed_database),
        )
        .route("/_sim/tasks", post(create_scripted))
        .merge(control_routes::<RedisCloudState>())
        .fallback(unmatched)
        .with_state(state)
}

/// One vendor request, as the shared handling path sees it.
struct Call<'a> {
    method: &'a Method,
    uri: &'a Uri,
    endpoint: &'static str,
    task_ids: Vec<String>,
    is_status: bool,
}

/// A response body.
enum Body {
    Json(Value),
    Empty,
}

impl Body {
    fn into_json(self) -> Option<Value> {
        match self {
            Body::Json(v) => Some(v),
            Body::Empty => None,
        }
    }
}

/// What an endpoint answers, and the tasks a list request returned.
struct Answer {
    status: StatusCode,
    body: Body,
    listed: Vec<String>,
}

impl Answer {
    fn json(status: StatusCode, body: Value) -> Self {
        Answer {
            status,
            body: Body::Json(body),
            listed: Vec::new(),
        }
    }
}

/// Auth, rate limit, faults, then `answer`; `X-Rate-Limit-Remaining` on every
/// response; every request recorded.
async fn handle(
    state: &RedisCloudState,
    call: Call<'_>,
    headers: &HeaderMap,
    answer: impl FnOnce(&RedisCloudState, &str) -> Answer,
) -> Response {
    let path = call.uri.path();
    let mut retry_after = None;
    let mut fault_hit = false;
    let mut listed = Vec::new();
    let (status, mut response, remaining) = match auth::check(&state.config, headers) {
        Err(()) => {
            let remaining = peek_rate(state);
            let (status, response) = match state.config.auth_failure {
                AuthFailure::Spring => error_response(
                    StatusCode::UNAUTHORIZED,
                    ErrorBody::Spring,
                    Some("Authentication failed for requested resource"),
                    path,
                ),
                AuthFailure::NginxHtml => (
                    StatusCode::UNAUTHORIZED,
                    (
                        StatusCode::UNAUTHORIZED,
                        [(header::CONTENT_TYPE, "text/html")],
                        wire::nginx_401(),
                    )
                        .into_response(),
                ),
            };
            (status, response, remaining)
        }
        Ok(key) => match take_rate(state, key) {
            (None, reset_in) => {
                retry_after = state.config.send_retry_after.then_some(reset_in);
                let (s, r) = rate_limited(state, path);
                (s, r, 0)
            }
            (Some(remaining), _) => {
                let fault = state.common.draw_fault(call.is_status);
                fault_hit = fault.is_some();
                let run = |state: &RedisCloudState| {
                    let a = answer(state, path);
                    listed = a.listed;
                    (a.status, a.body)
                };
                if let Some(Fault::RateLimited { retry_after_secs }) = fault {
                    retry_after = retry_after_secs.map(Duration::from_secs);
                }
                let (status, response) = faults::answer_under(
                    fault,
                    || {
                        let (status, body) = run(state);
                        (status, body.into_json())
                    },
                    |code| {
                        error_response(code, ErrorBody::Spring, Some("Internal server error"), path)
                    },
                    || rate_limited(state, path),
                )
                .await;
                // A rate-limit answer, injected ones too, leaves nothing remaining.
                let remaining = if matches!(fault, Some(Fault::RateLimited { .. })) {
                    0
                } else {
                    remaining
                };
                (status, response, remaining)
            }
        },
    };
    let h = response.headers_mut();
    h.insert("x-rate-limit-remaining", HeaderValue::from(remaining));
    if let Some(ra) = retry_after {
        h.insert(header::RETRY_AFTER, HeaderValue::from(ra.as_secs()));
    }
    let target = call.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut task_ids = call.task_ids;
    task_ids.extend(listed);
    state.common.record(
        Request {
            method: call.method.as_str(),
            target,
            endpoint: call.endpoint,
            task_ids: &task_ids,
        },
        status.as_u16(),
        retry_after,
        fault_hit,
    );
    response
}

/// Counts a request against its key's window (one minute unless compressed):
/// (remaining after it, or `None` when over the limit; time to the window's reset in
/// whole seconds).
fn take_rate(state: &RedisCloudState, key: &str) -> (Option<u32>, Duration) {
    let limit = state.config.rate_limit_per_minute;
    let window = state.config.rate_window;
    let now = Instant::now();
    let mut world = state.world();
    let w = &mut world.window;
    if now.saturating_duration_since(w.started) >= window {
        w.started = now;
        w.used.clear();
    }
    let reset_in = (w.started + window).saturating_duration_since(now);
    let reset_in = Duration::from_secs(reset_in.as_secs() + u64::from(reset_in.subsec_nanos() > 0));
    let used = w.used.entry(key.to_owned()).or_default();
    if *used >= limit {
        return (None, reset_in);
    }
    *used += 1;
    (Some(limit - *used), reset_in)
}

/// What remains of the configured key's window, without counting a request.
fn peek_rate(state: &RedisCloudState) -> u32 {
    let limit = state.config.rate_limit_per_minute;
    let world = state.world();
    let w = &world.window;
    if Instant::now().saturating_duration_since(w.started) >= state.config.rate_window {
        return limit;
    }
    limit.saturating_sub(w.used.get(&state.config.api_key).copied().unwrap_or(0))
}

fn rate_limited(state: &RedisCloudState, path: &str) -> (StatusCode, Response) {
    error_response(
        StatusCode::TOO_MANY_REQUESTS,
        state.config.rate_limit_body,
        Some("Too many requests, please retry later"),
        path,
    )
}

fn error_response(
    status: StatusCode,
    form: ErrorBody,
    message: Option<&str>,
    path: &str,
) -> (StatusCode, Response) {
    match form {
        ErrorBody::Spring => {
            let body = wire::spring_error(SystemTime::now(), status.as_u16(), message, path);
            body_response(status, Body::Json(body))
        }
        ErrorBody::Empty => body_response(status, Body::Empty),
    }
}

fn body_response(status: StatusCode, body: Body) -> (StatusCode, Response) {
    faults::json_answer(status, body.into_json().as_ref())
}

/// A 404 for an unknown task or resource, in the configured form.
fn not_found(state: &RedisCloudState, message: &str, path: &str) -> Answer {
    let body = match state.config.not_found_body {
        ErrorBody::Spring => Body::Json(wire::spring_error(
            SystemTime::now(),
            404,
            Some(message),
            path,
        )),
        ErrorBody::Empty => Body::Empty,
    };
    Answer {
        status: StatusCode::NOT_FOUND,
        body,
        listed: Vec::new(),
    }
}

fn bad_request(message: &str, path: &str) -> Answer {
    Answer::json(
        StatusCode::BAD_REQUEST,
        wire::spring_error(SystemTime::now(), 400, Some(message), path),
    )
}

/// One poll of one task: 404 while it is unknown or not yet visible.
fn task_answer(state: &RedisCloudState, id: &str, path: &str) -> Answer {
    let now = Instant::now();
    let mut world = state.world();
    world.settle(now, state.config.serial_processing);
    let hidden = match world.tasks.get_mut(id) {
        None => true,
        Some(task) if task.hidden_polls > 0 => {
            task.hidden_polls -= 1;
            true
        }
        Some(_) => false,
    };
    if hidden {
        drop(world);
        return not_found(state, &format!("Task {id} was not found"), path);
    }
    let Some(look) = world.poll(id, now) else {
        drop(world);
        return not_found(state, &format!("Task {id} was not found"), path);
    };
    match world.tasks.get(id) {
        Some(task) => Answer::json(StatusCode::OK, state.task_json(task, &look, false)),
        None => Answer::json(StatusCode::INTERNAL_SERVER_ERROR, json!({})),
    }
}

/// Every visible task, newest status update first; each one listed counts as a poll,
/// and each one left out (not known yet) as one of its unknown requests.
fn list_answer(state: &RedisCloudState) -> Answer {
    let now = Instant::now();
    let mut world = state.world();
    world.settle(now, state.config.serial_processing);
    // A task the task service does not know yet is left out, and this request counts
    // against its unknown window as its own GET would.
    let mut visible = Vec::new();
    {
        let super::World { order, tasks, .. } = &mut *world;
        for id in order.iter() {
            if let Some(task) = tasks.get_mut(id) {
                if task.hidden_polls > 0 {
                    task.hidden_polls -= 1;
                } else {
                    visible.push(id.clone());
                }
            }
        }
    }
    let mut rows = Vec::with_capacity(visible.len());
    for (seq, id) in visible.iter().enumerate() {
        if let Some(look) = world.poll(id, now)
            && let Some(task) = world.tasks.get(id)
        {
            rows.push((
                task.updated,
                seq,
                id.clone(),
                state.task_json(task, &look, false),
            ));
        }
    }
    drop(world);
    rows.sort_by_key(|r| std::cmp::Reverse((r.0, r.1)));
    let listed: Vec<String> = rows.iter().map(|r| r.2.clone()).collect();
    let tasks: Vec<Value> = rows.into_iter().map(|r| r.3).collect();
    let body = match state.config.list_form {
        ListForm::Wrapper if tasks.is_empty() => json!({}),
        ListForm::Wrapper => json!({"tasks": tasks}),
        ListForm::BareArray => Value::Array(tasks),
    };
    Answer {
        status: StatusCode::OK,
        body: Body::Json(body),
        listed,
    }
}

async fn get_task(
    State(s): State<Arc<RedisCloudState>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let call = Call {
        method: &method,
        uri: &uri,
        endpoint: "GET /v1/tasks/{taskId}",
        task_ids: vec![id.clone()],
        is_status: true,
    };
    handle(&s, call, &headers, |s, path| task_answer(s, &id, path)).await
}

async fn list_tasks(
    State(s): State<Arc<RedisCloudState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let call = Call {
        method: &method,
        uri: &uri,
        endpoint: "GET /v1/tasks",
        task_ids: Vec::new(),
        is_status: true,
    };
    handle(&s, call, &headers, |s, _| list_answer(s)).await
}

/// A start request's JSON body (an empty body counts as `{}`).
fn start_body(body: &[u8]) -> Result<Value, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("JSON parse error: {e}"))?;
    if v.is_object() {
        Ok(v)
    } else {
        Err("JSON parse error: the request body must be an object".into())
    }
}

fn parse_subscription_id(raw: &str) -> Result<i64, String> {
    raw.parse::<i64>()
        .map_err(|_| format!("Failed to convert value of type 'java.lang.String' to required type 'int'; invalid value: {raw}"))
}

/// The start reply: the new task in `received`, 202 or 200.
fn start_reply(state: &RedisCloudState, status: StatusCode, id: &str) -> Answer {
    let world = state.world();
    let look = Look {
        status: "received".into(),
        terminal: false,
    };
    match world.tasks.get(id) {
        Some(task) => Answer::json(status, state.task_json(task, &look, true)),
        None => Answer::json(StatusCode::INTERNAL_SERVER_ERROR, json!({})),
    }
}

/// A plan's words: the `commandType` prefix and the path prefix below the base.
fn plan(fixed: bool) -> (&'static str, &'static str) {
    if fixed { ("fixed", "fixed/") } else { ("", "") }
}

/// `fixed` + `SubscriptionCreateRequest` as Redis Cloud spells it: the plain name
/// without the prefix, the first letter raised after it.
fn command(fixed: bool, name: &str) -> String {
    let (prefix, _) = plan(fixed);
    if prefix.is_empty() {
        return name.to_owned();
    }
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => format!("{prefix}{}{}", first.to_ascii_uppercase(), chars.as_str()),
        None => prefix.to_owned(),
    }
}

/// Whether subscription `id` exists under this plan's paths.
fn in_plan(world: &super::World, id: i64, fixed: bool) -> bool {
    world
        .subscriptions
        .get(&id)
        .is_some_and(|s| s.fixed == fixed)
}

fn subscription_create_answer(
    state: &RedisCloudState,
    body: &[u8],
    path: &str,
    fixed: bool,
) -> Answer {
    let request = match start_body(body) {
        Ok(v) => v,
        Err(e) => return bad_request(&e, path),
    };
    let now = Instant::now();
    let id = {
        let mut world = state.world();
        world.settle(now, state.config.serial_processing);
        if let Some(max) = state.config.max_pending_subscriptions {
            let ids: Vec<i64> = world.subscriptions.keys().copied().collect();
            let changing = ids
                .into_iter()
                .filter(|id| {
                    matches!(
                        world.stage(*id, now, &state.config, false),
                        SubStage::Pending | SubStage::Deleting
                    )
                })
                .count();
            if changing >= max as usize {
                drop(world);
                let body = match state.config.rate_limit_body {
                    ErrorBody::Spring => Body::Json(wire::spring_error(
                        SystemTime::now(),
                        429,
                        Some(
                            "Too many subscriptions are being created, updated or deleted; resubmit after the changes finish",
                        ),
                        path,
                    )),
                    ErrorBody::Empty => Body::Empty,
                };
                return Answer {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    body,
                    listed: Vec::new(),
                };
            }
        }
        let sub_id = world.next_subscription;
        world.next_subscription += 1;
        let name = request
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| format!("subscription-{sub_id}"), str::to_owned);
        let script = state.default_script(
            &mut world,
            json!({"resourceId": sub_id}),
            wire::subscription_create_failure(),
            None,
        );
        let resource = ResourceLink {
            path: format!("{}subscriptions/{sub_id}", plan(fixed).1),
            title: Some("getSubscriptionInformation"),
        };
        let task = state.add_task(
            &mut world,
            script,
            &command(fixed, "subscriptionCreateRequest"),
            None,
            Some(resource),
        );
        world.subscriptions.insert(
            sub_id,
            Subscription {
                fixed,
                name,
                created_by: task.clone(),
                deleted_by: None,
                provision_polls: 0,
                deleting_polls: 0,
            },
        );
        task
    };
    start_reply(state, StatusCode::ACCEPTED, &id)
}

fn database_create_answer(
    state: &RedisCloudState,
    raw_sub: &str,
    body: &[u8],
    path: &str,
    fixed: bool,
) -> Answer {
    let sub_id = match parse_subscription_id(raw_sub) {
        Ok(id) => id,
        Err(e) => return bad_request(&e, path),
    };
    let request = match start_body(body) {
        Ok(v) => v,
        Err(e) => return bad_request(&e, path),
    };
    let now = Instant::now();
    let id = {
        let mut world = state.world();
        world.settle(now, state.config.serial_processing);
        let stage = world.stage(sub_id, now, &state.config, false);
        if stage == SubStage::Gone || !in_plan(&world, sub_id, fixed) {
            drop(world);
            return not_found(state, &format!("Subscription {sub_id} not found"), path);
        }
        let db_id = world.next_database;
        world.next_database += 1;
        let name = request
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| format!("db-{db_id}"), str::to_owned);
        // A subscription that is not active (being provisioned, or changing for
        // another database) refuses the create: its task fails.
        let forced = (stage != SubStage::Active).then(wire::subscription_not_active);
        let blocked = forced.is_some();
        let script = state.default_script(
            &mut world,
            json!({"resourceId": db_id, "additionalResourceId": sub_id}),
            wire::general_error(),
            forced,
        );
        let resource = ResourceLink {
            path: format!("{}subscriptions/{sub_id}/databases/{db_id}", plan(fixed).1),
            title: None,
        };
        let task = state.add_task(
            &mut world,
            script,
            &command(fixed, "databaseCreateRequest"),
            None,
            Some(resource),
        );
        world.databases.insert(
            db_id,
            super::Database {
                subscription: sub_id,
                name,
                created_by: task.clone(),
                changes_subscription: !blocked,
                timeline: None,
                settle_polls: 0,
            },
        );
        task
    };
    // The spec answers 202 for a Pro create, 200 for an Essentials one.
    let status = if fixed {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    start_reply(state, status, &id)
}

fn subscription_delete_answer(state: &RedisCloudState, raw_sub: &str, path: &str) -> Answer {
    let sub_id = match parse_subscription_id(raw_sub) {
        Ok(id) => id,
        Err(e) => return bad_request(&e, path),
    };
    let now = Instant::now();
    let id = {
        let mut world = state.world();
        world.settle(now, state.config.serial_processing);
        let stage = world.stage(sub_id, now, &state.config, false);
        if stage == SubStage::Gone || !in_plan(&world, sub_id, false) {
            drop(world);
            return not_found(state, &format!("Subscription {sub_id} not found"), path);
        }
        // A delete already under way (or done) blocks another; a failed one does not.
        let deleting = world
            .subscriptions
            .get(&sub_id)
            .and_then(|s| s.deleted_by.clone());
        let in_flight = deleting.is_some_and(|t| !world.task_failed(&t, now));
        let forced = (stage != SubStage::Active || in_flight).then(wire::subscription_not_active);
        let blocked = forced.is_some();
        let script = state.default_script(
            &mut world,
            json!({"resourceId": sub_id}),
            wire::general_error(),
            forced,
        );
        let task = state.add_task(&mut world, script, "subscriptionDeleteRequest", None, None);
        if !blocked && let Some(sub) = world.subscriptions.get_mut(&sub_id) {
            sub.deleted_by = Some(task.clone());
            sub.deleting_polls = 0;
        }
        task
    };
    start_reply(state, StatusCode::OK, &id)
}

fn subscription_answer(state: &RedisCloudState, raw_sub: &str, path: &str, fixed: bool) -> Answer {
    let sub_id = match parse_subscription_id(raw_sub) {
        Ok(id) => id,
        Err(e) => return bad_request(&e, path),
    };
    let now = Instant::now();
    let mut world = state.world();
    world.settle(now, state.config.serial_processing);
    if !in_plan(&world, sub_id, fixed) {
        drop(world);
        return not_found(state, &format!("Subscription {sub_id} not found"), path);
    }
    let stage = world.stage(sub_id, now, &state.config, true);
    let name = world.subscriptions.get(&sub_id).map(|s| s.name.clone());
    match (stage, name) {
        (SubStage::Gone, _) | (_, None) => {
            drop(world);
            not_found(state, &format!("Subscription {sub_id} not found"), path)
        }
        (stage, Some(name)) => {
            let dbs = world.database_count(sub_id, now);
            drop(world);
            let body = if fixed {
                wire::fixed_subscription_body(state.base(), sub_id, &name, stage.word())
            } else {
                wire::subscription_body(state.base(), sub_id, &name, stage.word(), dbs)
            };
            Answer::json(StatusCode::OK, body)
        }
    }
}

/// One look at a database: 404 until its create task completed (and for a database
/// of another subscription or plan); its provisioning steps, then its final status.
fn database_answer(
    state: &RedisCloudState,
    raw_sub: &str,
    raw_db: &str,
    path: &str,
    fixed: bool,
) -> Answer {
    let (sub_id, db_id) = match (
        parse_subscription_id(raw_sub),
        parse_subscription_id(raw_db),
    ) {
        (Ok(s), Ok(d)) => (s, d),
        (Err(e), _) | (_, Err(e)) => return bad_request(&e, path),
    };
    let now = Instant::now();
    let mut world = state.world();
    world.settle(now, state.config.serial_processing);
    let ours = in_plan(&world, sub_id, fixed)
        && world
            .databases
            .get(&db_id)
            .is_some_and(|d| d.subscription == sub_id);
    let look = if ours {
        world.database_look(db_id, now, &state.config.database_provisioning, true)
    } else {
        super::DbLook::Hidden
    };
    let name = world.databases.get(&db_id).map(|d| d.name.clone());
    drop(world);
    let status = match look {
        super::DbLook::Hidden => {
            return not_found(state, &format!("Database {db_id} not found"), path);
        }
        super::DbLook::Provisioning(word) => word,
        super::DbLook::Done(_) => state.config.database_final.clone(),
    };
    let self_path = format!("{}subscriptions/{sub_id}/databases/{db_id}", plan(fixed).1);
    Answer::json(
        StatusCode::OK,
        wire::database_body(
            state.base(),
            &self_path,
            db_id,
            name.as_deref().unwrap_or_default(),
            &status,
        ),
    )
}

async fn create_subscription(
    State(s): State<Arc<RedisCloudState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = Call {
        method: &method,
        uri: &uri,
        endpoint: "POST /v1/subscriptions",
        task_ids: Vec::new(),
        is_status: false,
    };
    handle(&s, call, &headers, |s, path| {
        subscription_create_answer(s, &body, path, false)
    })
    .await
}

async fn create_fixed_subscription(
    State(s): State<Arc<RedisCloudState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = Call {
        method: &method,
        uri: &uri,
        endpoint: "POST /v1/fixed/subscriptions",
        task_ids: Vec::new(),
        is_status: false,
    };
    handle(&s, call, &headers, |s, path| {
        subscription_create_answer(s, &body, path, true)
    })
    .await
}

async fn create_database(
    State(s): State<Arc<RedisCloudState>>,
    Path(sub): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = Call {
        method: &method,
        uri: &uri,
        endpoint: "POST /v1/subscriptions/{subscriptionId}/databases",
        task_ids: Vec::new(),
        is_status: false,
    };
    handle(&s, call, &headers, |s, path| {
        database_create_answer(s, &sub, &body, path, false)
    })
    .await
}

async fn create_fixed_database(
    State(s): State<Arc<RedisCloudState>>,
    Path(sub): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = Call {
        method: &method,
        uri: &uri,
        endpoint: "POST /v1/fixed/subscriptions/{subscriptionId}/databases",
        task_ids: Vec::new(),
        is_status: false,
    };
    handle(&s, call, &headers, |s, path| {
        database_create_answer(s, &sub, &body, path, true)
    })
    .await
}

async fn delete_subscription(
    State(s): State<Arc<RedisCloudState>>,
    Path(sub): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let call = Call {
        method: &method,
        uri: &uri,
        endpoint: "DELETE /v1/subscriptions/{subscriptionId}",
        task_ids: Vec::new(),
        is_status: false,
    };
    handle(&s, call, &headers, |s, path| {
        subscription_delete_answer(s, &sub, path)
    })
    .await
}

async fn get_subscription(
    State(s): State<Arc<RedisCloudState>>,
    Path(sub): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let call = Call {
        method: &method,
        uri: &uri,
        endpoint: "GET /v1/subscriptions/{subscriptionId}",
        task_ids: Vec::new(),
        is_status: true,
    };
    handle(&s, call, &headers, |s, path| {
        subscription_answer(s, &sub, path, false)
    })
    .await
}

async fn get_fixed_subscription(
    State(s): State<Arc<RedisCloudState>>,
    Path(sub): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let call = Call {
        method: &method,
        uri: &uri,
        endpoint: "GET /v1/fixed/subscriptions/{subscriptionId}",
        task_ids: Vec::new(),
        is_status: true,
    };
    handle(&s, call, &headers, |s, path| {
        subscription_answer(s, &sub, path, true)
    })
    .await
}

async fn get_database(
    State(s): State<Arc<RedisCloudState>>,
    Path((sub, db)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let call = Call {
        method: &method,
        uri: &uri,
        endpoint: "GET /v1/subscriptions/{subscriptionId}/databases/{databaseId}",
        task_ids: Vec::new(),
        is_status: true,
    };
    handle(&s, call, &headers, |s, path| {
        database_answer(s, &sub, &db, path, false)
    })
    .await
}

async fn get_fixed_database(
    State(s): State<Arc<RedisCloudState>>,
    Path((sub, db)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let call = Call {
        method: &method,
        uri: &uri,
        endpoint: "GET /v1/fixed/subscriptions/{subscriptionId}/databases/{databaseId}",
        task_ids: Vec::new(),
        is_status: true,
    };
    handle(&s, call, &headers, |s, path| {
        database_answer(s, &sub, &db, path, true)
    })
    .await
}

/// Any other path: Spring's 404 (after auth, like every vendor request).
async fn unmatched(
    State(s): State<Arc<RedisCloudState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let call = Call {
        method: &method,
        uri: &uri,
        endpoint: "unmatched",
        task_ids: Vec::new(),
        is_status: false,
    };
    handle(&s, call, &headers, |_, path| {
        Answer::json(
            StatusCode::NOT_FOUND,
            wire::spring_error(SystemTime::now(), 404, None, path),
        )
    })
    .await
}

/// The body of `POST /_sim/tasks`: a [`TaskScript`] and optional [`TaskOptions`].
#[derive(Deserialize)]
struct ScriptedTask {
    #[serde(flatten)]
    script: TaskScript,
    #[serde(flatten)]
    options: TaskOptions,
}

/// `POST /_sim/tasks`: answers `{"taskId": ..., "task_id": ...}` (the same id under
/// Redis Cloud's key and the key the other simulators use).
async fn create_scripted(State(s): State<Arc<RedisCloudState>>, body: Bytes) -> Response {
    match serde_json::from_slice::<ScriptedTask>(&body) {
        Ok(t) => {
            let mut world = s.world();
            let command = t
                .options
                .command_type
                .as_deref()
                .unwrap_or("subscriptionCreateRequest");
            let id = s.add_task(
                &mut world,
                t.script,
                command,
                t.options.not_found_polls,
                None,
            );
            drop(world);
            (
                StatusCode::CREATED,
                axum::Json(json!({"taskId": id, "task_id": id})),
            )
                .into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, format!("invalid task script: {e}")).into_response(),
    }
}
