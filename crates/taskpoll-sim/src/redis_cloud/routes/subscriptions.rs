//! `POST /v1/subscriptions`, `GET` and `DELETE /v1/subscriptions/{subscriptionId}`,
//! and the Essentials twins under `/v1/fixed/`.

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use tokio::time::Instant;

use super::start::{
    command, in_plan, live_stage, name_in, path_id, plan, start_body, start_reply, sub_not_found,
};
use super::{Answer, Reply, Vendor, label};
use crate::redis_cloud::{RedisCloudState, ResourceLink, SubStage, Subscription, wire};

/// `POST /v1/subscriptions` (`POST /v1/fixed/subscriptions` when `FIXED`).
pub(super) async fn create<const FIXED: bool>(v: Vendor, body: Bytes) -> Response {
    let endpoint = label::<FIXED>("POST /v1/subscriptions", "POST /v1/fixed/subscriptions");
    v.change(endpoint, |s, path| create_answer(s, &body, path, FIXED))
        .await
}

/// `GET /v1/subscriptions/{subscriptionId}` (or its `/v1/fixed/` twin).
pub(super) async fn get<const FIXED: bool>(v: Vendor, Path(sub): Path<String>) -> Response {
    let endpoint = label::<FIXED>(
        "GET /v1/subscriptions/{subscriptionId}",
        "GET /v1/fixed/subscriptions/{subscriptionId}",
    );
    v.status(endpoint, |s, path| answer(s, &sub, path, FIXED))
        .await
}

/// `DELETE /v1/subscriptions/{subscriptionId}` (Pro only).
pub(super) async fn delete(v: Vendor, Path(sub): Path<String>) -> Response {
    v.change("DELETE /v1/subscriptions/{subscriptionId}", |s, path| {
        delete_answer(s, &sub, path)
    })
    .await
}

fn create_answer(state: &RedisCloudState, body: &[u8], path: &str, fixed: bool) -> Reply {
    let request = start_body(body, path)?;
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
                return Err(Answer::error(
                    StatusCode::TOO_MANY_REQUESTS,
                    state.config.rate_limit_body,
                    Some(
                        "Too many subscriptions are being created, updated or deleted; resubmit after the changes finish",
                    ),
                    path,
                ));
            }
        }
        let sub_id = world.next_subscription;
        world.next_subscription += 1;
        let name = name_in(&request, || format!("subscription-{sub_id}"));
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
    Ok(start_reply(state, StatusCode::ACCEPTED, &id))
}

fn delete_answer(state: &RedisCloudState, raw_sub: &str, path: &str) -> Reply {
    let sub_id = path_id(raw_sub, path)?;
    let now = Instant::now();
    let id = {
        let mut world = state.world();
        world.settle(now, state.config.serial_processing);
        let stage = live_stage(state, &mut world, sub_id, now, false, path)?;
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
    Ok(start_reply(state, StatusCode::OK, &id))
}

fn answer(state: &RedisCloudState, raw_sub: &str, path: &str, fixed: bool) -> Reply {
    let sub_id = path_id(raw_sub, path)?;
    let now = Instant::now();
    let mut world = state.world();
    world.settle(now, state.config.serial_processing);
    if !in_plan(&world, sub_id, fixed) {
        drop(world);
        return Err(sub_not_found(state, sub_id, path));
    }
    let stage = world.stage(sub_id, now, &state.config, true);
    let name = world.subscriptions.get(&sub_id).map(|s| s.name.clone());
    match (stage, name) {
        (SubStage::Gone, _) | (_, None) => {
            drop(world);
            Err(sub_not_found(state, sub_id, path))
        }
        (stage, Some(name)) => {
            let dbs = world.database_count(sub_id, now);
            drop(world);
            let body = if fixed {
                wire::fixed_subscription_body(state.base(), sub_id, &name, stage.word())
            } else {
                wire::subscription_body(state.base(), sub_id, &name, stage.word(), dbs)
            };
            Ok(Answer::json(StatusCode::OK, body))
        }
    }
}
