//! The Redis Cloud simulator's routes: every vendor request goes through
//! [`Vendor::handle`] (auth, rate limit, faults, accounting) to its endpoint's answer in
//! [`tasks`], [`subscriptions`] or [`databases`].

mod databases;
mod start;
mod subscriptions;
mod tasks;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::wire;
use super::{AuthFailure, ErrorBody, RedisCloudState, TaskOptions, auth};
use crate::accounting::Request;
use crate::control::control_routes;
use crate::faults::{self, Fault};
use crate::script::TaskScript;

/// The const parameter of the routes of Pro subscriptions (`/v1/subscriptions`).
const PRO: bool = false;
/// The const parameter of the routes of Essentials subscriptions (`/v1/fixed/...`).
const FIXED: bool = true;

pub(crate) fn router(state: Arc<RedisCloudState>) -> Router {
    Router::new()
        .route("/v1/tasks", get(tasks::list))
        .route("/v1/tasks/{taskId}", get(tasks::get))
        .route("/v1/subscriptions", post(subscriptions::create::<PRO>))
        .route(
            "/v1/subscriptions/{subscriptionId}",
            get(subscriptions::get::<PRO>).delete(subscriptions::delete),
        )
        .route(
            "/v1/subscriptions/{subscriptionId}/databases",
            post(databases::create::<PRO>),
        )
        .route(
            "/v1/subscriptions/{subscriptionId}/databases/{databaseId}",
            get(databases::get::<PRO>),
        )
        .route(
            "/v1/fixed/subscriptions",
            post(subscriptions::create::<FIXED>),
        )
        .route(
            "/v1/fixed/subscriptions/{subscriptionId}",
            get(subscriptions::get::<FIXED>),
        )
        .route(
            "/v1/fixed/subscriptions/{subscriptionId}/databases",
            post(databases::create::<FIXED>),
        )
        .route(
            "/v1/fixed/subscriptions/{subscriptionId}/databases/{databaseId}",
            get(databases::get::<FIXED>),
        )
        .route("/_sim/tasks", post(create_scripted))
        .merge(control_routes::<RedisCloudState>())
        .fallback(unmatched)
        .with_state(state)
}

/// The endpoint label of a route with a Pro and an Essentials (`FIXED`) form.
fn label<const FIXED: bool>(pro: &'static str, fixed: &'static str) -> &'static str {
    if FIXED { fixed } else { pro }
}

/// One vendor request as every handler extracts it: the state, the request line and
/// the headers.
pub(super) struct Vendor {
    state: Arc<RedisCloudState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
}

impl FromRequestParts<Arc<RedisCloudState>> for Vendor {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<RedisCloudState>,
    ) -> Result<Self, Self::Rejection> {
        Ok(Vendor {
            state: Arc::clone(state),
            method: parts.method.clone(),
            uri: parts.uri.clone(),
            headers: parts.headers.clone(),
        })
    }
}

impl Vendor {
    /// A status request (it draws the faults planned for status requests).
    async fn status(
        self,
        endpoint: &'static str,
        answer: impl FnOnce(&RedisCloudState, &str) -> Reply,
    ) -> Response {
        self.handle(endpoint, true, Vec::new(), answer).await
    }

    /// A request that starts or changes something.
    async fn change(
        self,
        endpoint: &'static str,
        answer: impl FnOnce(&RedisCloudState, &str) -> Reply,
    ) -> Response {
        self.handle(endpoint, false, Vec::new(), answer).await
    }

    /// Auth, rate limit, faults, then `answer` (given the request's path);
    /// `X-Rate-Limit-Remaining` on every response; every request recorded under
    /// `endpoint` with `task_ids` and the tasks a list returned.
    async fn handle(
        self,
        endpoint: &'static str,
        is_status: bool,
        task_ids: Vec<String>,
        answer: impl FnOnce(&RedisCloudState, &str) -> Reply,
    ) -> Response {
        let state = &*self.state;
        let path = self.uri.path();
        let mut retry_after = None;
        let mut fault_hit = false;
        let mut listed = Vec::new();
        let (status, mut response, remaining) = match auth::check(&state.config, &self.headers) {
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
                    let fault = state.common.draw_fault(is_status);
                    fault_hit = fault.is_some();
                    let run = |state: &RedisCloudState| {
                        let a = answer(state, path).unwrap_or_else(|early| early);
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
                            error_response(
                                code,
                                ErrorBody::Spring,
                                Some("Internal server error"),
                                path,
                            )
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
        let target = self.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let mut task_ids = task_ids;
        task_ids.extend(listed);
        state.common.record(
            Request {
                method: self.method.as_str(),
                target,
                endpoint,
                task_ids: &task_ids,
            },
            status.as_u16(),
            retry_after,
            fault_hit,
        );
        response
    }
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

/// An endpoint's answer: `Err` holds an error answer that ended it early (a bad
/// request, an unknown resource), so that `?` can send it.
type Reply = Result<Answer, Answer>;

impl Answer {
    fn json(status: StatusCode, body: Value) -> Self {
        Answer {
            status,
            body: Body::Json(body),
            listed: Vec::new(),
        }
    }

    /// An error in `form` (Spring's body with `message`, or none).
    fn error(status: StatusCode, form: ErrorBody, message: Option<&str>, path: &str) -> Self {
        Answer {
            status,
            body: error_body(status, form, message, path),
            listed: Vec::new(),
        }
    }
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

/// An error body in `form`: Spring's `{timestamp, status, error, message, path}`, or
/// none.
fn error_body(status: StatusCode, form: ErrorBody, message: Option<&str>, path: &str) -> Body {
    match form {
        ErrorBody::Spring => Body::Json(wire::spring_error(
            SystemTime::now(),
            status.as_u16(),
            message,
            path,
        )),
        ErrorBody::Empty => Body::Empty,
    }
}

fn error_response(
    status: StatusCode,
    form: ErrorBody,
    message: Option<&str>,
    path: &str,
) -> (StatusCode, Response) {
    let body = error_body(status, form, message, path);
    faults::json_answer(status, body.into_json().as_ref())
}

/// A 404 for an unknown task or resource, in the configured form.
fn not_found(state: &RedisCloudState, message: &str, path: &str) -> Answer {
    Answer::error(
        StatusCode::NOT_FOUND,
        state.config.not_found_body,
        Some(message),
        path,
    )
}

fn bad_request(message: &str, path: &str) -> Answer {
    Answer::error(
        StatusCode::BAD_REQUEST,
        ErrorBody::Spring,
        Some(message),
        path,
    )
}

/// Any other path: Spring's 404 (after auth, like every vendor request).
async fn unmatched(v: Vendor) -> Response {
    v.change("unmatched", |_, path| {
        Ok(Answer::error(
            StatusCode::NOT_FOUND,
            ErrorBody::Spring,
            None,
            path,
        ))
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
            let id = s.add_scripted(t.script, t.options);
            (
                StatusCode::CREATED,
                axum::Json(json!({"taskId": id, "task_id": id})),
            )
                .into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, format!("invalid task script: {e}")).into_response(),
    }
}
