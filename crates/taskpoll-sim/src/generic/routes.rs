//! The generic simulator's routes: `POST /_sim/tasks`, the shared control routes, and
//! every other request answered from the task it names.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use super::{Answer, GenericState, GenericTask};
use crate::accounting::Request;
use crate::control::control_routes;
use crate::faults::{self, Fault};

pub(crate) fn router(state: Arc<GenericState>) -> Router {
    Router::new()
        .route("/_sim/tasks", post(create))
        .merge(control_routes::<GenericState>())
        .fallback(handle)
        .with_state(state)
}

async fn create(State(s): State<Arc<GenericState>>, Json(task): Json<GenericTask>) -> Json<Value> {
    Json(json!({ "id": s.add(task) }))
}

/// Decodes `%XX` escapes (invalid ones are kept as they are); `+` stays a plus.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |j: usize| bytes.get(j).and_then(|c| char::from(*c).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every string of a JSON value.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Object(map) => map.values().for_each(|i| strings(i, out)),
        _ => {}
    }
}

/// The task a request names, and its endpoint label (the path with the id as `{id}`).
fn task_of(
    state: &GenericState,
    method: &Method,
    uri: &Uri,
    body: &[u8],
) -> (Option<String>, String) {
    let path = uri.path();
    let (head, last) = path.rsplit_once('/').unwrap_or(("", path));
    let label_with_id = format!("{method} {head}/{{id}}");
    let last = percent_decode(last);
    if !last.is_empty() && state.knows(&last) {
        return (Some(last), label_with_id);
    }
    let label = format!("{method} {path}");
    let from_query = uri
        .query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| {
            let value = percent_decode(pair.split_once('=').map_or("", |(_, v)| v));
            state.knows(&value).then_some(value)
        });
    if from_query.is_some() {
        return (from_query, label);
    }
    let mut found = Vec::new();
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        strings(&v, &mut found);
    }
    if let Some(id) = found.into_iter().find(|s| state.knows(s)) {
        return (Some(id), label);
    }
    // An unknown id: counted under the last segment, like the vendors' 404s.
    if last.is_empty() {
        (None, label)
    } else {
        (Some(last), label_with_id)
    }
}

fn json_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// An answer as a response: its status, headers and body.
fn render(answer: &Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match (&answer.raw, &answer.body) {
        (Some(raw), _) => (status, raw.clone()).into_response(),
        (None, Some(body)) => (status, Json(body.clone())).into_response(),
        (None, None) => status.into_response(),
    };
    for (name, value) in &answer.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(n, v);
        }
    }
    response
}

async fn handle(
    State(state): State<Arc<GenericState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (id, endpoint) = task_of(&state, &method, &uri, &body);
    let authorized = state.config.required_headers.iter().all(|(name, value)| {
        headers
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == value)
    });
    let mut retry_after = None;
    let mut fault_hit = false;
    let response = match &id {
        _ if !authorized => json_error(StatusCode::UNAUTHORIZED, "missing or wrong credentials"),
        Some(task) if state.knows(task) => {
            let fault = state.common.draw_fault(true);
            fault_hit = fault.is_some();
            match fault {
                None => {
                    let answer = state.answer(task, true);
                    let answer = answer.unwrap_or_else(|| Answer::json(404, json!({})));
                    retry_after = answer
                        .headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                        .and_then(|(_, v)| v.trim().parse().ok())
                        .map(Duration::from_secs);
                    render(&answer)
                }
                Some(fault) => {
                    if let Fault::RateLimited { retry_after_secs } = fault {
                        retry_after = retry_after_secs.map(Duration::from_secs);
                    }
                    let uses_answer = matches!(fault, Fault::Slow { .. } | Fault::Truncated);
                    let (_, mut response) = faults::answer_under(
                        Some(fault),
                        || {
                            let a = state.answer(task, uses_answer);
                            let status = a
                                .as_ref()
                                .and_then(|a| StatusCode::from_u16(a.status).ok())
                                .unwrap_or(StatusCode::OK);
                            (status, a.and_then(|a| a.body))
                        },
                        |code| (code, json_error(code, "injected server error")),
                        || {
                            let code = StatusCode::TOO_MANY_REQUESTS;
                            (code, json_error(code, "injected rate limit"))
                        },
                    )
                    .await;
                    if let Some(ra) = retry_after {
                        response
                            .headers_mut()
                            .insert(header::RETRY_AFTER, HeaderValue::from(ra.as_secs()));
                    }
                    response
                }
            }
        }
        _ => json_error(StatusCode::NOT_FOUND, "no such task"),
    };
    let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let task_ids: Vec<String> = id.into_iter().collect();
    state.common.record(
        Request {
            method: method.as_str(),
            target,
            endpoint: &endpoint,
            task_ids: &task_ids,
        },
        response.status().as_u16(),
        retry_after,
        fault_hit,
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding() {
        assert_eq!(percent_decode("a%2Fb%3F"), "a/b?");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz+"), "%zz+");
    }
}
