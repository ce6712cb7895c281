//! `GET /v1/tasks/{taskId}` and `GET /v1/tasks`.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Answer, Body, Reply, Vendor, not_found};
use crate::redis_cloud::{ListForm, RedisCloudState, World};

/// `GET /v1/tasks/{taskId}`.
pub(super) async fn get(v: Vendor, Path(id): Path<String>) -> Response {
    let ids = vec![id.clone()];
    v.handle("GET /v1/tasks/{taskId}", true, ids, |s, path| {
        task_answer(s, &id, path)
    })
    .await
}

/// `GET /v1/tasks`.
pub(super) async fn list(v: Vendor) -> Response {
    v.status("GET /v1/tasks", |s, _| Ok(list_answer(s))).await
}

/// One poll of one task: 404 while it is unknown or not yet visible.
fn task_answer(state: &RedisCloudState, id: &str, path: &str) -> Reply {
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
    let look = if hidden { None } else { world.poll(id, now) };
    let Some(look) = look else {
        drop(world);
        return Err(not_found(state, &format!("Task {id} was not found"), path));
    };
    Ok(match world.tasks.get(id) {
        Some(task) => Answer::json(StatusCode::OK, state.task_json(task, &look, false)),
        None => Answer::json(StatusCode::INTERNAL_SERVER_ERROR, json!({})),
    })
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
        let World { order, tasks, .. } = &mut *world;
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
