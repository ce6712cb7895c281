//! What the subscription and database endpoints share: request bodies and ids, the
//! plan (Pro or Essentials) a path names, and the start reply.

use axum::http::StatusCode;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Answer, bad_request, not_found};
use crate::redis_cloud::{Look, RedisCloudState, SubStage, World};

/// A start request's JSON body (an empty body counts as `{}`); a 400 when it is not
/// a JSON object.
pub(super) fn start_body(body: &[u8], path: &str) -> Result<Value, Answer> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| bad_request(&format!("JSON parse error: {e}"), path))?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(bad_request(
            "JSON parse error: the request body must be an object",
            path,
        ))
    }
}

/// The `name` a start request gives, or `fallback`.
pub(super) fn name_in(request: &Value, fallback: impl FnOnce() -> String) -> String {
    request
        .get("name")
        .and_then(Value::as_str)
        .map_or_else(fallback, str::to_owned)
}

/// A subscription or database id from the path; a 400 (Spring's conversion error)
/// when it is not a number.
pub(super) fn path_id(raw: &str, path: &str) -> Result<i64, Answer> {
    raw.parse::<i64>().map_err(|_| {
        bad_request(
            &format!("Failed to convert value of type 'java.lang.String' to required type 'int'; invalid value: {raw}"),
            path,
        )
    })
}

/// The start reply: the new task in `received`, 202 or 200.
pub(super) fn start_reply(state: &RedisCloudState, status: StatusCode, id: &str) -> Answer {
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
pub(super) fn plan(fixed: bool) -> (&'static str, &'static str) {
    if fixed { ("fixed", "fixed/") } else { ("", "") }
}

/// `fixed` + `SubscriptionCreateRequest` as Redis Cloud spells it: the plain name
/// without the prefix, the first letter raised after it.
pub(super) fn command(fixed: bool, name: &str) -> String {
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
pub(super) fn in_plan(world: &World, id: i64, fixed: bool) -> bool {
    world
        .subscriptions
        .get(&id)
        .is_some_and(|s| s.fixed == fixed)
}

/// Where subscription `sub_id` of this plan stands, for a request that changes it; a
/// 404 when it is gone or under the other plan.
pub(super) fn live_stage(
    state: &RedisCloudState,
    world: &mut World,
    sub_id: i64,
    now: Instant,
    fixed: bool,
    path: &str,
) -> Result<SubStage, Answer> {
    let stage = world.stage(sub_id, now, &state.config, false);
    if stage == SubStage::Gone || !in_plan(world, sub_id, fixed) {
        return Err(sub_not_found(state, sub_id, path));
    }
    Ok(stage)
}

/// The 404 for an unknown subscription.
pub(super) fn sub_not_found(state: &RedisCloudState, sub_id: i64, path: &str) -> Answer {
    not_found(state, &format!("Subscription {sub_id} not found"), path)
}
