//! Hostile input: Stream's answers are read by `TaskResponse::decode` (the status, the
//! headers and the raw body, exactly as `StreamClient::get_task` reads them) and
//! classified by `StreamSource::classify`. Whatever the bytes (arbitrary bytes,
//! arbitrary JSON, JSON shaped like Stream's with values of any type, bodies cut
//! short), reading never panics and always gives a typed answer or a typed error of
//! the right kind for the status; a task that says `completed` is read as a success
//! unless its `result` is a per-item map with a failed item, and then as a failure
//! naming exactly those items.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use reqwest::header::HeaderMap;
use serde_json::{Map, Value};
use taskpoll::{ErrorClass, Phase, TaskSource};
use taskpoll_stream::{ItemResults, StreamClient, StreamError, StreamSource, TaskResponse};
use taskpoll_testkit::json::{
    RATE_LIMIT_HEADERS, Vocabulary, bytes_of, config, headers, object, status,
};

const TASK_KEYS: &[&str] = &[
    "task_id",
    "status",
    "created_at",
    "updated_at",
    "result",
    "error",
    "duration",
];
const WORDS: &[&str] = &[
    "waiting",
    "pending",
    "running",
    "completed",
    "failed",
    "error",
    "COMPLETED",
    "Failed",
    "exporting",
    "",
];

/// The words Stream's SDKs know (compared in any letter case): the first six.
const KNOWN: &[&str] = WORDS.split_at(6).0;

/// A task response, its values usually of Stream's types and sometimes anything:
/// timestamps as integers or (valid or not) RFC 3339 strings, `error` an object of
/// any fields, a string or anything.
/// Stream's keys and words.
const STREAM: Vocabulary = Vocabulary::new(TASK_KEYS, WORDS);

fn task_body() -> BoxedStrategy<Value> {
    let time = || {
        STREAM.mostly(prop_oneof![
            any::<i64>().prop_map(Value::from),
            "[0-9T:.+Z-]{0,30}".prop_map(Value::from),
            Just(Value::from("2026-02-29T25:61:00Z")),
            Just(Value::from("2026-01-01T00:00:00.123456789+01:00")),
        ])
    };
    let error = object(vec![
        ("type", STREAM.text()),
        ("description", STREAM.text()),
        ("stacktrace", STREAM.text()),
        ("version", STREAM.text()),
    ]);
    object(vec![
        ("task_id", STREAM.text()),
        ("status", STREAM.mostly(select(WORDS).prop_map(Value::from))),
        ("created_at", time()),
        ("updated_at", time()),
        ("result", STREAM.json()),
        (
            "error",
            STREAM.mostly(prop_oneof![error, ".{0,20}".prop_map(Value::from)]),
        ),
        ("duration", STREAM.text()),
    ])
}

/// Stream's `APIError`, its values usually of the right type.
fn api_error_body() -> BoxedStrategy<Value> {
    let int = || STREAM.int();
    object(vec![
        ("code", int()),
        ("message", STREAM.text()),
        ("StatusCode", int()),
        ("duration", STREAM.text()),
        ("more_info", STREAM.text()),
        (
            "details",
            STREAM.mostly(vec(any::<i64>(), 0..3).prop_map(Value::from)),
        ),
        (
            "exception_fields",
            STREAM.mostly(btree_map(".{0,8}", ".{0,8}", 0..3).prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
            })),
        ),
        (
            "unrecoverable",
            STREAM.mostly(any::<bool>().prop_map(Value::from)),
        ),
    ])
}

fn source() -> StreamSource {
    StreamClient::new("proptest-key", "proptest-secret")
        .unwrap()
        .source()
}

/// Reads an answer and checks that the result fits the status; classifies a task.
fn read(status: u16, headers: &HeaderMap, body: &[u8]) {
    let result = TaskResponse::decode(status, headers, body);
    match result {
        Ok(task) => {
            assert!((200..300).contains(&status), "a task from HTTP {status}");
            check_phase(task);
        }
        Err(e) => {
            // Every part of the error can be shown and classified.
            taskpoll_testkit::json::show(&e).unwrap();
            let _ = (e.code(), e.status(), e.retry_after());
            let class = e.class();
            let expected_kind = match status {
                200..=299 => matches!(e, StreamError::Malformed { .. }),
                429 => matches!(e, StreamError::RateLimited(_)),
                401 => matches!(e, StreamError::Unauthorized(_)),
                403 => matches!(e, StreamError::Forbidden(_)),
                404 => matches!(e, StreamError::NotFound(_)),
                // Not an HTTP status at all: read as a bad gateway.
                500..=599 | 0..=99 | 1000.. => matches!(e, StreamError::Server(_)),
                _ => matches!(e, StreamError::Rejected(_)),
            };
            assert!(expected_kind, "HTTP {status} gave {e:?}");
            match &e {
                StreamError::Malformed { .. } => assert_eq!(class, ErrorClass::TRANSIENT),
                other if other.api_error().is_some_and(|a| a.is_unrecoverable()) => {
                    assert_eq!(class, ErrorClass::Permanent)
                }
                StreamError::RateLimited(_) => {
                    assert!(matches!(class, ErrorClass::RateLimited { .. }))
                }
                StreamError::Server(_) => assert!(class.is_transient()),
                _ => assert_eq!(class, ErrorClass::Permanent),
            }
        }
    }
}

/// The phase follows the status word; a `completed` task is a success with its result,
/// unless an item of a per-item result failed.
fn check_phase(task: TaskResponse) {
    let word = task.status.to_ascii_lowercase();
    let result = task.result.clone().unwrap_or(Value::Null);
    let failed_items: Vec<String> = ItemResults::from_result(&result)
        .map(|items| items.failed().map(|(k, _)| k.to_owned()).collect())
        .unwrap_or_default();
    let id = task.task_id.clone();
    let phase = source().classify(task);
    match (word.as_str(), phase) {
        ("completed", Phase::Succeeded(out)) => {
            assert!(failed_items.is_empty(), "{result}");
            assert_eq!(out.result, result);
            assert_eq!(out.task_id(), id);
        }
        ("completed", Phase::Failed(f)) => {
            assert!(!failed_items.is_empty(), "{result}");
            assert_eq!(f.task_id(), id);
            let named: Vec<&str> = f.failed_items().into_iter().map(|(k, _)| k).collect();
            assert_eq!(named, failed_items);
            let text = f.to_string();
            assert!(
                failed_items.iter().all(|i| text.contains(i.as_str())),
                "{text}"
            );
            assert_eq!(serde_json::to_value(&f).unwrap()["result"], result);
        }
        ("failed" | "error", Phase::Failed(f)) => {
            assert_eq!(f.task_id(), id);
            assert!(!f.error_type().is_empty());
            let _ = f.to_string();
        }
        ("waiting" | "pending", Phase::Pending(p)) => assert!(p.recognized),
        ("running", Phase::Running(p)) => assert!(p.recognized),
        (w, Phase::Running(p)) if !KNOWN.contains(&w) => assert!(!p.recognized),
        (w, p) => panic!("status {w:?} classified as {:?}", p.kind()),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_under_any_status(status in status(), headers in headers(RATE_LIMIT_HEADERS), body in vec(any::<u8>(), 0..512)) {
        read(status, &headers, &body);
    }

    #[test]
    fn arbitrary_json_under_any_status(status in status(), body in bytes_of(STREAM.json())) {
        read(status, &HeaderMap::new(), &body);
    }

    #[test]
    fn task_shaped_json(body in bytes_of(task_body())) {
        read(200, &HeaderMap::new(), &body);
    }

    #[test]
    fn api_error_shaped_json_under_error_statuses(
        status in status().prop_filter("an error status", |s| !(200..300).contains(s)),
        headers in headers(RATE_LIMIT_HEADERS),
        body in bytes_of(api_error_body()),
    ) {
        read(status, &headers, &body);
    }

    #[test]
    fn per_item_results_fail_the_wait_exactly_when_an_item_failed(
        word in select(&["completed", "Completed"][..]),
        items in btree_map(
            prop_oneof![".{0,12}", "[a-z]{1,8}:[a-z0-9-]{1,8}"],
            (
                select(&["ok", "OK", "error", "failed", ""][..]),
                prop_oneof![Just(Value::Null), ".{0,16}".prop_map(Value::from), STREAM.scalar()],
            ),
            1..6,
        ),
    ) {
        let result: Map<String, Value> = items
            .into_iter()
            .map(|(item, (status, error))| {
                let mut entry = Map::new();
                entry.insert("status".into(), Value::from(status));
                if !error.is_null() {
                    entry.insert("error".into(), error);
                }
                (item, Value::Object(entry))
            })
            .collect();
        let body = serde_json::json!({"task_id": "t-1", "status": word, "result": result});
        let task = TaskResponse::decode(200, &HeaderMap::new(), &serde_json::to_vec(&body).unwrap()).unwrap();
        check_phase(task);
    }

    #[test]
    fn well_typed_tasks_always_decode(word in select(WORDS), id in ".{0,40}", nanos in any::<i64>(), result in STREAM.json()) {
        let body = serde_json::json!({
            "task_id": id, "status": word, "created_at": nanos, "updated_at": nanos,
            "result": result, "duration": "1ms",
        });
        let task = TaskResponse::decode(200, &HeaderMap::new(), &serde_json::to_vec(&body).unwrap()).unwrap();
        check_phase(task);
    }
}
