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
use proptest::sample::{Index, select};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};
use taskpoll::{ErrorClass, Phase, TaskSource};
use taskpoll_stream::{ItemResults, StreamClient, StreamError, StreamSource, TaskResponse};

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

/// The words Stream's SDKs know (compared in any letter case).
const KNOWN: &[&str] = &[
    "waiting",
    "pending",
    "running",
    "completed",
    "failed",
    "error",
];

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Any JSON scalar, with the vendor's words and numbers near the edges of `i64`.
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
        Just(Value::from("2026-01-01T00:00:00.123456789+01:00")),
        Just(Value::from(i64::MAX)),
        Just(Value::from(u64::MAX)),
    ]
}

/// Any JSON value, keys from `keys` or arbitrary.
fn json(keys: &'static [&'static str]) -> BoxedStrategy<Value> {
    scalar()
        .prop_recursive(3, 32, 6, move |inner| {
            prop_oneof![
                vec(inner.clone(), 0..5).prop_map(Value::Array),
                btree_map(
                    prop_oneof![select(keys).prop_map(str::to_owned), ".{0,8}"],
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
    prop_oneof![9 => right, 1 => json(TASK_KEYS)].boxed()
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

/// A task response, its values usually of Stream's types and sometimes anything:
/// timestamps as integers or (valid or not) RFC 3339 strings, `error` an object of
/// any fields, a string or anything.
fn task_body() -> BoxedStrategy<Value> {
    let time = || {
        mostly(prop_oneof![
            any::<i64>().prop_map(Value::from),
            "[0-9T:.+Z-]{0,30}".prop_map(Value::from),
            Just(Value::from("2026-02-29T25:61:00Z")),
            Just(Value::from("2026-01-01T00:00:00.123456789+01:00")),
        ])
    };
    let error = object(vec![
        ("type", text()),
        ("description", text()),
        ("stacktrace", text()),
        ("version", text()),
    ]);
    object(vec![
        ("task_id", text()),
        ("status", mostly(select(WORDS).prop_map(Value::from))),
        ("created_at", time()),
        ("updated_at", time()),
        ("result", json(TASK_KEYS)),
        (
            "error",
            mostly(prop_oneof![error, ".{0,20}".prop_map(Value::from)]),
        ),
        ("duration", text()),
    ])
}

/// Stream's `APIError`, its values usually of the right type.
fn api_error_body() -> BoxedStrategy<Value> {
    let int = || mostly(any::<i64>().prop_map(Value::from));
    object(vec![
        ("code", int()),
        ("message", text()),
        ("StatusCode", int()),
        ("duration", text()),
        ("more_info", text()),
        (
            "details",
            mostly(vec(any::<i64>(), 0..3).prop_map(Value::from)),
        ),
        (
            "exception_fields",
            mostly(btree_map(".{0,8}", ".{0,8}", 0..3).prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
            })),
        ),
        ("unrecoverable", mostly(any::<bool>().prop_map(Value::from))),
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
        3 => select(&[200u16, 201, 204, 400, 401, 403, 404, 408, 413, 429, 500, 502, 503, 504][..]),
        1 => any::<u16>(),
    ]
}

/// Rate-limit and `Retry-After` headers with any (header-legal) values.
fn headers() -> impl Strategy<Value = HeaderMap> {
    let value = prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "[ -~]{0,24}",
        Just("Thu, 01 Jan 2026 00:00:00 GMT".to_owned()),
        Just(", , 7, 9".to_owned()),
    ];
    let name = select(
        &[
            "retry-after",
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
        ][..],
    );
    vec((name, value), 0..5).prop_map(|pairs| {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.append(HeaderName::from_static(n), v);
            }
        }
        h
    })
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
            let _ = (
                e.to_string(),
                format!("{e:?}"),
                e.code(),
                e.status(),
                e.retry_after(),
            );
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
    fn arbitrary_bytes_under_any_status(status in status(), headers in headers(), body in vec(any::<u8>(), 0..512)) {
        read(status, &headers, &body);
    }

    #[test]
    fn arbitrary_json_under_any_status(status in status(), body in bytes_of(json(TASK_KEYS))) {
        read(status, &HeaderMap::new(), &body);
    }

    #[test]
    fn task_shaped_json(body in bytes_of(task_body())) {
        read(200, &HeaderMap::new(), &body);
    }

    #[test]
    fn api_error_shaped_json_under_error_statuses(
        status in status().prop_filter("an error status", |s| !(200..300).contains(s)),
        headers in headers(),
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
                prop_oneof![Just(Value::Null), ".{0,16}".prop_map(Value::from), scalar()],
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
    fn well_typed_tasks_always_decode(word in select(WORDS), id in ".{0,40}", nanos in any::<i64>(), result in json(TASK_KEYS)) {
        let body = serde_json::json!({
            "task_id": id, "status": word, "created_at": nanos, "updated_at": nanos,
            "result": result, "duration": "1ms",
        });
        let task = TaskResponse::decode(200, &HeaderMap::new(), &serde_json::to_vec(&body).unwrap()).unwrap();
        check_phase(task);
    }
}
