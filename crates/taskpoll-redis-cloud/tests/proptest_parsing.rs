//! Hostile input: Redis Cloud's answers are read by the functions of `decode` (the
//! status, the headers and the raw body, exactly as the client reads them) and
//! classified by the two sources. Whatever the bytes (arbitrary bytes, arbitrary JSON,
//! JSON shaped like Redis Cloud's with values of any type, bodies cut short), reading
//! never panics and always gives a typed answer or a typed error of the right kind for
//! the status; a task is a success exactly when it says `processing-completed`
//! without an error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use reqwest::header::HeaderMap;
use serde_json::{Map, Value};
use taskpoll::{ErrorClass, Phase, TaskSource};
use taskpoll_redis_cloud::{
    Operation, RedisCloudClient, RedisCloudError, TaskStateUpdate, TaskStatus, decode,
};
use taskpoll_testkit::json::{Vocabulary, bytes_of, config, headers, mostly_ok, object, status};

const KEYS: &[&str] = &[
    "taskId",
    "commandType",
    "status",
    "description",
    "timestamp",
    "response",
    "links",
    "_links",
    "progress",
    "resourceId",
    "additionalResourceId",
    "resource",
    "error",
    "additionalInfo",
    "type",
    "rel",
    "href",
    "title",
    "tasks",
    "id",
    "name",
];
const WORDS: &[&str] = &[
    "initialized",
    "received",
    "processing-in-progress",
    "processing-completed",
    "processing-error",
    "PROCESSING-COMPLETED",
    "completed",
    "",
    "active",
    "pending",
    "deleting",
    "error",
];

/// Redis Cloud's keys and words.
const REDIS: Vocabulary = Vocabulary::new(KEYS, WORDS).and(&[" 77899 ", ""]);

/// Retry-After and the one rate-limit header Redis Cloud sends.
const HEADERS: &[&str] = &["retry-after", "x-rate-limit-remaining"];

fn id() -> BoxedStrategy<Value> {
    REDIS.mostly(prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<i64>().prop_map(|n| Value::from(n.to_string())),
    ])
}

fn link() -> BoxedStrategy<Value> {
    object(vec![
        ("rel", REDIS.text()),
        ("href", REDIS.text()),
        ("title", REDIS.text()),
        ("type", REDIS.text()),
    ])
}

/// A task (`TaskStateUpdate`), its values usually of the right type: `response.error`
/// an object, a code string, empty or anything; links as an array or the HAL object.
fn task_body() -> BoxedStrategy<Value> {
    let error = REDIS.mostly(prop_oneof![
        object(vec![
            ("type", REDIS.text()),
            ("status", REDIS.text()),
            ("description", REDIS.text())
        ]),
        ".{0,12}".prop_map(Value::from),
        Just(Value::Null),
        Just(Value::from("")),
        Just(Value::Object(Map::new())),
    ]);
    let response = object(vec![
        ("resourceId", id()),
        ("additionalResourceId", id()),
        ("resource", REDIS.json()),
        ("error", error),
        ("additionalInfo", REDIS.text()),
    ]);
    let hal = btree_map(select(&["self", "task", "resource"][..]), link(), 0..3)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()));
    object(vec![
        ("taskId", REDIS.text()),
        ("commandType", REDIS.text()),
        ("status", REDIS.mostly(select(WORDS).prop_map(Value::from))),
        ("description", REDIS.text()),
        (
            "timestamp",
            REDIS.mostly("[0-9T:.+Z-]{0,34}".prop_map(Value::from)),
        ),
        ("response", REDIS.mostly(response)),
        (
            "links",
            REDIS.mostly(vec(link(), 0..3).prop_map(Value::from)),
        ),
        ("_links", REDIS.mostly(hal)),
        (
            "progress",
            REDIS.mostly(any::<f64>().prop_filter_map("finite", |f| {
                serde_json::Number::from_f64(f).map(Value::Number)
            })),
        ),
    ])
}

/// A task list: `{"tasks": [...]}`, `{}`, `null` or a bare array, items usually tasks.
fn list_body() -> BoxedStrategy<Value> {
    let items = vec(REDIS.mostly(task_body()), 0..4);
    prop_oneof![
        items
            .clone()
            .prop_map(|t| serde_json::json!({ "tasks": t })),
        items.prop_map(Value::Array),
        Just(serde_json::json!({})),
        Just(Value::Null),
        REDIS.json(),
    ]
    .boxed()
}

/// A subscription, its values usually of the right type.
fn subscription_body() -> BoxedStrategy<Value> {
    object(vec![
        ("id", id()),
        ("name", REDIS.text()),
        ("status", REDIS.mostly(select(WORDS).prop_map(Value::from))),
        ("paymentMethodId", REDIS.json()),
    ])
}

fn client() -> RedisCloudClient {
    RedisCloudClient::new("proptest-key", "proptest-secret").unwrap()
}

const FLOOR: Duration = Duration::from_secs(30);

/// An error for a non-2xx status: the right variant and class, printable.
fn check_error(status: u16, e: &RedisCloudError) {
    taskpoll_testkit::json::show(e).unwrap();
    let _ = (e.status(), e.body());
    let class = e.class(FLOOR);
    match e {
        RedisCloudError::Decode { .. } => {
            assert!((200..300).contains(&status), "HTTP {status}: {e:?}");
            assert_eq!(class, ErrorClass::TRANSIENT);
        }
        RedisCloudError::NoTaskId { status: s, .. } => {
            assert_eq!(*s, status);
            assert!((200..300).contains(&status));
        }
        RedisCloudError::UnknownTask { .. } | RedisCloudError::UnknownSubscription { .. } => {
            assert_eq!(status, 404);
            assert_eq!(class, ErrorClass::NotYetVisible);
        }
        RedisCloudError::Http { status: s, .. } => {
            assert_eq!(*s, status);
            assert!(!(200..300).contains(&status));
            match status {
                429 => assert!(matches!(
                    class,
                    ErrorClass::RateLimited {
                        retry_after: Some(_)
                    }
                )),
                408 | 500 | 502 | 503 | 504 => {
                    assert!(matches!(class, ErrorClass::Transient { .. }))
                }
                _ => assert_eq!(class, ErrorClass::Permanent),
            }
        }
        other => panic!("HTTP {status} gave {other:?}"),
    }
}

/// The phase of a task follows its error and status word.
fn check_task(asked: &str, task: TaskStateUpdate) {
    let source = client().source();
    let id = task.task_id.clone();
    assert!(id.is_some(), "a task always has an id");
    let has_error = task.error().is_some();
    let resource = task.response.as_ref().and_then(|r| r.resource_id);
    let status = task.status.clone();
    let _ = (task.timestamp(), task.link("self"), format!("{task:?}"));
    let _ = asked;
    match (has_error, &status, source.classify(task)) {
        (true, _, Phase::Failed(f))
        | (false, Some(TaskStatus::ProcessingError), Phase::Failed(f)) => {
            assert_eq!(Some(f.task_id.clone()), id);
            let _ = f.to_string();
        }
        (false, Some(TaskStatus::ProcessingCompleted), Phase::Succeeded(done)) => {
            assert_eq!(Some(done.task_id.clone()), id);
            assert_eq!(done.resource_id, resource);
        }
        (false, Some(TaskStatus::Initialized | TaskStatus::Received), Phase::Pending(p)) => {
            assert!(p.recognized)
        }
        (false, Some(TaskStatus::ProcessingInProgress), Phase::Running(p)) => assert!(p.recognized),
        (false, Some(TaskStatus::Unknown(_)) | None, Phase::Running(p)) => assert!(!p.recognized),
        (e, s, p) => panic!("error {e}, status {s:?} classified as {:?}", p.kind()),
    }
}

fn read_task(id: &str, status: u16, headers: &HeaderMap, body: &[u8]) {
    match decode::task(id, status, headers, body) {
        Ok(task) => {
            assert!((200..300).contains(&status), "a task from HTTP {status}");
            check_task(id, task);
        }
        Err(e) => check_error(status, &e),
    }
}

fn read_list(status: u16, headers: &HeaderMap, body: &[u8]) {
    match decode::task_list(status, headers, body) {
        Ok(tasks) => {
            assert!((200..300).contains(&status), "a list from HTTP {status}");
            let source = client().source();
            for t in tasks {
                // A listed task without an id cannot be matched to a wait; reading it
                // must still be safe.
                let _ = source.classify(t);
            }
        }
        Err(e) => check_error(status, &e),
    }
}

fn read_subscription(status: u16, headers: &HeaderMap, body: &[u8]) {
    match decode::subscription(7, status, headers, body) {
        Ok(sub) => {
            assert!((200..300).contains(&status));
            let word = sub.status.clone().unwrap_or_default();
            let phase = client().subscription_source().classify(sub);
            match (word.as_str(), phase) {
                ("active", Phase::Succeeded(_)) => {}
                ("error" | "deleting", Phase::Failed(f)) => {
                    let _ = f.to_string();
                }
                ("pending", Phase::Running(p)) => assert!(p.recognized),
                (w, Phase::Running(p)) if !["active", "error", "deleting"].contains(&w) => {
                    assert!(!p.recognized)
                }
                (w, p) => panic!("subscription {w:?} classified as {:?}", p.kind()),
            }
        }
        Err(e) => check_error(status, &e),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_under_any_status(status in status(), headers in headers(HEADERS), body in vec(any::<u8>(), 0..512), id in ".{1,40}") {
        read_task(&id, status, &headers, &body);
        read_list(status, &headers, &body);
        read_subscription(status, &headers, &body);
        if let Ok(task_id) = decode::start(Operation::CreateSubscription, status, &headers, &body) {
            assert!(!task_id.is_empty());
        }
    }

    #[test]
    fn arbitrary_json_under_any_status(status in status(), body in bytes_of(REDIS.json())) {
        read_task("t-1", status, &HeaderMap::new(), &body);
        read_list(status, &HeaderMap::new(), &body);
        read_subscription(status, &HeaderMap::new(), &body);
    }

    #[test]
    fn task_shaped_json(status in mostly_ok(), headers in headers(HEADERS), body in bytes_of(task_body())) {
        read_task("t-2", status, &headers, &body);
        match decode::start(Operation::CreateDatabase, status, &headers, &body) {
            Ok(id) => assert!(!id.is_empty() && (200..300).contains(&status)),
            Err(e) => check_error(status, &e),
        }
    }

    #[test]
    fn list_shaped_json(status in mostly_ok(), body in bytes_of(list_body())) {
        read_list(status, &HeaderMap::new(), &body);
    }

    #[test]
    fn subscription_shaped_json(status in mostly_ok(), body in bytes_of(subscription_body())) {
        read_subscription(status, &HeaderMap::new(), &body);
    }
}
