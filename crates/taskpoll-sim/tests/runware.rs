//! The Runware simulator over real HTTP: lifecycle, failures, batches, auth,
//! validation, faults, accounting, and structure checks against the fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{fixture, shape};
use serde_json::{Value, json};
use taskpoll_sim::faults::{Fault, FaultPlan, FaultScope};
use taskpoll_sim::runware::{MediaKind, RunwareSim, RunwareSimConfig, RunwareTaskSpec, TaskType};
use taskpoll_sim::script::Defaults;

struct Api {
    http: reqwest::Client,
    url: String,
    key: String,
}

struct Answer {
    status: u16,
    body: Value,
}

impl Api {
    async fn send(
        &self,
        body: &[u8],
        key: Option<&str>,
    ) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), reqwest::Error> {
        let mut req = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(k) = key {
            req = req.header("authorization", format!("Bearer {k}"));
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await?;
        Ok((status, headers, bytes.to_vec()))
    }

    /// POSTs `body` with the bearer key; the answer parsed as JSON.
    async fn post_as(&self, body: &Value, key: Option<&str>) -> Answer {
        let (status, _, bytes) = self
            .send(&serde_json::to_vec(body).unwrap(), key)
            .await
            .unwrap();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
        Answer { status, body }
    }

    async fn post(&self, body: &Value) -> Answer {
        self.post_as(body, Some(&self.key.clone())).await
    }

    async fn poll(&self, uuid: &str) -> Answer {
        self.post(&json!([{"taskType": "getResponse", "taskUUID": uuid}]))
            .await
    }
}

async fn start(config: RunwareSimConfig) -> (RunwareSim, Api) {
    let sim = RunwareSim::start(config).await.unwrap();
    let api = Api {
        http: reqwest::Client::new(),
        url: sim.base_url(),
        key: sim.api_key().to_owned(),
    };
    (sim, api)
}

fn statuses(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap().to_owned())
        .collect()
}

fn video_request(uuid: &str, results: u32) -> Value {
    json!([{
        "taskType": "videoInference",
        "taskUUID": uuid,
        "model": "klingai:5@3",
        "positivePrompt": "A red fox running through fresh snow at dawn, cinematic",
        "deliveryMethod": "async",
        "numberResults": results,
        "includeCost": true,
    }])
}

/// Replaces values that change between runs (UUIDs, URLs, seeds) with placeholders.
fn redact(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let r = match (k.as_str(), v) {
                        (k, Value::String(_)) if k.ends_with("UUID") => json!("[uuid]"),
                        (k, Value::String(s)) if k.ends_with("URL") => {
                            let (dir, file) = s.rsplit_once('/').unwrap_or(("", s));
                            let ext = file.rsplit_once('.').map_or("", |(_, e)| e);
                            json!(format!("{dir}/[uuid].{ext}"))
                        }
                        ("seed", Value::Number(_)) => json!("[seed]"),
                        _ => redact(v),
                    };
                    (k.clone(), r)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_results_finish_one_by_one_in_a_stable_order() {
    let (sim, api) = start(RunwareSimConfig::default()).await;
    let uuid =
        sim.create_task(RunwareTaskSpec::new(MediaKind::Video, 4).finish_after_polls([1, 2, 3, 4]));
    let mut seen: Vec<String> = Vec::new();
    let expected = [
        ["processing", "processing", "processing", "processing"],
        ["success", "processing", "processing", "processing"],
        ["success", "success", "processing", "processing"],
        ["success", "success", "success", "processing"],
        ["success", "success", "success", "success"],
    ];
    for (poll, want) in expected.iter().enumerate() {
        let a = api.poll(&uuid).await;
        assert_eq!(a.status, 200);
        assert!(
            a.body.get("errors").is_none(),
            "errors key must be omitted: {}",
            a.body
        );
        assert_eq!(statuses(&a.body), want, "poll {}", poll + 1);
        let items = a.body["data"].as_array().unwrap();
        for item in items {
            assert_eq!(item["taskType"], "videoInference");
            assert_eq!(item["taskUUID"], uuid.as_str());
        }
        // Finished items repeat with the same media UUID in the same position.
        for (i, item) in items
            .iter()
            .enumerate()
            .filter(|(_, i)| i["status"] == "success")
        {
            let media = item["videoUUID"].as_str().unwrap().to_owned();
            assert!(item["videoURL"].as_str().unwrap().contains(&media));
            assert!(item["cost"].is_f64() && item["seed"].is_u64());
            match seen.get(i) {
                Some(prev) => assert_eq!(prev, &media),
                None => seen.push(media),
            }
        }
        if poll < 4 {
            assert!(sim.finished_at(&uuid).is_none());
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 4, "each result has its own videoUUID");
    assert!(sim.finished_at(&uuid).is_some());
    assert_eq!(sim.counts().task(&uuid), 5);
    assert_eq!(sim.counts().endpoint("POST /v1 getResponse"), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_finish_at_scripted_times() {
    let (sim, api) = start(RunwareSimConfig::default()).await;
    let ms = Duration::from_millis;
    let uuid = sim.create_task(
        RunwareTaskSpec::new(MediaKind::Video, 2)
            .finish_after([ms(0), ms(150)])
            .with_progress(),
    );
    let a = api.poll(&uuid).await;
    assert_eq!(statuses(&a.body), ["success", "processing"]);
    let progress = a.body["data"][1]["progress"].as_u64().unwrap();
    assert!(progress < 100);
    tokio::time::sleep(ms(200)).await;
    let a = api.poll(&uuid).await;
    assert_eq!(statuses(&a.body), ["success", "success"]);
    assert!(a.body["data"][1].get("progress").is_none());
    let created_to_end = sim.finished_at(&uuid).unwrap();
    assert!(created_to_end <= tokio::time::Instant::now());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_task_has_image_fields() {
    let (sim, api) = start(RunwareSimConfig::default()).await;
    let uuid = sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1));
    let a = api.poll(&uuid).await;
    assert_eq!(a.status, 200);
    let item = &a.body["data"][0];
    assert_eq!(item["taskType"], "imageInference");
    assert_eq!(item["status"], "success");
    assert!(item["imageURL"].as_str().unwrap().ends_with(".jpg"));
    assert_eq!(
        shape(&a.body),
        shape(&fixture("runware", "get-response-image-success.json"))
    );
    insta::assert_json_snapshot!("runware_image_success", redact(&a.body));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_after_two_results_keeps_them_in_data() {
    let (sim, api) = start(RunwareSimConfig::default()).await;
    let uuid = sim.create_task(
        RunwareTaskSpec::new(MediaKind::Video, 4)
            .finish_after_polls([1, 2, 3, 4])
            .fail_after(
                2,
                "timeoutProvider",
                "The provider did not respond in time; the generation was stopped.",
            ),
    );
    for _ in 0..3 {
        let a = api.poll(&uuid).await;
        assert!(a.body.get("errors").is_none());
    }
    // Poll 4: result 2 is due and fails; results 0 and 1 stay in `data`.
    for _ in 0..2 {
        let a = api.poll(&uuid).await;
        assert_eq!(a.status, 200);
        assert_eq!(statuses(&a.body), ["success", "success"]);
        let errors = a.body["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0]["code"], "timeoutProvider");
        assert_eq!(errors[0]["status"], "error");
        assert_eq!(errors[0]["taskUUID"], uuid.as_str());
        assert_eq!(errors[0]["taskType"], "videoInference");
        assert_eq!(
            shape(&a.body),
            shape(&fixture("runware", "get-response-failed.json"))
        );
        insta::assert_json_snapshot!("runware_failed_after_two", redact(&a.body));
    }
    assert!(sim.finished_at(&uuid).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_level_error_mode() {
    let config = RunwareSimConfig {
        item_errors: true,
        failed_task_status: 400,
        ..RunwareSimConfig::default()
    };
    let (sim, api) = start(config).await;
    let uuid = sim.create_task(RunwareTaskSpec::new(MediaKind::Video, 1).fail_after(
        0,
        "providerContentPolicyViolation",
        "The provider rejected the prompt under its content policy.",
    ));
    let a = api.poll(&uuid).await;
    assert_eq!(a.status, 400);
    assert!(a.body.get("errors").is_none());
    assert_eq!(a.body["data"][0]["status"], "error");
    assert_eq!(
        a.body["data"][0]["error"]["code"],
        "providerContentPolicyViolation"
    );
    assert_eq!(
        shape(&a.body),
        shape(&fixture("runware", "get-response-item-error.json"))
    );

    let two = sim.create_task(
        RunwareTaskSpec::new(MediaKind::Video, 3)
            .fail_after(2, "timeoutProvider", "late")
            .include_cost(false),
    );
    let a = api.poll(&two).await;
    assert_eq!(statuses(&a.body), ["success", "success", "error"]);
    assert!(a.body["data"][0].get("cost").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processing_shapes_match_the_fixtures() {
    let (sim, api) = start(RunwareSimConfig::default()).await;
    let plain =
        sim.create_task(RunwareTaskSpec::new(MediaKind::Video, 2).finish_after_polls([5, 5]));
    let a = api.poll(&plain).await;
    assert_eq!(
        shape(&a.body),
        shape(&fixture("runware", "get-response-all-processing.json"))
    );
    insta::assert_json_snapshot!("runware_all_processing", redact(&a.body));

    let progress = sim.create_task(
        RunwareTaskSpec::new(MediaKind::Video, 2)
            .finish_after_polls([3, 9])
            .with_progress(),
    );
    let a = api.poll(&progress).await;
    assert_eq!(
        shape(&a.body),
        shape(&fixture("runware", "get-response-processing-progress.json"))
    );
    assert_eq!(a.body["data"][0]["progress"], 25);
    assert_eq!(a.body["data"][1]["progress"], 10);

    let partial =
        sim.create_task(RunwareTaskSpec::new(MediaKind::Video, 2).finish_after_polls([0, 5]));
    let a = api.poll(&partial).await;
    assert_eq!(
        shape(&a.body),
        shape(&fixture("runware", "get-response-partial.json"))
    );
    insta::assert_json_snapshot!("runware_partial", redact(&a.body));

    let done = sim.create_task(RunwareTaskSpec::new(MediaKind::Video, 2));
    let a = api.poll(&done).await;
    assert_eq!(
        shape(&a.body),
        shape(&fixture("runware", "get-response-all-done.json"))
    );
    let uuids: Vec<&str> = a.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["videoUUID"].as_str().unwrap())
        .collect();
    assert_ne!(uuids[0], uuids[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_get_response_answers_the_union() {
    let (sim, api) = start(RunwareSimConfig::default()).await;
    let request = fixture("runware", "request-get-response-batch.json");
    let video = request[0]["taskUUID"].as_str().unwrap().to_owned();
    let image = request[1]["taskUUID"].as_str().unwrap().to_owned();
    sim.create_task(
        RunwareTaskSpec::new(MediaKind::Video, 2)
            .finish_after_polls([0, 3])
            .task_uuid(&video),
    );
    sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1).task_uuid(&image));
    let a = api.post(&request).await;
    assert_eq!(a.status, 200);
    let data = a.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    let of = |uuid: &str| data.iter().filter(|i| i["taskUUID"] == uuid).count();
    assert_eq!(of(&video), 2);
    assert_eq!(of(&image), 1);

    // With an unknown id in the batch: the known ones answer, the unknown one errs.
    let unknown = uuid::Uuid::new_v4().to_string();
    let a = api
        .post(&json!([
            {"taskType": "getResponse", "taskUUID": video},
            {"taskType": "getResponse", "taskUUID": unknown},
        ]))
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(a.body["errors"][0]["code"], "taskFailedOrNotFound");
    assert_eq!(a.body["errors"][0]["taskUUID"], unknown.as_str());

    let counts = sim.counts();
    assert_eq!(counts.total, 2);
    assert_eq!(counts.endpoint("POST /v1 getResponse"), 2);
    assert_eq!(counts.task(&video), 2);
    assert_eq!(counts.task(&image), 1);
    assert_eq!(counts.task(&unknown), 1);
    let log = sim.requests();
    assert_eq!(log[0].task_ids, [video.clone(), image.clone()]);
    assert_eq!(log[0].target, "/v1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_task_answers_task_failed_or_not_found() {
    let (_sim, api) = start(RunwareSimConfig::default()).await;
    let unknown = "00000000-0000-4000-8000-000000000000";
    let a = api.poll(unknown).await;
    assert_eq!(a.status, 200);
    assert!(a.body.get("data").is_none());
    assert_eq!(a.body["errors"][0]["code"], "taskFailedOrNotFound");
    assert_eq!(a.body["errors"][0]["taskType"], "getResponse");
    assert_eq!(a.body, fixture("runware", "get-response-unknown-task.json"));

    let config = RunwareSimConfig {
        unknown_task_status: 404,
        unknown_task_code: "taskNotFound".into(),
        ..RunwareSimConfig::default()
    };
    let (_sim, api) = start(config).await;
    let a = api.poll(unknown).await;
    assert_eq!(a.status, 404);
    assert_eq!(a.body["errors"][0]["code"], "taskNotFound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_tasks_expire_after_the_retention() {
    let config = RunwareSimConfig {
        retention: Some(Duration::from_millis(50)),
        ..RunwareSimConfig::default()
    };
    let (sim, api) = start(config).await;
    let uuid = sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1));
    assert_eq!(statuses(&api.poll(&uuid).await.body), ["success"]);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let a = api.poll(&uuid).await;
    assert_eq!(a.body["errors"][0]["code"], "taskFailedOrNotFound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_are_acknowledged_at_once() {
    let (sim, api) = start(RunwareSimConfig::default()).await;
    let request = fixture("runware", "request-video-async.json");
    let a = api.post(&request).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body, fixture("runware", "ack.json"));
    let uuid = request[0]["taskUUID"].as_str().unwrap();
    // Polled at once, Runware does not show the task yet; polled again, both results
    // are processing (default task time 3 s).
    let p = api.poll(uuid).await;
    assert_eq!(p.body["errors"][0]["code"], "taskFailedOrNotFound");
    let p = api.poll(uuid).await;
    assert_eq!(statuses(&p.body), ["processing", "processing"]);

    let image = fixture("runware", "request-image-async.json");
    let a = api.post(&image).await;
    assert_eq!(a.status, 200);
    assert_eq!(shape(&a.body), shape(&fixture("runware", "ack.json")));
    assert_eq!(a.body["data"][0]["taskType"], "imageInference");
    assert_eq!(sim.counts().endpoint("POST /v1 videoInference"), 1);
    assert_eq!(sim.counts().endpoint("POST /v1 imageInference"), 1);
    assert_eq!(sim.counts().endpoint("POST /v1 getResponse"), 2);

    let (_sim, api) = start(RunwareSimConfig {
        empty_ack: true,
        ..RunwareSimConfig::default()
    })
    .await;
    let a = api.post(&request).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body, fixture("runware", "ack-empty.json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_follow_the_defaults() {
    let config = RunwareSimConfig {
        defaults: Defaults {
            task_time: Duration::from_millis(100),
            fail_every: Some(2),
        },
        result_index: true,
        not_found_polls: 0,
        ..RunwareSimConfig::default()
    };
    let (sim, api) = start(config).await;
    let ok = uuid::Uuid::new_v4().to_string();
    let bad = uuid::Uuid::new_v4().to_string();
    assert_eq!(api.post(&video_request(&ok, 2)).await.status, 200);
    assert_eq!(api.post(&video_request(&bad, 2)).await.status, 200);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let a = api.poll(&ok).await;
    assert_eq!(statuses(&a.body), ["success", "success"]);
    assert_eq!(a.body["data"][1]["resultIndex"], 1);
    let a = api.poll(&bad).await;
    assert_eq!(statuses(&a.body), ["success"]);
    assert_eq!(a.body["errors"][0]["code"], "timeoutProvider");
    assert!(sim.finished_at(&bad).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_task_uuid_is_a_conflict() {
    let (_sim, api) = start(RunwareSimConfig::default()).await;
    let request = fixture("runware", "request-video-async.json");
    assert_eq!(api.post(&request).await.status, 200);
    let a = api.post(&request).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.body, fixture("runware", "error-conflict-task-uuid.json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_submissions_are_refused_with_validation_errors() {
    let (sim, api) = start(RunwareSimConfig::default()).await;
    let uuid = "6f1c2a3e-0b7d-4e0a-9a51-2f3c4d5e6f70";
    let mut request = video_request(uuid, 1);
    request[0]["duration"] = json!(6);
    let a = api.post(&request).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.body["data"], json!([]));
    assert_eq!(a.body["errors"][0]["code"], "unsupportedDuration");
    assert_eq!(
        shape(&a.body),
        shape(&fixture("runware", "error-submit-validation.json"))
    );
    insta::assert_json_snapshot!("runware_validation_duration", a.body);

    let cases = [
        ("taskUUID", json!("not-a-uuid"), "invalidTaskUUID"),
        ("model", Value::Null, "missingModel"),
        ("positivePrompt", json!(42), "invalidPositivePrompt"),
        ("numberResults", json!(0), "invalidNumberResults"),
        ("numberResults", json!(21), "invalidNumberResults"),
        ("includeCost", json!("yes"), "invalidIncludeCost"),
        ("deliveryMethod", json!("sync"), "invalidDeliveryMethod"),
    ];
    for (param, value, code) in cases {
        let mut request = video_request(&uuid::Uuid::new_v4().to_string(), 1);
        if value.is_null() {
            request[0].as_object_mut().unwrap().remove(param);
        } else {
            request[0][param] = value;
        }
        let a = api.post(&request).await;
        assert_eq!(a.status, 400, "{param}");
        let e = &a.body["errors"][0];
        assert_eq!(e["code"], code, "{param}");
        assert_eq!(e["parameter"], param);
        assert_eq!(e["taskType"], "videoInference");
        assert!(
            e["documentation"]
                .as_str()
                .unwrap()
                .starts_with("https://runware.ai/docs/")
        );
        assert!(e["message"].as_str().is_some());
    }
    // An image without deliveryMethod is a sync request (Runware's default).
    let image = json!([{"taskType": "imageInference", "taskUUID": uuid::Uuid::new_v4().to_string(),
        "model": "runware:100@1", "positivePrompt": "a lighthouse"}]);
    assert_eq!(
        api.post(&image).await.body["errors"][0]["code"],
        "invalidDeliveryMethod"
    );
    // A poll needs a UUID too; an unknown taskType is refused.
    let a = api.poll("nope").await;
    assert_eq!(
        (a.status, a.body["errors"][0]["code"].as_str()),
        (400, Some("invalidTaskUUID"))
    );
    let a = api
        .post(&json!([{"taskType": "textInference", "taskUUID": uuid}]))
        .await;
    assert_eq!(a.body["errors"][0]["code"], "invalidTaskType");
    // Not an array.
    let a = api.post(&json!({"taskType": "getResponse"})).await;
    assert_eq!(
        (a.status, a.body["errors"][0]["code"].as_str()),
        (400, Some("invalidRequestBody"))
    );
    assert_eq!(sim.counts().by_status.get(&400).copied(), Some(12));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_in_the_header_or_in_the_body() {
    let config = RunwareSimConfig {
        api_key: "rw-test-0123456789abcdef".into(),
        ..RunwareSimConfig::default()
    };
    let (sim, api) = start(config).await;
    let request = fixture("runware", "request-auth-in-body.json");
    let uuid = request[1]["taskUUID"].as_str().unwrap().to_owned();
    sim.create_task(RunwareTaskSpec::new(MediaKind::Video, 1).task_uuid(&uuid));
    // In the body, no header.
    let a = api.post_as(&request, None).await;
    assert_eq!(a.status, 200);
    assert_eq!(statuses(&a.body), ["success"]);
    // In the header.
    let a = api.poll(&uuid).await;
    assert_eq!(a.status, 200);
    // The body element alone is answered with a session.
    let a = api.post_as(&json!([request[0]]), None).await;
    assert_eq!(a.body["data"][0]["taskType"], "authentication");
    assert!(a.body["data"][0]["connectionSessionUUID"].is_string());
    // The schema forbids other keys in the authentication element.
    let mut extra = request.clone();
    extra[0]["user"] = json!("x");
    let a = api.post_as(&extra, None).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.body["errors"][0]["code"], "unknownParameter");
    // Every request naming the task is counted, the refused one too.
    assert_eq!(sim.counts().task(&uuid), 3);
    assert_eq!(sim.counts().endpoint("POST /v1 getResponse"), 3);
    assert_eq!(sim.counts().endpoint("POST /v1"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_or_missing_key_is_refused_with_401() {
    let (sim, api) = start(RunwareSimConfig::default()).await;
    let uuid = sim.create_task(RunwareTaskSpec::new(MediaKind::Video, 1));
    let poll = json!([{"taskType": "getResponse", "taskUUID": uuid}]);
    let want = fixture("runware", "error-invalid-api-key.json");
    for key in [Some("wrong"), None, Some("")] {
        let a = api.post_as(&poll, key).await;
        assert_eq!(a.status, 401, "{key:?}");
        assert_eq!(shape(&a.body), shape(&want));
        assert_eq!(a.body["errors"][0]["code"], "invalidApiKey");
        assert_eq!(a.body["errors"][0]["parameter"], "apiKey");
        assert_eq!(a.body["errors"][0]["taskType"], "authentication");
    }
    let in_body = json!([{"taskType": "authentication", "apiKey": "wrong"}, poll[0]]);
    assert_eq!(
        api.post_as(&in_body, Some(&api.key.clone())).await.status,
        401
    );
    // A refused request does not poll the task.
    assert_eq!(statuses(&api.poll(&uuid).await.body), ["success"]);
    insta::assert_json_snapshot!(
        "runware_invalid_api_key",
        api.post_as(&poll, None).await.body
    );
    assert_eq!(sim.counts().status(401), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_kind_is_rendered_the_runware_way() {
    let (sim, api) = start(RunwareSimConfig::default()).await;
    let uuid = sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1));
    let poll = serde_json::to_vec(&json!([{"taskType": "getResponse", "taskUUID": uuid}])).unwrap();
    let key = api.key.clone();
    let plan = FaultPlan::default()
        .at(1, Fault::ServerError { status: 500 })
        .at(2, Fault::ServerError { status: 502 })
        .at(3, Fault::ServerError { status: 503 })
        .at(4, Fault::ServerError { status: 504 })
        .at(
            5,
            Fault::RateLimited {
                retry_after_secs: Some(2),
            },
        )
        .at(6, Fault::Reset)
        .at(7, Fault::Malformed)
        .at(8, Fault::Truncated)
        .at(9, Fault::NonJson { status: 502 })
        .at(10, Fault::Slow { millis: 150 });
    sim.set_faults(plan);

    for (status, code) in [
        (500, "internalServerError"),
        (502, "badGateway"),
        (503, "serviceUnavailable"),
        (504, "gatewayTimeout"),
    ] {
        let (s, _, body) = api.send(&poll, Some(&key)).await.unwrap();
        assert_eq!(s, status);
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["errors"][0]["code"], code);
        assert!(body.get("data").is_none());
    }
    let (s, headers, body) = api.send(&poll, Some(&key)).await.unwrap();
    assert_eq!(s, 429);
    assert_eq!(headers["retry-after"], "2");
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["errors"][0]["code"], "rateLimitExceeded");

    assert!(api.send(&poll, Some(&key)).await.is_err(), "reset");

    let (s, _, body) = api.send(&poll, Some(&key)).await.unwrap();
    assert_eq!(s, 200);
    assert!(serde_json::from_slice::<Value>(&body).is_err(), "malformed");

    let (s, _, body) = api.send(&poll, Some(&key)).await.unwrap();
    assert_eq!(s, 200);
    assert!(serde_json::from_slice::<Value>(&body).is_err(), "truncated");
    assert!(body.starts_with(b"{\"data\":[{"));

    let (s, headers, body) = api.send(&poll, Some(&key)).await.unwrap();
    assert_eq!(s, 502);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(String::from_utf8_lossy(&body).contains("<html>"));

    let began = std::time::Instant::now();
    let (s, _, body) = api.send(&poll, Some(&key)).await.unwrap();
    assert!(began.elapsed() >= Duration::from_millis(150));
    assert_eq!(s, 200);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(statuses(&body), ["success"]);

    let counts = sim.counts();
    assert_eq!(counts.total, 10);
    assert_eq!(counts.faults, 10);
    assert_eq!(counts.status(429), 1);
    assert_eq!(counts.task(&uuid), 10);
    // The 429 asked for 2 s; polling again at once is a violation.
    assert_eq!(counts.retry_after_violations, 1);

    // Status-scoped faults leave submissions alone; scope `all` reaches them.
    sim.set_faults(FaultPlan::default().at(1, Fault::ServerError { status: 503 }));
    let fresh = uuid::Uuid::new_v4().to_string();
    assert_eq!(api.post(&video_request(&fresh, 1)).await.status, 200);
    sim.set_faults(FaultPlan {
        scope: FaultScope::All,
        ..FaultPlan::default().at(1, Fault::ServerError { status: 503 })
    });
    let fresh = uuid::Uuid::new_v4().to_string();
    assert_eq!(api.post(&video_request(&fresh, 1)).await.status, 503);
    // The faulted submission was not accepted.
    assert_eq!(
        api.poll(&fresh).await.body["errors"][0]["code"],
        "taskFailedOrNotFound"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_api_creates_tasks_and_reports_counts() {
    let (sim, api) = start(RunwareSimConfig::default()).await;
    let root = sim.base_url().trim_end_matches("/v1").to_owned();
    let http = reqwest::Client::new();
    let spec = json!({"kind": "video", "results": 2, "finish": [{"polls": 1}, {"millis": 0}]});
    let resp = http
        .post(format!("{root}/_sim/tasks"))
        .body(spec.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let created: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    let uuid = created["taskUUID"].as_str().unwrap().to_owned();
    assert_eq!(
        statuses(&api.poll(&uuid).await.body),
        ["processing", "success"]
    );
    assert_eq!(
        statuses(&api.poll(&uuid).await.body),
        ["success", "success"]
    );

    let bad = http
        .post(format!("{root}/_sim/tasks"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);

    let counts: Value = serde_json::from_slice(
        &http
            .get(format!("{root}/_sim/counts"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(counts["total"], 2);
    assert_eq!(counts["by_endpoint"]["POST /v1 getResponse"], 2);
    let reset = http
        .post(format!("{root}/_sim/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status().as_u16(), 204);
    assert_eq!(sim.counts().total, 0);
    assert_eq!(
        api.poll(&uuid).await.body["errors"][0]["code"],
        "taskFailedOrNotFound"
    );
    sim.reset();
    assert_eq!(sim.counts().total, 0);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_requests_are_labelled_by_their_task_types() {
    let (sim, api) = start(RunwareSimConfig::default()).await;
    let known = sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1));
    let fresh = uuid::Uuid::new_v4().to_string();
    let mut request = video_request(&fresh, 1);
    request
        .as_array_mut()
        .unwrap()
        .push(json!({"taskType": "getResponse", "taskUUID": known}));
    let a = api.post(&request).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        sim.counts().endpoint("POST /v1 videoInference+getResponse"),
        1
    );
    assert_eq!(sim.requests()[0].task_ids, [known]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitted_task_is_unknown_to_its_first_poll() {
    let config = RunwareSimConfig {
        defaults: Defaults {
            task_time: Duration::ZERO,
            fail_every: None,
        },
        ..RunwareSimConfig::default()
    };
    let (sim, api) = start(config.clone()).await;
    let uuid = uuid::Uuid::new_v4().to_string();
    assert_eq!(api.post(&video_request(&uuid, 1)).await.status, 200);
    // Right after the submission: the unknown-task answer, as for any unknown task.
    let a = api.poll(&uuid).await;
    assert_eq!(a.status, 200);
    assert_eq!(
        shape(&a.body),
        shape(&fixture("runware", "get-response-unknown-task.json"))
    );
    assert_eq!(a.body["errors"][0]["taskUUID"], uuid.as_str());
    assert_eq!(statuses(&api.poll(&uuid).await.body), ["success"]);

    // Poll-counted results count only the polls that showed the task.
    let scripted = sim.create_task(
        RunwareTaskSpec::new(MediaKind::Image, 1)
            .finish_after_polls([1])
            .not_found_polls(2),
    );
    for _ in 0..2 {
        assert_eq!(
            api.poll(&scripted).await.body["errors"][0]["code"],
            "taskFailedOrNotFound"
        );
    }
    assert_eq!(statuses(&api.poll(&scripted).await.body), ["processing"]);
    assert_eq!(statuses(&api.poll(&scripted).await.body), ["success"]);
    // A scripted task exists already: shown at the first poll unless its spec says.
    let at_once = sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1));
    assert_eq!(statuses(&api.poll(&at_once).await.body), ["success"]);
    let spec: RunwareTaskSpec =
        serde_json::from_value(json!({"kind": "image", "results": 1, "not_found_polls": 1}))
            .unwrap();
    assert_eq!(spec.not_found_polls, 1);

    // `not_found_polls: 0` shows submissions at once; more hides them longer.
    for hidden in [0, 3] {
        let (_sim, api) = start(RunwareSimConfig {
            not_found_polls: hidden,
            ..config.clone()
        })
        .await;
        let uuid = uuid::Uuid::new_v4().to_string();
        api.post(&video_request(&uuid, 1)).await;
        for _ in 0..hidden {
            assert!(api.poll(&uuid).await.body.get("data").is_none());
        }
        assert_eq!(statuses(&api.poll(&uuid).await.body), ["success"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_unknown_tasks_are_answered_with_empty_data() {
    let (sim, api) = start(RunwareSimConfig {
        silent_unknown_tasks: true,
        ..RunwareSimConfig::default()
    })
    .await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let a = api.poll(&unknown).await;
    assert_eq!((a.status, a.body.clone()), (200, json!({"data": []})));
    // Next to a known task, the unknown one is simply absent.
    let known = sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1));
    let a = api
        .post(&json!([
            {"taskType": "getResponse", "taskUUID": unknown},
            {"taskType": "getResponse", "taskUUID": known},
        ]))
        .await;
    assert_eq!(a.status, 200);
    assert!(a.body.get("errors").is_none());
    let data = a.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["taskUUID"], known.as_str());
    // A submitted task not shown yet is silent too.
    let fresh = uuid::Uuid::new_v4().to_string();
    api.post(&video_request(&fresh, 1)).await;
    assert_eq!(api.poll(&fresh).await.body, json!({"data": []}));
    assert_eq!(statuses(&api.poll(&fresh).await.body), ["processing"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_answer_limit_leaves_later_polls_unanswered() {
    let (sim, api) = start(RunwareSimConfig {
        batch_answer_limit: Some(1),
        ..RunwareSimConfig::default()
    })
    .await;
    let first = sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1).finish_after_polls([1]));
    let second = sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1).finish_after_polls([1]));
    let both = json!([
        {"taskType": "getResponse", "taskUUID": first},
        {"taskType": "getResponse", "taskUUID": second},
    ]);
    let a = api.post(&both).await;
    assert_eq!(a.status, 200);
    let data = a.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["taskUUID"], first.as_str());
    // The left-out poll did not count: the second task's first shown poll is next.
    assert_eq!(statuses(&api.poll(&second).await.body), ["processing"]);
    assert_eq!(statuses(&api.poll(&second).await.body), ["success"]);
    // The request still named both tasks.
    assert_eq!(sim.requests()[0].task_ids, [first, second]);
}

/// A submission of `task_type` with `params`, async.
fn submission(task_type: &str, uuid: &str, params: Value) -> Value {
    let mut task = json!({"taskType": task_type, "taskUUID": uuid, "deliveryMethod": "async"});
    for (k, v) in params.as_object().unwrap() {
        task[k] = v.clone();
    }
    json!([task])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_task_types_answer_their_own_result_fields() {
    let (sim, api) = start(RunwareSimConfig {
        not_found_polls: 0,
        defaults: Defaults {
            task_time: Duration::ZERO,
            fail_every: None,
        },
        ..RunwareSimConfig::default()
    })
    .await;
    let cases = [
        (
            "audioInference",
            json!({"model": "minimax:music@2.6", "positivePrompt": "calm piano", "numberResults": 2, "includeCost": true}),
            2,
            &["audioUUID", "audioURL", "seed", "cost"][..],
            &["NSFWContent", "mediaUUID"][..],
        ),
        (
            "upscale",
            json!({"model": "runware:504@1", "inputs": {"image": "https://example.com/a.png"}, "includeCost": true}),
            1,
            &["mediaUUID", "mediaURL", "cost"][..],
            &["seed", "imageUUID"][..],
        ),
        (
            "removeBackground",
            json!({"inputs": {"image": "https://example.com/a.png"}}),
            1,
            &["mediaUUID", "mediaURL"][..],
            &["seed", "cost", "imageUUID"][..],
        ),
        (
            "upscale",
            json!({"inputImage": "https://example.com/a.png", "upscaleFactor": 2}),
            1,
            &["imageUUID", "imageURL"][..],
            &["mediaUUID"][..],
        ),
        (
            "videoInference",
            json!({"model": "klingai:5@3", "frameImages": [{"inputImage": "https://example.com/a.png"}]}),
            1,
            &["videoUUID", "videoURL", "seed", "NSFWContent"][..],
            &["mediaUUID"][..],
        ),
    ];
    for (task_type, params, n, present, absent) in cases {
        let uuid = uuid::Uuid::new_v4().to_string();
        let a = api.post(&submission(task_type, &uuid, params)).await;
        assert_eq!(a.status, 200, "{task_type}: {}", a.body);
        assert_eq!(a.body["data"][0]["taskType"], task_type);
        let p = api.poll(&uuid).await;
        let data = p.body["data"].as_array().unwrap();
        assert_eq!(data.len(), n, "{task_type}");
        for item in data {
            assert_eq!(item["taskType"], task_type);
            assert_eq!(item["status"], "success");
            for key in present {
                assert!(item.get(*key).is_some(), "{task_type}: {key} in {item}");
            }
            for key in absent {
                assert!(item.get(*key).is_none(), "{task_type}: no {key} in {item}");
            }
            let (id_key, url_key) = present.split_at(1);
            let id = item[id_key[0]].as_str().unwrap();
            assert!(item[url_key[0]].as_str().unwrap().contains(id));
        }
        if n == 2 {
            let key = present[0];
            assert_ne!(data[0][key], data[1][key], "distinct result ids");
        }
    }
    assert_eq!(sim.counts().endpoint("POST /v1 audioInference"), 1);
    assert_eq!(sim.counts().endpoint("POST /v1 upscale"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_upload_goes_through_its_stages_to_ready() {
    let (sim, api) = start(RunwareSimConfig::default()).await;
    let uuid =
        sim.create_task(RunwareTaskSpec::of(TaskType::ModelUpload, 1).finish_after_polls([7]));
    let mut words = Vec::new();
    for _ in 0..8 {
        let a = api.poll(&uuid).await;
        let item = &a.body["data"][0];
        assert_eq!(item["taskType"], "modelUpload");
        words.push(item["status"].as_str().unwrap().to_owned());
    }
    words.dedup();
    assert_eq!(
        words,
        ["validated", "downloaded", "optimized", "stored", "ready"]
    );
    let done = api.poll(&uuid).await;
    assert_eq!(done.body["data"][0]["air"], "runware:sim@1");

    // Submitted: the air given is the one shown; numberResults is not a parameter.
    let fresh = uuid::Uuid::new_v4().to_string();
    let a = api
        .post(&submission(
            "modelUpload",
            &fresh,
            json!({"air": "example:42@1", "category": "lora", "downloadURL": "https://example.com/m.safetensors"}),
        ))
        .await;
    assert_eq!(a.status, 200);
    // A failure: top-level errors, or with item-level errors a `failed` item.
    let (sim, api) = start(RunwareSimConfig {
        item_errors: true,
        ..RunwareSimConfig::default()
    })
    .await;
    let failing = sim.create_task(RunwareTaskSpec::of(TaskType::ModelUpload, 1).fail_after(
        0,
        "invalidModelFile",
        "bad file",
    ));
    let a = api.poll(&failing).await;
    assert_eq!(a.body["data"][0]["status"], "failed");
    assert_eq!(a.body["data"][0]["error"]["code"], "invalidModelFile");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_task_types_are_validated() {
    let (_sim, api) = start(RunwareSimConfig::default()).await;
    let cases = [
        // A video needs no prompt (image-to-video); an image does.
        ("videoInference", json!({"model": "klingai:5@3"}), None),
        (
            "imageInference",
            json!({"model": "runware:100@1"}),
            Some(("missingPositivePrompt", "positivePrompt")),
        ),
        (
            "audioInference",
            json!({"positivePrompt": "piano"}),
            Some(("missingModel", "model")),
        ),
        (
            "audioInference",
            json!({"model": "m", "numberResults": 21}),
            Some(("invalidNumberResults", "numberResults")),
        ),
        (
            "upscale",
            json!({"model": "runware:504@1"}),
            Some(("missingInputImage", "inputs.image")),
        ),
        (
            "upscale",
            json!({"inputs": {"image": "x"}, "numberResults": 1}),
            Some(("unknownParameter", "numberResults")),
        ),
        (
            "removeBackground",
            json!({"inputs": {"image": ""}}),
            Some(("missingInputImage", "inputs.image")),
        ),
        (
            "modelUpload",
            json!({"category": "lora"}),
            Some(("missingAir", "air")),
        ),
        (
            "modelUpload",
            json!({"air": "a:1@1", "numberResults": 1}),
            Some(("unknownParameter", "numberResults")),
        ),
    ];
    for (task_type, params, refused) in cases {
        let uuid = uuid::Uuid::new_v4().to_string();
        let a = api
            .post(&submission(task_type, &uuid, params.clone()))
            .await;
        match refused {
            None => assert_eq!(a.status, 200, "{task_type} {params}: {}", a.body),
            Some((code, parameter)) => {
                assert_eq!(a.status, 400, "{task_type} {params}");
                let e = &a.body["errors"][0];
                assert_eq!(e["code"], code, "{task_type} {params}");
                assert_eq!(e["parameter"], parameter);
                assert_eq!(e["taskType"], task_type);
            }
        }
    }
    // Every type but video defaults to sync delivery, which the simulator refuses.
    for task_type in [
        "audioInference",
        "upscale",
        "removeBackground",
        "modelUpload",
    ] {
        let task = json!([{"taskType": task_type, "taskUUID": uuid::Uuid::new_v4().to_string(),
            "model": "m", "air": "a:1@1", "inputs": {"image": "x"}}]);
        assert_eq!(
            api.post(&task).await.body["errors"][0]["code"],
            "invalidDeliveryMethod",
            "{task_type}"
        );
    }
}
