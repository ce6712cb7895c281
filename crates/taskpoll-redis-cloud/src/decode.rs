//! Reading Redis Cloud's HTTP answers, apart from the exchange (pure: no I/O).
//!
//! [`RedisCloudClient`](crate::RedisCloudClient) reads every answer through these
//! functions; they are public so that an answer captured elsewhere (a log, a proxy, a
//! fuzzer) is read exactly the same way: an HTTP status, the headers and the raw body
//! in, a typed value or a [`RedisCloudError`] out, whatever the bytes.
//!
//! ```
//! use reqwest::header::HeaderMap;
//! use taskpoll_redis_cloud::{RedisCloudError, TaskStatus, decode};
//!
//! let body = br#"{"taskId":"t-1","status":"processing-in-progress","response":{}}"#;
//! let task = decode::task("t-1", 200, &HeaderMap::new(), body)?;
//! assert_eq!(task.status, Some(TaskStatus::ProcessingInProgress));
//!
//! let err = decode::task("t-2", 404, &HeaderMap::new(), b"").unwrap_err();
//! assert!(matches!(err, RedisCloudError::UnknownTask { .. }));
//! let err = decode::task("t-3", 200, &HeaderMap::new(), b"<html>").unwrap_err();
//! assert!(matches!(err, RedisCloudError::Decode { .. }));
//! # Ok::<(), RedisCloudError>(())
//! ```

use std::time::SystemTime;

use reqwest::header::HeaderMap;
use serde_json::Value;
use taskpoll_http::excerpt;

use crate::error::{ErrorBody, Operation, RedisCloudError};
use crate::models::{Database, DatabaseRef, Subscription, TaskStateUpdate, parse_task_list};

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// An error status as [`RedisCloudError::Http`], with the `Retry-After` it carried.
fn http_error(
    operation: Operation,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> RedisCloudError {
    RedisCloudError::Http {
        operation,
        status,
        retry_after: taskpoll_http::retry_after(headers, SystemTime::now()),
        body: Box::new(ErrorBody::parse(body)),
    }
}

fn json(operation: Operation, body: &[u8]) -> Result<Value, RedisCloudError> {
    serde_json::from_slice(body).map_err(|e| RedisCloudError::Decode {
        operation,
        reason: e.to_string(),
        excerpt: excerpt(body),
    })
}

/// A 2xx JSON object read by `from_value` (`what` names it when it is not one), 404 as
/// `unknown` with the error body, any other status as [`RedisCloudError::Http`].
fn object<T>(
    (operation, what): (Operation, &str),
    (status, headers, body): (u16, &HeaderMap, &[u8]),
    unknown: impl FnOnce(Box<ErrorBody>) -> RedisCloudError,
    from_value: impl FnOnce(&Value) -> Option<T>,
) -> Result<T, RedisCloudError> {
    if status == 404 {
        return Err(unknown(Box::new(ErrorBody::parse(body))));
    }
    if !is_success(status) {
        return Err(http_error(operation, status, headers, body));
    }
    from_value(&json(operation, body)?).ok_or_else(|| RedisCloudError::Decode {
        operation,
        reason: format!("the {what} is not a JSON object"),
        excerpt: excerpt(body),
    })
}

/// Reads an answer to `GET /v1/tasks/{taskId}` for task `task_id`: a 2xx JSON object
/// as the task (without a `taskId`, it takes `task_id`), 404 as
/// [`RedisCloudError::UnknownTask`], any other status as [`RedisCloudError::Http`], a
/// 2xx that is not a JSON object as [`RedisCloudError::Decode`].
pub fn task(
    task_id: &str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<TaskStateUpdate, RedisCloudError> {
    let unknown = |body| RedisCloudError::UnknownTask {
        task_id: task_id.to_owned(),
        body,
    };
    let answer = (status, headers, body);
    let mut task = object(
        (Operation::GetTask, "task"),
        answer,
        unknown,
        TaskStateUpdate::from_value,
    )?;
    if task.task_id.is_none() {
        task.task_id = Some(task_id.to_owned());
    }
    Ok(task)
}

/// Reads an answer to `GET /v1/tasks`: `{"tasks": [...]}`, `{}`, `null`, an empty
/// body or a bare array under a 2xx (items that are not objects are skipped); any
/// other status as [`RedisCloudError::Http`]; anything else as
/// [`RedisCloudError::Decode`].
pub fn task_list(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<TaskStateUpdate>, RedisCloudError> {
    let op = Operation::ListTasks;
    if !is_success(status) {
        return Err(http_error(op, status, headers, body));
    }
    let v = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        json(op, body)?
    };
    parse_task_list(&v).map_err(|reason| RedisCloudError::Decode {
        operation: op,
        reason,
        excerpt: excerpt(body),
    })
}

/// [`task_list`], keeping only the tasks whose id `wanted` accepts, and reading the
/// others no further than their `taskId`.
///
/// An account's list holds every recent task, often thousands: a wait on a few of them
/// should not build all of them (a 10,000-task list is a few megabytes of JSON and far
/// more as parsed values). Each item is kept as its raw text until its id is known.
pub fn task_list_of(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    wanted: &dyn Fn(&str) -> bool,
) -> Result<Vec<TaskStateUpdate>, RedisCloudError> {
    let op = Operation::ListTasks;
    if !is_success(status) {
        return Err(http_error(op, status, headers, body));
    }
    let decode = |reason: String| RedisCloudError::Decode {
        operation: op,
        reason,
        excerpt: excerpt(body),
    };
    let items = raw_items(body).map_err(decode)?;
    let mut out = Vec::new();
    for raw in items {
        // Items that are not objects, or whose id is not text, are skipped.
        let Ok(IdOnly { task_id: Some(id) }) = serde_json::from_str::<IdOnly<'_>>(raw.get()) else {
            continue;
        };
        if !wanted(&id) {
            continue;
        }
        let v: Value = serde_json::from_str(raw.get()).map_err(|e| decode(e.to_string()))?;
        if let Some(task) = TaskStateUpdate::from_value(&v) {
            out.push(task);
        }
    }
    Ok(out)
}

/// Just a task's id, the rest of the item skipped unread.
#[derive(serde::Deserialize)]
struct IdOnly<'a> {
    #[serde(rename = "taskId", borrow, default)]
    task_id: Option<std::borrow::Cow<'a, str>>,
}

/// The items of a task list body (`{"tasks": [...]}`, `{}`, `null`, empty, or a bare
/// array) as raw JSON texts.
fn raw_items(body: &[u8]) -> Result<Vec<&serde_json::value::RawValue>, String> {
    use serde_json::value::RawValue;
    #[derive(serde::Deserialize)]
    struct Wrapper<'a> {
        #[serde(borrow, default)]
        tasks: Option<&'a RawValue>,
    }
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    fn array(t: &str) -> Result<Vec<&RawValue>, String> {
        serde_json::from_str::<Vec<&RawValue>>(t).map_err(|e| e.to_string())
    }
    match text.trim_start().as_bytes().first() {
        None => Ok(Vec::new()),
        Some(b'[') => array(text),
        Some(b'{') => {
            let w: Wrapper<'_> = serde_json::from_str(text).map_err(|e| e.to_string())?;
            match w.tasks.map(RawValue::get) {
                None => Ok(Vec::new()),
                Some(t) if t.trim() == "null" => Ok(Vec::new()),
                Some(t) if t.trim_start().starts_with('[') => array(t),
                Some(_) => Err("\"tasks\" is not an array".into()),
            }
        }
        Some(_) if text.trim() == "null" => Ok(Vec::new()),
        Some(_) => Err("expected {\"tasks\": [...]}, {}, null or an array".into()),
    }
}

/// Reads an answer to `GET /v1/subscriptions/{subscription_id}`: a 2xx JSON object as
/// the subscription, 404 as [`RedisCloudError::UnknownSubscription`], any other status
/// as [`RedisCloudError::Http`], a 2xx that is not a JSON object as
/// [`RedisCloudError::Decode`].
pub fn subscription(
    subscription_id: i64,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Subscription, RedisCloudError> {
    let unknown = |body| RedisCloudError::UnknownSubscription {
        subscription_id,
        body,
    };
    let answer = (status, headers, body);
    object(
        (Operation::GetSubscription, "subscription"),
        answer,
        unknown,
        Subscription::from_value,
    )
}

/// Reads an answer to `GET .../subscriptions/{subscriptionId}/databases/{databaseId}`
/// for `database`: a 2xx JSON object as the database (without a `databaseId`, it takes
/// the one asked for), 404 as [`RedisCloudError::UnknownDatabase`], any other status
/// as [`RedisCloudError::Http`], a 2xx that is not a JSON object as
/// [`RedisCloudError::Decode`].
pub fn database(
    database: &DatabaseRef,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Database, RedisCloudError> {
    let unknown = |body| RedisCloudError::UnknownDatabase {
        database: *database,
        body,
    };
    let answer = (status, headers, body);
    let mut db = object(
        (Operation::GetDatabase, "database"),
        answer,
        unknown,
        Database::from_value,
    )?;
    if db.id.is_none() {
        db.id = Some(database.database_id);
    }
    Ok(db)
}

/// Reads the answer to a start call (`operation`): the task id of a 2xx reply
/// (`taskId`, or `task_id`), else [`RedisCloudError::NoTaskId`]; any other status as
/// [`RedisCloudError::Http`].
pub fn start(
    operation: Operation,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<String, RedisCloudError> {
    if !is_success(status) {
        return Err(http_error(operation, status, headers, body));
    }
    let no_id = || RedisCloudError::NoTaskId {
        operation,
        status,
        excerpt: excerpt(body),
    };
    let v: Value = serde_json::from_slice(body).map_err(|_| no_id())?;
    let task = TaskStateUpdate::from_value(&v).ok_or_else(no_id)?;
    task.task_id.filter(|id| !id.is_empty()).ok_or_else(no_id)
}
