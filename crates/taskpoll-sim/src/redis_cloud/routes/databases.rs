//! `POST /v1/subscriptions/{subscriptionId}/databases`,
//! `GET /v1/subscriptions/{subscriptionId}/databases/{databaseId}`, and the
//! Essentials twins under `/v1/fixed/`.

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use tokio::time::Instant;

use super::start::{command, in_plan, live_stage, name_in, path_id, plan, start_body, start_reply};
use super::{Answer, Reply, Vendor, label, not_found};
use crate::redis_cloud::{Database, DbLook, RedisCloudState, ResourceLink, SubStage, wire};

/// `POST /v1/subscriptions/{subscriptionId}/databases` (or its `/v1/fixed/` twin).
pub(super) async fn create<const FIXED: bool>(
    v: Vendor,
    Path(sub): Path<String>,
    body: Bytes,
) -> Response {
    let endpoint = label::<FIXED>(
        "POST /v1/subscriptions/{subscriptionId}/databases",
        "POST /v1/fixed/subscriptions/{subscriptionId}/databases",
    );
    v.change(endpoint, |s, path| {
        create_answer(s, &sub, &body, path, FIXED)
    })
    .await
}

/// `GET /v1/subscriptions/{subscriptionId}/databases/{databaseId}` (or its
/// `/v1/fixed/` twin).
pub(super) async fn get<const FIXED: bool>(
    v: Vendor,
    Path((sub, db)): Path<(String, String)>,
) -> Response {
    let endpoint = label::<FIXED>(
        "GET /v1/subscriptions/{subscriptionId}/databases/{databaseId}",
        "GET /v1/fixed/subscriptions/{subscriptionId}/databases/{databaseId}",
    );
    v.status(endpoint, |s, path| answer(s, &sub, &db, path, FIXED))
        .await
}

fn create_answer(
    state: &RedisCloudState,
    raw_sub: &str,
    body: &[u8],
    path: &str,
    fixed: bool,
) -> Reply {
    let sub_id = path_id(raw_sub, path)?;
    let request = start_body(body, path)?;
    let now = Instant::now();
    let id = {
        let mut world = state.world();
        world.settle(now, state.config.serial_processing);
        let stage = live_stage(state, &mut world, sub_id, now, fixed, path)?;
        let db_id = world.next_database;
        world.next_database += 1;
        let name = name_in(&request, || format!("db-{db_id}"));
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
            path: database_path(sub_id, db_id, fixed),
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
            Database {
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
    Ok(start_reply(state, status, &id))
}

/// One look at a database: 404 until its create task completed (and for a database
/// of another subscription or plan); its provisioning steps, then its final status.
fn answer(state: &RedisCloudState, raw_sub: &str, raw_db: &str, path: &str, fixed: bool) -> Reply {
    let sub_id = path_id(raw_sub, path)?;
    let db_id = path_id(raw_db, path)?;
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
        DbLook::Hidden
    };
    let name = world.databases.get(&db_id).map(|d| d.name.clone());
    drop(world);
    let status = match look {
        DbLook::Hidden => {
            return Err(not_found(
                state,
                &format!("Database {db_id} not found"),
                path,
            ));
        }
        DbLook::Provisioning(word) => word,
        DbLook::Done(_) => state.config.database_final.clone(),
    };
    Ok(Answer::json(
        StatusCode::OK,
        wire::database_body(
            state.base(),
            &database_path(sub_id, db_id, fixed),
            db_id,
            name.as_deref().unwrap_or_default(),
            &status,
        ),
    ))
}

/// A database's path below the base.
fn database_path(sub_id: i64, db_id: i64, fixed: bool) -> String {
    format!("{}subscriptions/{sub_id}/databases/{db_id}", plan(fixed).1)
}
