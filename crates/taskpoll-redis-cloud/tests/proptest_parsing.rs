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
use proptest::sample::{Index, select};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};
use taskpoll::{ErrorClass, Phase, TaskSource};
use taskpoll_redis_cloud::{
    Operation, RedisCloudClient, RedisCloudError, TaskStateUpdate, TaskStatus, decode,
};

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

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        ".{0,16}".prop_map(Value::String),
        select(WORDS).prop_map(Value::from),
        Just(Value::from(" 77899 ")),
        Just(Value::from("")),
    ]
}

/// Any JSON value, keys from Redis Cloud's or arbitrary.
fn json() -> BoxedStrategy<Value> {
    scalar()
        .prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..5).prop_map(Value::Array),
                btree_map(
                    prop_oneof![select(KEYS).prop_map(str::to_owned), ".{0,8}"],
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
            ]
        })
        .boxed()
}

/// `right` most of the time, any JSON value otherwise.
fn mostly(right: impl Strategy<Value = Value> + 'static) -> BoxedStrategy<Value> {
    prop_oneof![9 => right, 1 => json()].boxed()
}

/// An object with each of these fields present nine times in ten.
fn object(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
    let (names, values): (Vec<&str>, Vec<BoxedStrategy<Value>>) = fields.into_iter().unzip();
    let present = vec(prop::bool::weighted(0.9), names.len());
    (values, present)
        .prop_map(move |(values, present)| {
            Value::Object(
                names
                    .iter()
                    .zip(values)
                    .zip(present)
                    .filter(|(_, keep)| *keep)
                    .map(|((k, v), _)| ((*k).to_owned(), v))
                    .collect(),
            )
        })
        .boxed()
}

fn text() -> BoxedStrategy<Value> {
    mostly(".{0,24}".prop_map(Value::from))
}

fn id() -> BoxedStrategy<Value> {
    mostly(prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<i64>().prop_map(|n| Value::from(n.to_string())),
    ])
}

fn link() -> BoxedStrategy<Value> {
    object(vec![
        ("rel", text()),
        ("href", text()),
        ("title", text()),
        ("type", text()),
    ])
}

/// A task (`TaskStateUpdate`), its values usually of the right type: `response.error`
/// an object, a code string, empty or anything; links as an array or the HAL object.
fn task_body() -> BoxedStrategy<Value> {
    let error = mostly(prop_oneof![
        object(vec![
            ("type", text()),
            ("status", text()),
            ("description", text())
        ]),
        ".{0,12}".prop_map(Value::from),
        Just(Value::Null),
        Just(Value::from("")),
        Just(Value::Object(Map::new())),
    ]);
    let response = object(vec![
        ("resourceId", id()),
        ("additionalResourceId", id()),
        ("resource", json()),
        ("error", error),
        ("additionalInfo", text()),
    ]);
    let hal = btree_map(select(&["self", "task", "resource"][..]), link(), 0..3)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()));
    object(vec![
        ("taskId", text()),
        ("commandType", text()),
        ("status", mostly(select(WORDS).prop_map(Value::from))),
        ("description", text()),
        (
            "timestamp",
            mostly("[0-9T:.+Z-]{0,34}".prop_map(Value::from)),
        ),
        ("response", mostly(response)),
        ("links", mostly(vec(link(), 0..3).prop_map(Value::from))),
        ("_links", mostly(hal)),
        (
            "progress",
            mostly(any::<f64>().prop_filter_map("finite", |f| {
                serde_json::Number::from_f64(f).map(Value::Number)
            })),
        ),
    ])
}

/// A task list: `{"tasks": [...]}`, `{}`, `null` or a bare array, items usually tasks.
fn list_body() -> BoxedStrategy<Value> {
    let items = vec(mostly(task_body()), 0..4);
    prop_oneof![
        items
            .clone()
            .prop_map(|t| serde_json::json!({ "tasks": t })),
        items.prop_map(Value::Array),
        Just(serde_json::json!({})),
        Just(Value::Null),
        json(),
    ]
    .boxed()
}

/// A subscription, its values usually of the right type.
fn subscription_body() -> BoxedStrategy<Value> {
    object(vec![
        ("id", id()),
        ("name", text()),
        ("status", mostly(select(WORDS).prop_map(Value::from))),
        ("paymentMethodId", json()),
    ])
}

/// The body as sent, mostly; sometimes cut at any point; sometimes arbitrary bytes.
fn bytes_of(body: impl Strategy<Value = Value> + Clone) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => body.clone().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        1 => (body, any::<Index>()).prop_map(|(v, cut)| {
            let mut b = serde_json::to_vec(&v).unwrap();
            b.truncate(cut.index(b.len() + 1));
            b
        }),
        1 => vec(any::<u8>(), 0..256),
    ]
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        3 => select(&[200u16, 202, 204, 400, 401, 403, 404, 408, 409, 429, 500, 501, 502, 503, 504][..]),
        1 => any::<u16>(),
    ]
}

/// 200 most of the time (the shaped bodies are meant to be read), any status otherwise.
fn mostly_ok() -> impl Strategy<Value = u16> {
    prop_oneof![3 => Just(200u16), 1 => status()]
}

/// `Retry-After` and `X-Rate-Limit-Remaining` with any (header-legal) values.
fn headers() -> impl Strategy<Value = HeaderMap> {
    let value = prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        "[ -~]{0,24}",
        Just("Thu, 01 Jan 2026 00:00:00 GMT".to_owned()),
    ];
    let name = select(&["retry-after", "x-rate-limit-remaining"][..]);
    vec((name, value), 0..4).prop_map(|pairs| {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.append(HeaderName::from_static(n), v);
            }
        }
        h
    })
}

fn client() -> RedisCloudClient {
    RedisCloudClient::new("proptest-key", "proptest-secret").unwrap()
}

const FLOOR: Duration = Duration::from_secs(30);

/// An error for a non-2xx status: the right variant and class, printable.
fn check_error(status: u16, e: &RedisCloudError) {
    let _ = (e.to_string(), format!("{e:?}"), e.status(), e.body());
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
    fn arbitrary_bytes_under_any_status(status in status(), headers in headers(), body in vec(any::<u8>(), 0..512), id in ".{1,40}") {
        read_task(&id, status, &headers, &body);
        read_list(status, &headers, &body);
        read_subscription(status, &headers, &body);
        if let Ok(task_id) = decode::start(Operation::CreateSubscription, status, &headers, &body) {
            assert!(!task_id.is_empty());
        }
    }

    #[test]
    fn arbitrary_json_under_any_status(status in status(), body in bytes_of(json())) {
        read_task("t-1", status, &HeaderMap::new(), &body);
        read_list(status, &HeaderMap::new(), &body);
        read_subscription(status, &HeaderMap::new(), &body);
    }

    #[test]
    fn task_shaped_json(status in mostly_ok(), headers in headers(), body in bytes_of(task_body())) {
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
