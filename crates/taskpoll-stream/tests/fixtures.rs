//! Every Stream fixture, parsed and classified as the adapter does, pinned with insta:
//! status bodies as the model and the phase they mean; error bodies as the `APIError`
//! and the error (message and class) they become; start replies and request bodies as
//! the models they read as.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{fixture_names, fixture_path};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use taskpoll::{Phase, SourcePhase, TaskSource};
use taskpoll_stream::models::{
    DeleteChannelsRequest, DeleteUsersRequest, ExportChannelsRequest, StartResponse,
};
use taskpoll_stream::{ApiError, StreamClient, StreamSource, TaskResponse};

fn phase(p: SourcePhase<StreamSource>) -> Value {
    match p {
        Phase::Pending(p) => {
            json!({"kind": "pending", "status": p.status, "recognized": p.recognized})
        }
        Phase::Running(p) => {
            json!({"kind": "running", "status": p.status, "recognized": p.recognized})
        }
        Phase::Succeeded(out) => json!({"kind": "succeeded", "output": out}),
        Phase::Failed(f) => {
            let mut v = json!({"kind": "failed", "failure": f, "display": f.to_string()});
            if f.as_items().is_some() {
                v["failed_items"] = json!(f.failed_items());
            }
            v
        }
    }
}

/// The rate-limit headers of Stream's documented 429 example.
fn headers_429() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-ratelimit-limit", HeaderValue::from_static("60"));
    h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
    h.insert("x-ratelimit-reset", HeaderValue::from_static("1767225660"));
    h.insert("retry-after", HeaderValue::from_static("2"));
    h
}

/// Reads a request body into its model and checks it writes back the same JSON.
fn request<T>(raw: &Value) -> Value
where
    T: serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let parsed: T = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(&serde_json::to_value(&parsed).unwrap(), raw);
    json!({"model": format!("{parsed:?}")})
}

fn read(name: &str, source: &StreamSource) -> Value {
    let bytes = std::fs::read(fixture_path(name)).unwrap();
    let raw: Value = serde_json::from_slice(&bytes).unwrap();
    if name.starts_with("task-") {
        let task = TaskResponse::decode(200, &HeaderMap::new(), &bytes).unwrap();
        let instants = json!({
            "created_at": task.created_at.as_ref().and_then(|t| t.unix_nanos()),
            "updated_at": task.updated_at.as_ref().and_then(|t| t.unix_nanos()),
        });
        json!({
            "parsed": task,
            "unix_nanos": instants,
            "phase": phase(source.classify(task.clone())),
        })
    } else if name.starts_with("error-") {
        let parsed: ApiError = serde_json::from_slice(&bytes).unwrap();
        let status = u16::try_from(raw["StatusCode"].as_u64().unwrap()).unwrap();
        let headers = if status == 429 {
            headers_429()
        } else {
            HeaderMap::new()
        };
        let err = TaskResponse::decode(status, &headers, &bytes).unwrap_err();
        assert_eq!(err.api_error(), Some(&parsed));
        json!({
            "parsed": parsed,
            "error": err.to_string(),
            "class": format!("{:?}", source.error_class(&err)),
            "code": err.code(),
        })
    } else if name.starts_with("start-") {
        let parsed: StartResponse = serde_json::from_slice(&bytes).unwrap();
        json!({"parsed": parsed})
    } else if name == "request-export-channels.json" {
        request::<ExportChannelsRequest>(&raw)
    } else if name == "request-delete-channels.json" {
        request::<DeleteChannelsRequest>(&raw)
    } else if name == "request-delete-users.json" {
        request::<DeleteUsersRequest>(&raw)
    } else {
        panic!("no reading for fixture {name}: add one");
    }
}

#[test]
fn every_fixture_parsed_and_classified() {
    let source = StreamClient::new("k", "s").unwrap().source();
    let names = fixture_names();
    assert_eq!(names.len(), 20, "{names:?}");
    for name in names {
        let value = read(&name, &source);
        let snapshot = name.trim_end_matches(".json").to_owned();
        insta::assert_json_snapshot!(snapshot, value);
    }
}

/// The delete fixtures with one item turned into the failure Stream's schema allows
/// (`DeleteChannelsResult`: `{"status", "error"}`): no captured body shows one, so they
/// are derived from the real ones. Each is a failed wait naming the item.
#[test]
fn delete_fixtures_with_a_failed_item_are_failures() {
    let source = StreamClient::new("k", "s").unwrap().source();
    for (name, item, why) in [
        (
            "task-completed-delete-channels.json",
            "messaging:random",
            "channel is frozen",
        ),
        (
            "task-completed-delete-users.json",
            "user-2",
            "user owns channels",
        ),
    ] {
        let mut body: Value =
            serde_json::from_slice(&std::fs::read(fixture_path(name)).unwrap()).unwrap();
        body["result"][item] = json!({"status": "error", "error": why});
        let bytes = serde_json::to_vec(&body).unwrap();
        let task = TaskResponse::decode(200, &HeaderMap::new(), &bytes).unwrap();
        let value = json!({"body": body, "phase": phase(source.classify(task))});
        assert_eq!(value["phase"]["failed_items"], json!([[item, why]]));
        let snapshot = format!("{}-with-a-failed-item", name.trim_end_matches(".json"));
        insta::assert_json_snapshot!(snapshot, value);
    }
}
