//! The Redis Cloud simulator over real HTTP (plain reqwest): lifecycle, queueing,
//! the 404 window, error forms, faults, auth, rate limit, list shapes, and structure
//! checks against the vendor fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{Api, fixture, shape};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use taskpoll_sim::faults::{Fault, FaultPlan};
use taskpoll_sim::redis_cloud::{
    AuthFailure, ErrorBody, ListForm, RedisCloudSim, RedisCloudSimConfig, TaskOptions,
};
use taskpoll_sim::script::{Defaults, Lasting, ScriptOutcome, ScriptStep, TaskScript};

const VENDOR: &str = "redis-cloud";

/// One answer: status, headers, and the body as JSON (or `Value::String` of the raw
/// text when it is not JSON).
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    text: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Api {
    fn new(sim: &RedisCloudSim) -> Self {
        Api::with_keys(sim.base_url(), sim.api_key(), sim.secret_key())
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("X-Api-Key", &self.key)
            .header("x-api-secret-key", &self.secret)
            .header("accept", "application/json");
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        reply(req.send().await.unwrap()).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> Reply {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    async fn task(&self, id: &str) -> Reply {
        self.get(&format!("/tasks/{id}")).await
    }

    /// One poll of a task: the `status` it shows.
    async fn status(&self, id: &str) -> Value {
        self.task(id).await.body["status"].clone()
    }

    /// Polls a task every 10 ms until it is terminal; returns the terminal body.
    async fn until_done(&self, id: &str) -> Value {
        let began = Instant::now();
        loop {
            let r = self.task(id).await;
            if r.status == StatusCode::OK {
                let status = r.body["status"].as_str().unwrap_or_default().to_owned();
                if status == "processing-completed" || status == "processing-error" {
                    return r.body;
                }
            }
            assert!(
                began.elapsed() < Duration::from_secs(3),
                "task {id} did not finish"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()));
    Reply {
        status,
        headers,
        body,
        text,
    }
}

/// Fast tasks, poll-counted provisioning, and no 404 for new tasks: these tests count
/// polls exactly (the default 404 is tested on its own).
fn quick() -> RedisCloudSimConfig {
    RedisCloudSimConfig {
        defaults: Defaults {
            task_time: Duration::from_millis(60),
            fail_every: None,
        },
        provisioning: Lasting::Polls(2),
        not_found_polls: 0,
        database_provisioning: vec![polls("pending", 2)],
        ..RedisCloudSimConfig::default()
    }
}

async fn boot(config: RedisCloudSimConfig) -> (RedisCloudSim, Api) {
    let sim = RedisCloudSim::start(config).await.unwrap();
    let api = Api::new(&sim);
    (sim, api)
}

fn polls(status: &str, n: u32) -> ScriptStep {
    ScriptStep::for_polls(status, n)
}

fn success(steps: Vec<ScriptStep>, result: Value) -> TaskScript {
    TaskScript {
        steps,
        outcome: ScriptOutcome::Success { result },
    }
}

fn failure(steps: Vec<ScriptStep>, error: Value) -> TaskScript {
    TaskScript {
        steps,
        outcome: ScriptOutcome::Failure { error },
    }
}

fn same_shape(actual: &Value, fixture_name: &str) {
    assert_eq!(
        shape(actual),
        shape(&fixture(VENDOR, fixture_name)),
        "shape differs from {fixture_name}: {actual:#}"
    );
}

fn object_error() -> Value {
    json!({"type": "SUBSCRIPTION_NOT_ACTIVE", "status": "403 FORBIDDEN",
           "description": "Cannot preform any actions for subscription that is not in an active state"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_database_and_delete_lifecycle() {
    let (sim, api) = boot(quick()).await;

    // Create a subscription: 202, a `received` task, no `response`.
    let start = api.post("/subscriptions", json!({"name": "demo"})).await;
    assert_eq!(start.status, StatusCode::ACCEPTED);
    same_shape(&start.body, "start-create-subscription.json");
    insta::assert_json_snapshot!("start_subscription", shape(&start.body));
    assert_eq!(start.body["status"], "received");
    assert_eq!(start.body["commandType"], "subscriptionCreateRequest");
    assert!(start.body.get("response").is_none());
    let task_id = start.body["taskId"].as_str().unwrap().to_owned();
    let link = &start.body["links"][0];
    assert_eq!(link["rel"], "task");
    assert_eq!(link["title"], "getTaskStatusUpdates");
    assert_eq!(link["type"], "GET");
    assert_eq!(link["href"], format!("{}/tasks/{task_id}", sim.base_url()));

    let done = api.until_done(&task_id).await;
    assert_eq!(done["status"], "processing-completed");
    same_shape(&done, "task-completed-subscription.json");
    insta::assert_json_snapshot!("completed_subscription", shape(&done));
    let sub = done["response"]["resourceId"].as_i64().unwrap();
    let links = done["links"].as_array().unwrap();
    assert_eq!(links[0]["rel"], "resource");
    assert_eq!(
        links[0]["href"],
        format!("{}/subscriptions/{sub}", sim.base_url())
    );
    assert_eq!(links[1]["rel"], "self");
    assert!(sim.finished_at(&task_id).is_some());

    // Provisioning: pending for two polls, then active.
    let statuses: Vec<Value> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(api.get(&format!("/subscriptions/{sub}")).await.body["status"].clone());
        }
        v
    };
    assert_eq!(
        statuses,
        [json!("pending"), json!("pending"), json!("active")]
    );

    // A database in it: 202, then resourceId = database, additionalResourceId = subscription.
    let start = api
        .post(
            &format!("/subscriptions/{sub}/databases"),
            json!({"name": "db"}),
        )
        .await;
    assert_eq!(start.status, StatusCode::ACCEPTED);
    same_shape(&start.body, "start-create-database.json");
    assert_eq!(start.body["commandType"], "databaseCreateRequest");
    let done = api.until_done(start.body["taskId"].as_str().unwrap()).await;
    same_shape(&done, "task-completed-database.json");
    insta::assert_json_snapshot!("completed_database", shape(&done));
    assert_eq!(done["response"]["additionalResourceId"], sub);
    let db = done["response"]["resourceId"].as_i64().unwrap();
    assert_eq!(
        done["links"][0]["href"],
        format!("{}/subscriptions/{sub}/databases/{db}", sim.base_url())
    );
    let s = api.get(&format!("/subscriptions/{sub}")).await;
    assert_eq!(s.body["numberOfDatabases"], 1);
    insta::assert_json_snapshot!("subscription", shape(&s.body));
    // The database is provisioning, and its subscription changing with it.
    assert_eq!(s.body["status"], "pending");
    let db_path = format!("/subscriptions/{sub}/databases/{db}");
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(api.get(&db_path).await.body["status"].clone());
    }
    assert_eq!(
        statuses,
        [json!("pending"), json!("pending"), json!("active")]
    );
    assert_eq!(
        api.get(&format!("/subscriptions/{sub}")).await.body["status"],
        "active"
    );

    // Delete: 200 with a `received` task; then deleting, then gone.
    let start = api.delete(&format!("/subscriptions/{sub}")).await;
    assert_eq!(start.status, StatusCode::OK);
    assert_eq!(start.body["commandType"], "subscriptionDeleteRequest");
    let done = api.until_done(start.body["taskId"].as_str().unwrap()).await;
    assert_eq!(done["status"], "processing-completed");
    assert_eq!(done["response"]["resourceId"], sub);
    for _ in 0..2 {
        assert_eq!(
            api.get(&format!("/subscriptions/{sub}")).await.body["status"],
            "deleting"
        );
    }
    let gone = api.get(&format!("/subscriptions/{sub}")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.body["status"], 404);

    let counts = sim.counts();
    assert_eq!(counts.endpoint("POST /v1/subscriptions"), 1);
    assert_eq!(
        counts.endpoint("POST /v1/subscriptions/{subscriptionId}/databases"),
        1
    );
    assert_eq!(
        counts.endpoint("DELETE /v1/subscriptions/{subscriptionId}"),
        1
    );
    assert_eq!(counts.endpoint("GET /v1/subscriptions/{subscriptionId}"), 8);
    assert_eq!(
        counts.endpoint("GET /v1/subscriptions/{subscriptionId}/databases/{databaseId}"),
        3
    );
    assert!(counts.endpoint("GET /v1/tasks/{taskId}") >= 3);
    assert_eq!(counts.total, counts.by_endpoint.values().sum::<u64>());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_on_a_pending_subscription_fails_not_active() {
    let (sim, api) = boot(RedisCloudSimConfig {
        provisioning: Lasting::Polls(100),
        ..quick()
    })
    .await;
    let start = api.post("/subscriptions", json!({})).await;
    let done = api.until_done(start.body["taskId"].as_str().unwrap()).await;
    let sub = done["response"]["resourceId"].as_i64().unwrap();
    let start = api
        .post(&format!("/subscriptions/{sub}/databases"), json!({}))
        .await;
    assert_eq!(start.status, StatusCode::ACCEPTED);
    let done = api.until_done(start.body["taskId"].as_str().unwrap()).await;
    assert_eq!(done["status"], "processing-error");
    assert_eq!(done["response"]["error"]["type"], "SUBSCRIPTION_NOT_ACTIVE");
    same_shape(&done, "task-error-object.json");

    // Unknown subscriptions: 404 at once, no task.
    let r = api.post("/subscriptions/999/databases", json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api.delete("/subscriptions/999").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api.get("/subscriptions/abc").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    sim.shutdown().await;
}

/// Creates a subscription (under `prefix`: `""` or `"/fixed"`) and waits until it is
/// `active`; returns its id.
async fn active_subscription(api: &Api, prefix: &str) -> i64 {
    let start = api
        .post(&format!("{prefix}/subscriptions"), json!({}))
        .await;
    let done = api.until_done(start.body["taskId"].as_str().unwrap()).await;
    let sub = done["response"]["resourceId"].as_i64().unwrap();
    let began = Instant::now();
    while api.get(&format!("{prefix}/subscriptions/{sub}")).await.body["status"] != "active" {
        assert!(began.elapsed() < Duration::from_secs(3), "never active");
    }
    sub
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_routes_and_states() {
    let (sim, api) = boot(RedisCloudSimConfig {
        database_provisioning: vec![
            polls("draft", 1),
            polls("pending", 1),
            polls("active-change-pending", 1),
        ],
        ..quick()
    })
    .await;
    let sub = active_subscription(&api, "").await;
    let start = api
        .post(
            &format!("/subscriptions/{sub}/databases"),
            json!({"name": "cache"}),
        )
        .await;
    let task = start.body["taskId"].as_str().unwrap().to_owned();
    // Unknown until its create task completed (the client learns its id then).
    let next_db = 51_055_029;
    let early = api
        .get(&format!("/subscriptions/{sub}/databases/{next_db}"))
        .await;
    assert_eq!(early.status, StatusCode::NOT_FOUND);
    same_shape(&early.body, "error-404-spring.json");
    let done = api.until_done(&task).await;
    let db = done["response"]["resourceId"].as_i64().unwrap();
    assert_eq!(db, next_db);

    let path = format!("/subscriptions/{sub}/databases/{db}");
    let mut seen = Vec::new();
    for _ in 0..5 {
        let r = api.get(&path).await;
        assert_eq!(r.status, StatusCode::OK);
        seen.push(r.body["status"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        seen,
        [
            "draft",
            "pending",
            "active-change-pending",
            "active",
            "active"
        ]
    );
    let r = api.get(&path).await;
    assert_eq!(r.body["databaseId"], db);
    assert_eq!(r.body["name"], "cache");
    assert!(r.body["publicEndpoint"].as_str().unwrap().contains(':'));
    assert_eq!(
        r.body["links"][0]["href"],
        format!("{}{path}", sim.base_url())
    );
    insta::assert_json_snapshot!("database", shape(&r.body));

    // Another subscription's path, the Essentials path, a bad id: 404, 404, 400.
    let other = api
        .get(&format!("/subscriptions/{}/databases/{db}", sub + 1))
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let fixed = api
        .get(&format!("/fixed/subscriptions/{sub}/databases/{db}"))
        .await;
    assert_eq!(fixed.status, StatusCode::NOT_FOUND);
    let bad = api.get(&format!("/subscriptions/{sub}/databases/x")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        sim.counts()
            .endpoint("GET /v1/subscriptions/{subscriptionId}/databases/{databaseId}"),
        9
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_create_moves_its_subscription_back_to_pending() {
    let (sim, api) = boot(RedisCloudSimConfig {
        database_provisioning: vec![polls("pending", 1)],
        subscription_settle: Lasting::Polls(1),
        ..quick()
    })
    .await;
    let sub = active_subscription(&api, "").await;
    let sub_status = || async {
        api.get(&format!("/subscriptions/{sub}")).await.body["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let create = || async {
        api.post(&format!("/subscriptions/{sub}/databases"), json!({}))
            .await
            .body["taskId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let first = create().await;
    // From the create request on, the subscription is changing ...
    assert_eq!(sub_status().await, "pending");
    // ... so a second create at that moment is refused, as the real API does.
    let second = create().await;
    let refused = api.until_done(&second).await;
    assert_eq!(refused["status"], "processing-error");
    assert_eq!(refused["response"]["error"], object_error());
    same_shape(&refused, "task-error-object.json");

    let done = api.until_done(&first).await;
    assert_eq!(done["status"], "processing-completed");
    let db = done["response"]["resourceId"].as_i64().unwrap();
    assert_eq!(sub_status().await, "pending");
    let db_path = format!("/subscriptions/{sub}/databases/{db}");
    assert_eq!(api.get(&db_path).await.body["status"], "pending");
    assert_eq!(api.get(&db_path).await.body["status"], "active");
    // The database is active; the subscription settles one poll later (the refused
    // create changed nothing).
    assert_eq!(sub_status().await, "pending");
    assert_eq!(sub_status().await, "active");
    let third = create().await;
    assert_eq!(
        api.until_done(&third).await["status"],
        "processing-completed"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_can_end_in_error() {
    let (sim, api) = boot(RedisCloudSimConfig {
        database_provisioning: vec![polls("pending", 1)],
        database_final: "error".into(),
        ..quick()
    })
    .await;
    let sub = active_subscription(&api, "").await;
    let start = api
        .post(&format!("/subscriptions/{sub}/databases"), json!({}))
        .await;
    let done = api.until_done(start.body["taskId"].as_str().unwrap()).await;
    let db = done["response"]["resourceId"].as_i64().unwrap();
    let path = format!("/subscriptions/{sub}/databases/{db}");
    assert_eq!(api.get(&path).await.body["status"], "pending");
    assert_eq!(api.get(&path).await.body["status"], "error");
    // A database that is done, even in error, no longer holds its subscription.
    assert_eq!(
        api.get(&format!("/subscriptions/{sub}")).await.body["status"],
        "active"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn essentials_paths_and_command_types() {
    let (sim, api) = boot(quick()).await;
    let start = api
        .post("/fixed/subscriptions", json!({"name": "free"}))
        .await;
    assert_eq!(start.status, StatusCode::ACCEPTED);
    assert_eq!(start.body["commandType"], "fixedSubscriptionCreateRequest");
    let done = api.until_done(start.body["taskId"].as_str().unwrap()).await;
    let sub = done["response"]["resourceId"].as_i64().unwrap();
    assert_eq!(
        done["links"][0]["href"],
        format!("{}/fixed/subscriptions/{sub}", sim.base_url())
    );
    // Only under /fixed: the Pro path does not know it.
    assert_eq!(
        api.get(&format!("/subscriptions/{sub}")).await.status,
        StatusCode::NOT_FOUND
    );
    let s = api.get(&format!("/fixed/subscriptions/{sub}")).await;
    assert_eq!(s.status, StatusCode::OK);
    assert_eq!(s.body["status"], "pending");
    assert_eq!(s.body["name"], "free");
    assert_eq!(
        api.get(&format!("/fixed/subscriptions/{sub}")).await.body["status"],
        "pending"
    );
    assert_eq!(
        api.get(&format!("/fixed/subscriptions/{sub}")).await.body["status"],
        "active"
    );

    // A database: 200 (the spec's code for this create), then the fixture's shape:
    // resourceId, additionalResourceId, and the resource link under /fixed.
    let start = api
        .post(&format!("/fixed/subscriptions/{sub}/databases"), json!({}))
        .await;
    assert_eq!(start.status, StatusCode::OK);
    same_shape(&start.body, "start-create-database.json");
    assert_eq!(start.body["commandType"], "fixedDatabaseCreateRequest");
    assert_eq!(
        api.post(&format!("/subscriptions/{sub}/databases"), json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let done = api.until_done(start.body["taskId"].as_str().unwrap()).await;
    same_shape(&done, "task-completed-database.json");
    let db = done["response"]["resourceId"].as_i64().unwrap();
    assert_eq!(done["response"]["additionalResourceId"], sub);
    let path = format!("/fixed/subscriptions/{sub}/databases/{db}");
    assert_eq!(done["links"][0]["rel"], "resource");
    assert_eq!(
        done["links"][0]["href"],
        format!("{}{path}", sim.base_url())
    );
    let statuses: Vec<Value> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(api.get(&path).await.body["status"].clone());
        }
        v
    };
    assert_eq!(
        statuses,
        [json!("pending"), json!("pending"), json!("active")]
    );
    assert_eq!(
        api.get(&format!("/fixed/subscriptions/{sub}")).await.body["status"],
        "active"
    );
    let counts = sim.counts();
    assert_eq!(counts.endpoint("POST /v1/fixed/subscriptions"), 1);
    assert_eq!(
        counts.endpoint("POST /v1/fixed/subscriptions/{subscriptionId}/databases"),
        1
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_changing_subscriptions_get_429() {
    let (sim, api) = boot(RedisCloudSimConfig {
        defaults: Defaults {
            task_time: Duration::from_secs(60),
            fail_every: None,
        },
        ..quick()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(
            api.post("/subscriptions", json!({})).await.status,
            StatusCode::ACCEPTED
        );
    }
    let r = api.post("/subscriptions", json!({})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    same_shape(&r.body, "error-429-spring.json");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_task_is_processed_at_a_time() {
    let (sim, api) = boot(quick()).await;
    let first = sim.create_task(success(
        vec![polls("processing-in-progress", 3)],
        json!({"resourceId": 1}),
    ));
    let second = sim.create_task(success(
        vec![polls("processing-in-progress", 1)],
        json!({"resourceId": 2}),
    ));

    // The second waits in `received` (however often it is polled) while the first runs.
    for _ in 0..4 {
        let r = api.task(&second).await;
        assert_eq!(r.body["status"], "received");
        assert_eq!(
            r.body["description"],
            "Task request received and is being queued for processing."
        );
        same_shape(&r.body, "task-received.json");
    }
    assert!(sim.finished_at(&second).is_none());
    for _ in 0..2 {
        let r = api.task(&first).await;
        assert_eq!(r.body["status"], "processing-in-progress");
        same_shape(&r.body, "task-processing-in-progress.json");
        insta::assert_json_snapshot!("processing_in_progress", shape(&r.body));
    }
    assert_eq!(api.status(&second).await, "received");
    // The first's last poll-counted poll ends its script...
    assert_eq!(api.status(&first).await, "processing-in-progress");
    assert!(sim.finished_at(&first).is_some());
    assert_eq!(api.status(&first).await, "processing-completed");

    // Its script starts only now.
    assert_eq!(api.status(&second).await, "processing-in-progress");
    assert_eq!(api.status(&second).await, "processing-completed");
    assert!(sim.finished_at(&second).unwrap() >= sim.finished_at(&first).unwrap());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_processing_is_an_option() {
    let (sim, api) = boot(RedisCloudSimConfig {
        serial_processing: false,
        ..quick()
    })
    .await;
    let _first = sim.create_task(success(
        vec![polls("processing-in-progress", 100)],
        json!({}),
    ));
    let second = sim.create_task(success(vec![polls("processing-in-progress", 1)], json!({})));
    assert_eq!(api.status(&second).await, "processing-in-progress");
    assert_eq!(api.status(&second).await, "processing-completed");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initialized_first_and_time_based_defaults() {
    let (sim, api) = boot(RedisCloudSimConfig {
        initialized_first: true,
        defaults: Defaults {
            task_time: Duration::from_millis(300),
            fail_every: None,
        },
        ..quick()
    })
    .await;
    let start = api.post("/subscriptions", json!({})).await;
    assert_eq!(start.body["status"], "received");
    let id = start.body["taskId"].as_str().unwrap().to_owned();
    let first = api.task(&id).await;
    assert_eq!(first.body["status"], "initialized");
    assert!(first.body.get("description").is_none());
    same_shape(&first.body, "task-initialized.json");
    insta::assert_json_snapshot!("initialized", shape(&first.body));
    let done = api.until_done(&id).await;
    assert_eq!(done["status"], "processing-completed");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_tasks_can_answer_404_first() {
    let (sim, api) = boot(quick()).await;
    let id = sim.create_task_with(
        success(
            vec![polls("initialized", 1), polls("processing-in-progress", 1)],
            json!({"resourceId": 5}),
        ),
        TaskOptions {
            not_found_polls: Some(2),
            ..TaskOptions::default()
        },
    );
    // Hidden from the list too while it is not visible; the list request counts
    // against its unknown window as a GET does.
    assert_eq!(api.get("/tasks").await.body, json!({}));
    for _ in 0..1 {
        let r = api.task(&id).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        same_shape(&r.body, "error-404-spring.json");
        assert_eq!(r.body["message"], format!("Task {id} was not found"));
        assert_eq!(r.body["path"], format!("/v1/tasks/{id}"));
    }
    let seq: Vec<Value> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(api.status(&id).await.clone());
        }
        v
    };
    assert_eq!(
        seq,
        [
            json!("initialized"),
            json!("processing-in-progress"),
            json!("processing-completed")
        ]
    );
    assert_eq!(sim.counts().status(404), 1);
    assert_eq!(sim.counts().task(&id), 4);

    // On by default (one 404, as the Go client's fixture shows), for start endpoints
    // and scripted tasks alike.
    assert_eq!(RedisCloudSimConfig::default().not_found_polls, 1);
    let (sim2, api2) = sim_with_404s().await;
    let scripted = sim2.create_task(success(vec![], json!({})));
    assert_eq!(api2.task(&scripted).await.status, StatusCode::NOT_FOUND);
    assert_eq!(api2.task(&scripted).await.status, StatusCode::OK);
    // A list request moves the window on too: left out once, then listed.
    let listed = sim2.create_task(success(vec![], json!({})));
    let ids = |body: &Value| -> Vec<String> {
        body["tasks"]
            .as_array()
            .map(|t| {
                t.iter()
                    .map(|t| t["taskId"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(!ids(&api2.get("/tasks").await.body).contains(&listed));
    assert!(ids(&api2.get("/tasks").await.body).contains(&listed));
    let start = api2.post("/subscriptions", json!({})).await;
    let id = start.body["taskId"].as_str().unwrap().to_owned();
    assert_eq!(api2.task(&id).await.status, StatusCode::NOT_FOUND);
    assert_eq!(api2.task(&id).await.status, StatusCode::OK);
    sim2.shutdown().await;
    sim.shutdown().await;
}

/// The 404 of a brand-new task as configured by default.
async fn sim_with_404s() -> (RedisCloudSim, Api) {
    boot(RedisCloudSimConfig {
        not_found_polls: RedisCloudSimConfig::default().not_found_polls,
        ..quick()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_tasks_404_spring_or_empty() {
    let (sim, api) = boot(quick()).await;
    let r = api.task("5b0e7d21-3f8a-4c69-9e14-a2d6b8c0f3e5").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    same_shape(&r.body, "error-404-spring.json");
    insta::assert_json_snapshot!("error_404", shape(&r.body));
    assert!(r.header("x-rate-limit-remaining").is_some());
    // Paths outside the API: Spring's 404 without `message`.
    let r = api.get("/nowhere").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    same_shape(&r.body, "error-404-spring-no-message.json");
    sim.shutdown().await;

    let (sim, api) = boot(RedisCloudSimConfig {
        not_found_body: ErrorBody::Empty,
        ..quick()
    })
    .await;
    let r = api.task("nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.text, "");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_forms() {
    let (sim, api) = boot(RedisCloudSimConfig {
        serial_processing: false,
        ..quick()
    })
    .await;
    let object = sim.create_task(failure(vec![], object_error()));
    let mut with_info = object_error();
    with_info["type"] = json!("GENERAL_ERROR");
    with_info["status"] = json!("500 INTERNAL_SERVER_ERROR");
    with_info["additionalInfo"] = json!("rcp-cannot-provision-without-plan");
    let info = sim.create_task(failure(vec![], with_info));
    let string = sim.create_task(failure(vec![], json!("SUBSCRIPTION_NOT_FOUND")));

    let r = api.task(&object).await.body;
    assert_eq!(r["status"], "processing-error");
    assert_eq!(
        r["description"],
        "Task request failed during processing. See error information for failure details."
    );
    assert_eq!(r["response"]["error"], object_error());
    same_shape(&r, "task-error-object.json");
    insta::assert_json_snapshot!("error_object", shape(&r));

    let r = api.task(&info).await.body;
    assert_eq!(
        r["response"]["additionalInfo"],
        "rcp-cannot-provision-without-plan"
    );
    assert!(r["response"]["error"].get("additionalInfo").is_none());
    same_shape(&r, "task-error-additional-info.json");

    let r = api.task(&string).await.body;
    assert_eq!(r["response"]["error"], "SUBSCRIPTION_NOT_FOUND");
    same_shape(&r, "task-error-string.json");
    insta::assert_json_snapshot!("error_string", shape(&r));
    sim.shutdown().await;

    // The string mode sends every object error as its code.
    let (sim, api) = boot(RedisCloudSimConfig {
        string_errors: true,
        ..quick()
    })
    .await;
    let id = sim.create_task(failure(vec![], object_error()));
    let r = api.task(&id).await.body;
    assert_eq!(r["response"]["error"], "SUBSCRIPTION_NOT_ACTIVE");
    sim.shutdown().await;

    // Default scripts fail every n-th start with the documented triple.
    let (sim, api) = boot(RedisCloudSimConfig {
        defaults: Defaults {
            task_time: Duration::from_millis(30),
            fail_every: Some(1),
        },
        ..quick()
    })
    .await;
    let start = api.post("/subscriptions", json!({})).await;
    let done = api.until_done(start.body["taskId"].as_str().unwrap()).await;
    assert_eq!(done["response"]["error"]["type"], "GENERAL_ERROR");
    assert_eq!(
        done["response"]["additionalInfo"],
        "rcp-cannot-provision-without-plan"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_kind_the_redis_way() {
    let (sim, api) = boot(quick()).await;
    let id = sim.create_task(success(
        vec![polls("processing-in-progress", 100)],
        json!({}),
    ));
    sim.set_faults(
        FaultPlan::default()
            .at(1, Fault::ServerError { status: 503 })
            .at(
                2,
                Fault::RateLimited {
                    retry_after_secs: Some(2),
                },
            )
            .at(3, Fault::Reset)
            .at(4, Fault::Malformed)
            .at(5, Fault::Truncated)
            .at(6, Fault::NonJson { status: 502 })
            .at(7, Fault::Slow { millis: 150 })
            .at(8, Fault::ServerError { status: 500 }),
    );
    let r = api.task(&id).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.body["status"], 503);
    assert_eq!(r.body["error"], "Service Unavailable");
    assert_eq!(r.body["path"], format!("/v1/tasks/{id}"));
    insta::assert_json_snapshot!("fault_server_error", shape(&r.body));

    let r = api.task(&id).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.header("retry-after"), Some("2"));
    assert_eq!(r.header("x-rate-limit-remaining"), Some("0"));
    same_shape(&r.body, "error-429-spring.json");

    let err = api
        .http
        .get(format!("{}/tasks/{id}", api.base))
        .header("x-api-key", &api.key)
        .header("x-api-secret-key", &api.secret)
        .send()
        .await;
    // The connection is cut: before the headers arrive or while the body is read.
    let broken = match err {
        Err(_) => true,
        Ok(resp) => resp.bytes().await.is_err(),
    };
    assert!(broken, "reset should break the response");

    let r = api.task(&id).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.is_string(),
        "malformed body parsed as JSON: {}",
        r.text
    );

    let r = api.task(&id).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_string() && r.text.starts_with('{'), "{}", r.text);

    let r = api.task(&id).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    assert!(r.text.contains("<center>nginx</center>"));
    assert_eq!(r.header("content-type"), Some("text/html"));

    let began = Instant::now();
    let r = api.task(&id).await;
    assert!(began.elapsed() >= Duration::from_millis(150));
    assert_eq!(r.body["status"], "processing-in-progress");

    let r = api.task(&id).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);

    let counts = sim.counts();
    assert_eq!(counts.faults, 8);
    assert_eq!(counts.task(&id), 8);
    // The 429 asked for 2 s; the next request came sooner.
    assert!(counts.retry_after_violations >= 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_start_calls_only_in_scope_all() {
    let (sim, api) = boot(quick()).await;
    sim.set_faults(FaultPlan::default().at(1, Fault::ServerError { status: 500 }));
    // Scope `status` (the default): the start call is not touched, the poll is.
    let start = api.post("/subscriptions", json!({})).await;
    assert_eq!(start.status, StatusCode::ACCEPTED);
    let r = api.get("/tasks").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    sim.set_faults(FaultPlan {
        scope: taskpoll_sim::faults::FaultScope::All,
        ..FaultPlan::default().at(1, Fault::ServerError { status: 500 })
    });
    let start = api.post("/subscriptions", json!({})).await;
    assert_eq!(start.status, StatusCode::INTERNAL_SERVER_ERROR);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_failures() {
    let (sim, api) = boot(quick()).await;
    let url = format!("{}/tasks", sim.base_url());
    let cases = [
        (None, None),
        (Some(sim.api_key()), None),
        (None, Some(sim.secret_key())),
        (Some(sim.api_key()), Some("wrong")),
        (Some("wrong"), Some(sim.secret_key())),
    ];
    for (key, secret) in cases {
        let mut req = api.http.get(&url);
        if let Some(k) = key {
            req = req.header("x-api-key", k);
        }
        if let Some(s) = secret {
            req = req.header("x-api-secret-key", s);
        }
        let r = reply(req.send().await.unwrap()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{key:?} {secret:?}");
        same_shape(&r.body, "error-401-spring.json");
        assert!(r.header("x-rate-limit-remaining").is_some());
    }
    // Header names are case-insensitive.
    let r = reply(
        api.http
            .get(&url)
            .header("X-API-KEY", sim.api_key())
            .header("X-Api-Secret-Key", sim.secret_key())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let unauthorized = reply(api.http.get(&url).send().await.unwrap()).await;
    insta::assert_json_snapshot!("error_401", shape(&unauthorized.body));
    assert_eq!(sim.counts().status(401), 6);
    sim.shutdown().await;

    let (sim, api) = boot(RedisCloudSimConfig {
        auth_failure: AuthFailure::NginxHtml,
        ..quick()
    })
    .await;
    let r = reply(
        api.http
            .get(format!("{}/tasks", sim.base_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text.contains("<title>401 Authorization Required</title>"));
    assert!(r.text.contains("<center>nginx</center>"));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_per_key() {
    let (sim, api) = boot(RedisCloudSimConfig {
        rate_limit_per_minute: 3,
        ..quick()
    })
    .await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = api.get("/tasks").await;
        assert_eq!(r.status, StatusCode::OK);
        remaining.push(r.header("x-rate-limit-remaining").unwrap().to_owned());
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let r = api.get("/tasks").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.header("x-rate-limit-remaining"), Some("0"));
    assert_eq!(r.header("retry-after"), None);
    same_shape(&r.body, "error-429-spring.json");
    insta::assert_json_snapshot!("error_429", shape(&r.body));
    // Every endpoint shares the budget.
    assert_eq!(
        api.post("/subscriptions", json!({})).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    sim.shutdown().await;

    let (sim, api) = boot(RedisCloudSimConfig {
        rate_limit_per_minute: 1,
        send_retry_after: true,
        rate_limit_body: ErrorBody::Empty,
        ..quick()
    })
    .await;
    api.get("/tasks").await;
    let r = api.get("/tasks").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.text, "");
    let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&secs));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_rate_window() {
    let window = Duration::from_millis(500);
    let (sim, api) = boot(RedisCloudSimConfig {
        rate_limit_per_minute: 1,
        rate_window: window,
        ..quick()
    })
    .await;
    assert_eq!(api.get("/tasks").await.status, StatusCode::OK);
    assert_eq!(
        api.get("/tasks").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // A new window after the short one has passed.
    tokio::time::sleep(window + Duration::from_millis(100)).await;
    let r = api.get("/tasks").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-rate-limit-remaining"), Some("0"));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_shapes_and_order() {
    let (sim, api) = boot(RedisCloudSimConfig {
        serial_processing: false,
        ..quick()
    })
    .await;
    let empty = api.get("/tasks").await;
    assert_eq!(empty.body, json!({}));
    same_shape(&empty.body, "tasks-list-empty.json");

    let failed = sim.create_task_with(
        failure(vec![], json!({"type": "DATABASE_NOT_FOUND", "status": "404 NOT_FOUND", "description": "Database was not found"})),
        TaskOptions {
            command_type: Some("databaseImportStatusRequest".into()),
            not_found_polls: None,
        },
    );
    let received = sim.create_task(success(vec![polls("received", 100)], json!({})));
    let running = sim.create_task(success(
        vec![polls("processing-in-progress", 100)],
        json!({}),
    ));
    let completed = sim.create_task(success(
        vec![],
        json!({"resourceId": 51055029, "additionalResourceId": 111728}),
    ));
    let list = api.get("/tasks").await;
    assert_eq!(list.status, StatusCode::OK);
    same_shape(&list.body, "tasks-list.json");
    insta::assert_json_snapshot!("list", shape(&list.body));
    let ids: Vec<&str> = list.body["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["taskId"].as_str().unwrap())
        .collect();
    // Newest status update first: `running` changed at this request, `completed`
    // finished when it was created (no steps), `received` has not changed since it
    // was created, `failed` finished when it was created, before the others.
    assert_eq!(
        ids,
        [
            running.as_str(),
            completed.as_str(),
            received.as_str(),
            failed.as_str()
        ]
    );

    // A list request counts once for each task it returns.
    let counts = sim.counts();
    assert_eq!(counts.endpoint("GET /v1/tasks"), 2);
    assert_eq!(counts.task(&completed), 1);
    assert_eq!(counts.task(&failed), 1);
    let log = sim.requests();
    assert_eq!(log.last().unwrap().task_ids.len(), 4);
    sim.shutdown().await;

    let (sim, api) = boot(RedisCloudSimConfig {
        list_form: ListForm::BareArray,
        serial_processing: false,
        ..quick()
    })
    .await;
    assert_eq!(api.get("/tasks").await.body, json!([]));
    sim.create_task(failure(vec![], object_error()));
    sim.create_task(success(
        vec![polls("processing-in-progress", 100)],
        json!({}),
    ));
    let list = api.get("/tasks").await;
    same_shape(&list.body, "tasks-list-bare-array.json");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_counts_as_a_poll_of_each_task() {
    let (sim, api) = boot(quick()).await;
    let id = sim.create_task(success(
        vec![polls("processing-in-progress", 2)],
        json!({"resourceId": 9}),
    ));
    let statuses: Vec<Value> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(api.get("/tasks").await.body["tasks"][0]["status"].clone());
        }
        v
    };
    assert_eq!(
        statuses,
        [
            json!("processing-in-progress"),
            json!("processing-in-progress"),
            json!("processing-completed")
        ]
    );
    assert_eq!(sim.counts().task(&id), 3);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamps_vary_in_fractional_digits() {
    let (sim, api) = boot(RedisCloudSimConfig {
        serial_processing: false,
        ..quick()
    })
    .await;
    let mut lengths = std::collections::BTreeSet::new();
    for _ in 0..9 {
        let id = sim.create_task(success(vec![polls("processing-in-progress", 1)], json!({})));
        for _ in 0..2 {
            let ts = api.task(&id).await.body["timestamp"]
                .as_str()
                .unwrap()
                .to_owned();
            assert!(ts.ends_with('Z') && ts.len() >= 20, "{ts}");
            let frac = ts.split_once('.').map_or(0, |(_, f)| f.len() - 1);
            assert!(frac <= 9, "{ts}");
            lengths.insert(frac);
        }
    }
    assert!(
        lengths.len() >= 2,
        "fractional digits never vary: {lengths:?}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_arrive_as_one_segment() {
    let (sim, api) = boot(quick()).await;
    for (raw, decoded) in [
        ("..%2Fsubscriptions", "../subscriptions"),
        ("a%2Fb%3Fc%3Dd", "a/b?c=d"),
        ("%252e%252e", "%2e%2e"),
    ] {
        let r = api.get(&format!("/tasks/{raw}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let rec = sim.requests().pop().unwrap();
        assert_eq!(rec.target, format!("/v1/tasks/{raw}"));
        assert_eq!(rec.endpoint, "GET /v1/tasks/{taskId}");
        assert_eq!(rec.task_ids, [decoded]);
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_routes() {
    let (sim, api) = boot(quick()).await;
    let root = sim.base_url().trim_end_matches("/v1").to_owned();
    let body = json!({
        "steps": [{"status": "processing-in-progress", "lasts": {"polls": 1}}],
        "outcome": {"kind": "failure", "error": "SUBSCRIPTION_NOT_FOUND"},
        "command_type": "databaseCreateRequest",
        "not_found_polls": 1,
    });
    let r = reply(
        api.http
            .post(format!("{root}/_sim/tasks"))
            .body(body.to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = r.body["taskId"].as_str().unwrap().to_owned();
    assert_eq!(r.body["task_id"], id.as_str());
    assert_eq!(api.task(&id).await.status, StatusCode::NOT_FOUND);
    let r = api.task(&id).await;
    assert_eq!(r.body["commandType"], "databaseCreateRequest");
    assert_eq!(r.body["status"], "processing-in-progress");
    assert_eq!(
        api.task(&id).await.body["response"]["error"],
        "SUBSCRIPTION_NOT_FOUND"
    );

    let counts = reply(
        api.http
            .get(format!("{root}/_sim/counts"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(counts.body["total"], 3);
    let r = reply(
        api.http
            .post(format!("{root}/_sim/tasks"))
            .body("{")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    reply(
        api.http
            .post(format!("{root}/_sim/reset"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(sim.counts().total, 0);
    assert_eq!(api.task(&id).await.status, StatusCode::NOT_FOUND);
    sim.reset();
    assert_eq!(sim.counts().total, 0);
    sim.shutdown().await;
}
