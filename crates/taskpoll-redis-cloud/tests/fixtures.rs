//! Every file of `tests/fixtures/redis-cloud` parsed and classified (insta snapshots),
//! and the classification rules on bodies the simulator does not send.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use serde_json::{Value, json};
use taskpoll::{Phase, TaskSource};
use taskpoll_redis_cloud::{
    ErrorBody, Operation, RedisCloudClient, RedisCloudError, RedisCloudSource, TaskStateUpdate,
    parse_task_list,
};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/redis-cloud")
}

fn source() -> RedisCloudSource {
    RedisCloudClient::new("fixture-key", "fixture-secret")
        .unwrap()
        .source()
}

/// The phase a status is classified as, as JSON.
fn classified(source: &RedisCloudSource, task: TaskStateUpdate) -> Value {
    match source.classify(task) {
        Phase::Pending(p) => {
            json!({"phase": "pending", "status": p.status, "recognized": p.recognized})
        }
        Phase::Running(p) => {
            json!({"phase": "running", "status": p.status, "recognized": p.recognized})
        }
        Phase::Succeeded(out) => json!({"phase": "succeeded", "output": out}),
        Phase::Failed(f) => json!({"phase": "failed", "failure": f, "display": f.to_string()}),
    }
}

fn task(source: &RedisCloudSource, v: &Value) -> Value {
    let parsed = TaskStateUpdate::from_value(v).unwrap();
    json!({
        "parsed": parsed,
        "timestamp": parsed.timestamp().map(|t| t.to_string()),
        "classified": classified(source, parsed.clone()),
    })
}

fn error(v: &Value, raw: &[u8]) -> Value {
    let body = ErrorBody::parse(raw);
    let status = v["status"].as_u64().unwrap() as u16;
    let err = if status == 404
        && v["path"]
            .as_str()
            .unwrap_or_default()
            .starts_with("/v1/tasks/")
    {
        RedisCloudError::UnknownTask {
            task_id: v["path"]
                .as_str()
                .unwrap()
                .trim_start_matches("/v1/tasks/")
                .to_owned(),
            body: Box::new(body.clone()),
        }
    } else {
        RedisCloudError::Http {
            operation: Operation::GetTask,
            status,
            retry_after: None,
            body: Box::new(body.clone()),
        }
    };
    json!({
        "body": body,
        "error": err.to_string(),
        "class": format!("{:?}", source().error_class(&err)),
    })
}

#[test]
fn every_fixture_parsed_and_classified() {
    let source = source();
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 21, "{names:?}");
    for name in names {
        let raw = std::fs::read(dir().join(&name)).unwrap();
        let v: Value = serde_json::from_slice(&raw).unwrap();
        let snapshot = if name.starts_with("tasks-list") {
            let tasks = parse_task_list(&v).unwrap();
            json!({
                "count": tasks.len(),
                "tasks": tasks.iter().map(|t| json!({
                    "taskId": t.task_id,
                    "classified": classified(&source, t.clone()),
                })).collect::<Vec<_>>(),
            })
        } else if name.starts_with("task-") || name.starts_with("start-") {
            task(&source, &v)
        } else if name.starts_with("error-") {
            error(&v, &raw)
        } else {
            panic!("fixture {name} is of no known kind: add it here");
        };
        let stem = name.trim_end_matches(".json").to_owned();
        insta::assert_json_snapshot!(stem, snapshot);
    }
}

#[test]
fn start_replies_name_their_task() {
    for name in [
        "start-create-subscription.json",
        "start-create-database.json",
    ] {
        let v: Value = serde_json::from_slice(&std::fs::read(dir().join(name)).unwrap()).unwrap();
        let t = TaskStateUpdate::from_value(&v).unwrap();
        assert_eq!(t.task_id.as_deref().map(str::len), Some(36));
        assert!(t.response.is_none(), "start replies carry no response");
        let link = t.link("task").unwrap();
        assert_eq!(link.title.as_deref(), Some("getTaskStatusUpdates"));
        assert_eq!(link.method.as_deref(), Some("GET"));
    }
}

#[test]
fn an_error_fails_the_task_whatever_its_status() {
    let source = source();
    for status in [
        "processing-completed",
        "processing-in-progress",
        "received",
        "mystery",
    ] {
        let t = TaskStateUpdate::from_value(&json!({
            "taskId": "t", "status": status,
            "response": {"error": {"type": "PLANNER_FAILURE", "status": "500 INTERNAL_SERVER_ERROR"}},
        }))
        .unwrap();
        let Phase::Failed(f) = source.classify(t) else {
            panic!("{status}: not failed")
        };
        assert_eq!(f.error_type.as_deref(), Some("PLANNER_FAILURE"));
        assert_eq!(f.task_status, status);
        if status != "processing-error" {
            assert!(f.to_string().ends_with(&format!("[task status {status}]")));
        }
    }
    // `null`, `""` and `{}` are no error: a completed task stays completed.
    for error in [json!(null), json!(""), json!({})] {
        let t = TaskStateUpdate::from_value(&json!({
            "taskId": "t", "status": "processing-completed", "response": {"resourceId": 1, "error": error},
        }))
        .unwrap();
        assert!(matches!(source.classify(t), Phase::Succeeded(_)));
    }
}

#[test]
fn unknown_or_missing_statuses_are_running_unrecognized() {
    let source = source();
    for body in [
        json!({"taskId": "t", "status": "completed"}),
        json!({"taskId": "t", "status": 7}),
        json!({"taskId": "t"}),
    ] {
        match source.classify(TaskStateUpdate::from_value(&body).unwrap()) {
            Phase::Running(p) => assert!(!p.recognized, "{body}"),
            _ => panic!("{body}: not running"),
        }
    }
    let t = TaskStateUpdate::from_value(
        &json!({"taskId": "t", "status": "Processing-In-Progress", "progress": 40}),
    )
    .unwrap();
    match source.classify(t) {
        Phase::Running(p) => {
            assert!(p.recognized);
            assert_eq!(p.percent, Some(40.0));
        }
        _ => panic!("not running"),
    }
}

#[test]
fn a_filtered_list_reads_the_same_tasks_as_the_whole_list() {
    let headers = reqwest::header::HeaderMap::new();
    for name in [
        "tasks-list.json",
        "tasks-list-bare-array.json",
        "tasks-list-empty.json",
    ] {
        let raw = std::fs::read(dir().join(name)).unwrap();
        let v: Value = serde_json::from_slice(&raw).unwrap();
        let whole: Vec<TaskStateUpdate> = parse_task_list(&v)
            .unwrap()
            .into_iter()
            .filter(|t| t.task_id.is_some())
            .collect();
        let all =
            taskpoll_redis_cloud::decode::task_list_of(200, &headers, &raw, &|_| true).unwrap();
        assert_eq!(all, whole, "{name}");
        // Only the tasks asked for, each read in full.
        if let Some(first) = whole.first() {
            let id = first.task_id.clone().unwrap();
            let one = taskpoll_redis_cloud::decode::task_list_of(200, &headers, &raw, &|t| t == id)
                .unwrap();
            assert_eq!(one, vec![first.clone()], "{name}");
        }
    }
    // The shapes the whole list reads, and its errors.
    for (body, count) in [
        ("", 0),
        ("null", 0),
        ("{}", 0),
        ("{\"tasks\": null}", 0),
        ("[1, \"x\", {\"taskId\": \"a\"}]", 1),
    ] {
        let got =
            taskpoll_redis_cloud::decode::task_list_of(200, &headers, body.as_bytes(), &|_| true);
        assert_eq!(got.map(|v| v.len()).ok(), Some(count), "{body}");
    }
    for body in ["{\"tasks\": 5}", "7", "{", "[1,"] {
        assert!(
            taskpoll_redis_cloud::decode::task_list_of(200, &headers, body.as_bytes(), &|_| true)
                .is_err(),
            "{body}"
        );
    }
}
