//! The Stream simulator over real HTTP: lifecycle, legacy timestamps, faults, auth, rate
//! limits, accounting, the control API, and the structure of every body against the
//! vendor fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{Api, collapse_keys, fixture, shape};
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use serde_json::{Value, json};
use taskpoll_sim::faults::{Fault, FaultPlan, FaultScope};
use taskpoll_sim::script::{Defaults, ScriptOutcome, ScriptStep, TaskScript};
use taskpoll_sim::stream::{StreamSim, StreamSimConfig};

const STATUS: &str = "GET /api/v2/tasks/{id}";
const LEGACY: &str = "GET /tasks/{id}";
const EXPORT: &str = "POST /api/v2/chat/export_channels";

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn sign(secret: &str, claims: &Value) -> String {
    taskpoll_http::jwt::sign_hs256(claims, secret.as_bytes()).unwrap()
}

/// One answer, read whole.
struct Resp {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "HTTP {} body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// A header that must be there, read as a number.
    fn number<T: std::str::FromStr>(&self, name: &str) -> T
    where
        T::Err: std::fmt::Debug,
    {
        let text = self.header(name).unwrap_or_else(|| panic!("no {name}"));
        text.parse().unwrap()
    }
}

/// A plain client of the simulator: signs like Stream's server SDKs do.
impl Api {
    fn new(sim: &StreamSim) -> Self {
        Api::with_keys(sim.base_url(), sim.api_key(), sim.api_secret())
    }

    fn server_token(&self) -> String {
        sign(
            &self.secret,
            &json!({"server": true, "iat": now_secs() - 5}),
        )
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}?api_key={}", self.base, self.key)
    }

    /// A signed request to a vendor path.
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .header("authorization", self.server_token())
            .header("stream-auth-type", "jwt")
    }

    async fn read(builder: reqwest::RequestBuilder) -> Result<Resp, reqwest::Error> {
        let r = builder.send().await?;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.bytes().await?.to_vec();
        Ok(Resp {
            status,
            headers,
            body,
        })
    }

    async fn get(&self, path: &str) -> Resp {
        Api::read(self.request(reqwest::Method::GET, path))
            .await
            .unwrap()
    }

    async fn task(&self, id: &str) -> Resp {
        self.get(&format!("/api/v2/tasks/{id}")).await
    }

    async fn post(&self, path: &str, body: &Value) -> Resp {
        Api::read(
            self.request(reqwest::Method::POST, path)
                .header(CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(body).unwrap()),
        )
        .await
        .unwrap()
    }

    /// Starts a task at a start endpoint; returns its id.
    async fn start(&self, path: &str, body: &Value) -> String {
        let r = self.post(path, body).await;
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        r.json()["task_id"].as_str().unwrap().to_owned()
    }

    /// Starts a delete of the fixture's channels and one of its users; returns the two
    /// task ids.
    async fn start_deletes(&self) -> (String, String) {
        let channels = fixture("stream", "request-delete-channels.json");
        let users = fixture("stream", "request-delete-users.json");
        (
            self.start("/api/v2/chat/channels/delete", &channels).await,
            self.start("/api/v2/users/delete", &users).await,
        )
    }

    /// A control-API request (no credentials).
    async fn control(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Resp {
        let mut b = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            b = b
                .header(CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(body).unwrap());
        }
        Api::read(b).await.unwrap()
    }

    /// Creates a scripted task through `POST /_sim/tasks`.
    async fn scripted(&self, script: &TaskScript) -> String {
        let r = self
            .control(
                reqwest::Method::POST,
                "/_sim/tasks",
                Some(&serde_json::to_value(script).unwrap()),
            )
            .await;
        assert_eq!(r.status, 201);
        r.json()["task_id"].as_str().unwrap().to_owned()
    }

    /// Polls a task every 10 ms until it ends; returns the distinct statuses seen in
    /// order and the last body.
    async fn poll_to_end(&self, id: &str) -> (Vec<String>, Value) {
        let give_up = Instant::now() + Duration::from_secs(5);
        let mut seen: Vec<String> = Vec::new();
        loop {
            let r = self.task(id).await;
            assert_eq!(r.status, 200);
            let body = r.json();
            let status = body["status"].as_str().unwrap().to_owned();
            if seen.last() != Some(&status) {
                seen.push(status.clone());
            }
            if status == "completed" || status == "failed" {
                return (seen, body);
            }
            assert!(Instant::now() < give_up, "task {id} never ended: {seen:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn quick(task_ms: u64) -> StreamSimConfig {
    StreamSimConfig {
        defaults: Defaults {
            task_time: Duration::from_millis(task_ms),
            fail_every: None,
        },
        ..StreamSimConfig::default()
    }
}

async fn boot(config: StreamSimConfig) -> (StreamSim, Api) {
    let sim = StreamSim::start(config).await.unwrap();
    let api = Api::new(&sim);
    (sim, api)
}

fn polls(steps: &[(&str, u32)]) -> Vec<ScriptStep> {
    steps
        .iter()
        .map(|(s, n)| ScriptStep::for_polls(*s, *n))
        .collect()
}

fn success(steps: &[(&str, u32)], result: Value) -> TaskScript {
    TaskScript {
        steps: polls(steps),
        outcome: ScriptOutcome::Success { result },
    }
}

fn failure(steps: &[(&str, u32)], error: Value) -> TaskScript {
    TaskScript {
        steps: polls(steps),
        outcome: ScriptOutcome::Failure { error },
    }
}

/// Every `APIError` carries the six keys Stream's schema requires, with their types.
fn assert_api_error(body: &Value, status: u16, code: i64) {
    for key in [
        "code",
        "message",
        "StatusCode",
        "duration",
        "more_info",
        "details",
    ] {
        assert!(body.get(key).is_some(), "missing {key} in {body}");
    }
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["StatusCode"], status, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("failed with error")
    );
    assert!(body["duration"].as_str().unwrap().ends_with("ms"));
    assert!(body["details"].is_array());
}

/// `X-RateLimit-Limit/Remaining/Reset`, all integers, the reset within the minute.
fn assert_rate_headers(r: &Resp) {
    let limit: u64 = r.number("x-ratelimit-limit");
    let remaining: u64 = r.number("x-ratelimit-remaining");
    let reset: i64 = r.number("x-ratelimit-reset");
    assert!(remaining <= limit);
    let now = now_secs();
    assert!(
        reset >= now && reset <= now + 61,
        "reset {reset} vs now {now}"
    );
}

/// Days-from-civil RFC 3339 reader for `YYYY-MM-DDTHH:MM:SS.ffffffZ`: Unix nanoseconds.
fn rfc3339_nanos(s: &str) -> i64 {
    assert_eq!(s.len(), 27, "{s}");
    assert!(
        s.ends_with('Z') && &s[10..11] == "T" && &s[19..20] == ".",
        "{s}"
    );
    let n = |a: usize, b: usize| s[a..b].parse::<i64>().unwrap();
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + n(11, 13) * 3600 + n(14, 16) * 60 + n(17, 19);
    secs * 1_000_000_000 + n(20, 26) * 1_000
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_channels_runs_waiting_pending_running_completed() {
    let (sim, api) = boot(quick(600)).await;
    let start = api
        .post(
            "/api/v2/chat/export_channels",
            &fixture("stream", "request-export-channels.json"),
        )
        .await;
    assert_eq!(start.status, 201);
    assert_rate_headers(&start);
    let start = start.json();
    let id = start["task_id"].as_str().unwrap();
    assert!(start["duration"].as_str().unwrap().ends_with("ms"));

    let (seen, done) = api.poll_to_end(id).await;
    assert_eq!(seen, ["waiting", "pending", "running", "completed"]);
    assert_eq!(done["task_id"], id);
    let result = &done["result"];
    assert!(
        result["url"]
            .as_str()
            .unwrap()
            .contains("/exports/channels/")
    );
    assert!(result["path"].as_str().unwrap().starts_with("exports/"));
    assert_eq!(result["s3_bucket_name"], "stream-chat-exports");
    assert!(done.get("error").is_none());
    let created = done["created_at"].as_i64().unwrap();
    let updated = done["updated_at"].as_i64().unwrap();
    assert!(updated > created);
    assert!(sim.finished_at(id).is_some());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_channels_and_users_complete_with_results_keyed_by_subject() {
    let (sim, api) = boot(quick(100)).await;
    let (channels, users) = api.start_deletes().await;
    let (seen, done) = api.poll_to_end(&channels).await;
    assert_eq!(seen.last().unwrap(), "completed");
    assert_eq!(
        done["result"],
        json!({"messaging:general": {"status": "ok"}, "messaging:random": {"status": "ok"}})
    );
    let (_, done) = api.poll_to_end(&users).await;
    assert_eq!(
        done["result"],
        json!({"user-1": {"status": "ok"}, "user-2": {"status": "ok"}})
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_report_the_configured_items_as_failed() {
    let config = StreamSimConfig {
        item_errors: BTreeMap::from([
            (
                "messaging:random".to_owned(),
                "channel is frozen".to_owned(),
            ),
            ("user-2".to_owned(), "user is a channel owner".to_owned()),
        ]),
        ..quick(60)
    };
    let (sim, api) = boot(config).await;
    let (channels, users) = api.start_deletes().await;
    // The task itself completes: the failures are per item, in `result`.
    let (seen, done) = api.poll_to_end(&channels).await;
    assert_eq!(seen.last().unwrap(), "completed");
    assert!(done.get("error").is_none());
    assert_eq!(
        done["result"],
        json!({
            "messaging:general": {"status": "ok"},
            "messaging:random": {"status": "error", "error": "channel is frozen"},
        })
    );
    let (_, done) = api.poll_to_end(&users).await;
    assert_eq!(
        done["result"],
        json!({
            "user-1": {"status": "ok"},
            "user-2": {"status": "error", "error": "user is a channel owner"},
        })
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_task_can_end_with_per_item_results() {
    let (sim, api) = boot(StreamSimConfig::default()).await;
    let result = taskpoll_sim::stream::item_results([
        ("messaging:general", None),
        ("messaging:frozen", Some("channel is frozen")),
    ]);
    assert_eq!(
        result,
        json!({
            "messaging:general": {"status": "ok"},
            "messaging:frozen": {"status": "error", "error": "channel is frozen"},
        })
    );
    let id = api
        .scripted(&success(&[("running", 1)], result.clone()))
        .await;
    let (seen, done) = api.poll_to_end(&id).await;
    assert_eq!(seen, ["running", "completed"]);
    assert_eq!(done["result"], result);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_channels_can_answer_at_once_without_a_task_id() {
    let config = StreamSimConfig {
        sync_delete_channels: true,
        item_errors: BTreeMap::from([("messaging:random".to_owned(), "not allowed".to_owned())]),
        ..StreamSimConfig::default()
    };
    let (sim, api) = boot(config).await;
    let r = api
        .post(
            "/api/v2/chat/channels/delete",
            &fixture("stream", "request-delete-channels.json"),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_rate_headers(&r);
    let body = r.json();
    assert!(body.get("task_id").is_none(), "{body}");
    assert!(body["duration"].as_str().unwrap().ends_with("ms"));
    assert_eq!(
        body["result"],
        json!({
            "messaging:general": {"status": "ok"},
            "messaging:random": {"status": "error", "error": "not allowed"},
        })
    );
    // No task was made; other start calls still make theirs.
    assert_eq!(sim.counts().total, 1);
    let id = api
        .start("/api/v2/users/delete", &json!({"user_ids": ["u"]}))
        .await;
    assert_eq!(api.task(&id).await.status, 200);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_exports_activation_blocklist_imports_and_call_deletes_start_tasks() {
    let (sim, api) = boot(quick(60)).await;
    let cases = [
        (
            "/api/v2/export/users",
            json!({"user_ids": ["user-1"]}),
            "POST /api/v2/export/users",
        ),
        (
            "/api/v2/users/deactivate",
            json!({"user_ids": ["user-1", "user-2"]}),
            "POST /api/v2/users/deactivate",
        ),
        (
            "/api/v2/users/reactivate",
            json!({"user_ids": ["user-1"]}),
            "POST /api/v2/users/reactivate",
        ),
        (
            "/api/v2/blocklists/profanity_en/import",
            json!({"items": ["darn", "heck"]}),
            "POST /api/v2/blocklists/{id}/import",
        ),
        (
            "/api/v2/video/call/default/standup-1/delete",
            json!({"hard": true}),
            "POST /api/v2/video/call/{type}/{id}/delete",
        ),
    ];
    let mut results = Vec::new();
    for (path, body, endpoint) in &cases {
        let r = api.post(path, body).await;
        assert_eq!(
            r.status,
            201,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_rate_headers(&r);
        let reply = r.json();
        let id = reply["task_id"].as_str().unwrap().to_owned();
        let (seen, done) = api.poll_to_end(&id).await;
        assert_eq!(seen.last().unwrap(), "completed", "{path}");
        results.push(done["result"].clone());
        assert_eq!(sim.counts().endpoint(endpoint), 1, "{endpoint}");
        if path.starts_with("/api/v2/video/call/") {
            assert_eq!(
                reply["call"],
                json!({"type": "default", "id": "standup-1", "cid": "default:standup-1"})
            );
        }
    }
    assert!(
        results[0]["url"]
            .as_str()
            .unwrap()
            .contains("/exports/users/")
    );
    // Stream documents no result for these three.
    assert_eq!(results[1..4], [json!({}), json!({}), json!({})]);
    // A hard call delete's result is keyed by the call's cid.
    assert_eq!(results[4], json!({"default:standup-1": {"status": "ok"}}));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soft_call_delete_answers_task_id_null() {
    let (sim, api) = boot(StreamSimConfig::default()).await;
    for body in [json!({}), json!({"hard": false})] {
        let r = api
            .post("/api/v2/video/call/livestream/ls-7/delete", &body)
            .await;
        assert_eq!(r.status, 201);
        let reply = r.json();
        assert_eq!(reply["task_id"], Value::Null, "{reply}");
        assert!(reply.as_object().unwrap().contains_key("task_id"));
        assert_eq!(reply["call"]["cid"], "livestream:ls-7");
    }
    let r = api
        .post(
            "/api/v2/video/call/livestream/ls-7/delete",
            &json!({"hard": "yes"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_api_error(&r.json(), 400, 4);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_endpoints_refuse_bad_bodies_with_code_4() {
    let (sim, api) = boot(quick(100)).await;
    let cases = [
        ("/api/v2/chat/export_channels", json!({"channels": []})),
        (
            "/api/v2/chat/export_channels",
            json!({"channels": [{"type": "messaging"}]}),
        ),
        ("/api/v2/chat/channels/delete", json!({"hard_delete": true})),
        ("/api/v2/users/delete", json!({"user_ids": [1, 2]})),
        ("/api/v2/export/users", json!({})),
        ("/api/v2/users/deactivate", json!({"user_ids": []})),
        ("/api/v2/users/reactivate", json!({"user_ids": "u"})),
        ("/api/v2/blocklists/words/import", json!({"items": []})),
    ];
    for (path, body) in cases {
        let r = api.post(path, &body).await;
        assert_eq!(r.status, 400, "{path} {body}");
        assert_api_error(&r.json(), 400, 4);
        assert_rate_headers(&r);
    }
    let r = Api::read(
        api.request(reqwest::Method::POST, "/api/v2/users/delete")
            .body("not json"),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 400);
    assert_api_error(&r.json(), 400, 4);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_failure_ends_failed_with_its_error() {
    let (sim, api) = boot(StreamSimConfig::default()).await;
    let error = json!({"type": "export_failed", "description": "channel messaging:missing does not exist", "stacktrace": "goroutine 1", "version": "v6.112.0"});
    let id = api
        .scripted(&failure(&[("pending", 1), ("running", 2)], error.clone()))
        .await;
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(api.task(&id).await.json()["status"].clone());
    }
    assert_eq!(seen, ["pending", "running", "running", "failed"]);
    let last = api.task(&id).await.json();
    assert_eq!(last["status"], "failed");
    assert_eq!(last["error"], error);
    assert!(last.get("result").is_none());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_every_makes_start_endpoints_fail_with_every_error_field() {
    let mut config = quick(50);
    config.defaults.fail_every = Some(2);
    let (sim, api) = boot(config).await;
    let body = fixture("stream", "request-export-channels.json");
    let first = api.start("/api/v2/chat/export_channels", &body).await;
    let second = api.start("/api/v2/chat/export_channels", &body).await;
    let (seen, _) = api.poll_to_end(&first).await;
    assert_eq!(seen.last().unwrap(), "completed");
    let (seen, done) = api.poll_to_end(&second).await;
    assert_eq!(seen.last().unwrap(), "failed");
    let error = &done["error"];
    assert_eq!(error["type"], "export_failed");
    assert!(
        error["description"]
            .as_str()
            .unwrap()
            .contains("messaging:general")
    );
    assert!(error["stacktrace"].is_string());
    assert!(error["version"].is_string());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_path_sends_rfc3339_timestamps_of_the_same_instants() {
    let (sim, api) = boot(StreamSimConfig::default()).await;
    let id = api
        .scripted(&success(&[("running", 1)], json!({"url": "https://x"})))
        .await;
    assert_eq!(api.task(&id).await.json()["status"], "running");
    let v2 = api.task(&id).await.json();
    assert_eq!(v2["status"], "completed");
    let legacy = api.get(&format!("/tasks/{id}")).await;
    assert_eq!(legacy.status, 200);
    assert_rate_headers(&legacy);
    let legacy = legacy.json();
    assert_eq!(legacy["status"], "completed");
    assert_eq!(legacy["result"], json!({"url": "https://x"}));
    for key in ["created_at", "updated_at"] {
        let ns = v2[key].as_i64().unwrap();
        let text = legacy[key].as_str().unwrap();
        assert_eq!(
            rfc3339_nanos(text),
            ns / 1_000 * 1_000,
            "{key}: {text} vs {ns}"
        );
    }
    // The legacy path answers unknown tasks like the v2 one.
    let r = api.get("/tasks/no-such-task").await;
    assert_eq!(r.status, 404);
    assert_api_error(&r.json(), 404, 16);
    let counts = sim.counts();
    assert_eq!(counts.endpoint(LEGACY), 2);
    assert_eq!(counts.endpoint(STATUS), 2);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_kind_hits_its_exact_request_number() {
    let (sim, api) = boot(StreamSimConfig::default()).await;
    let id = api.scripted(&success(&[("running", 100)], json!({}))).await;
    sim.set_faults(
        FaultPlan::default()
            .at(1, Fault::ServerError { status: 503 })
            .at(
                2,
                Fault::RateLimited {
                    retry_after_secs: Some(3),
                },
            )
            .at(3, Fault::Reset)
            .at(4, Fault::Malformed)
            .at(5, Fault::Truncated)
            .at(6, Fault::NonJson { status: 502 })
            .at(7, Fault::Slow { millis: 300 }),
    );

    let r = api.task(&id).await;
    assert_eq!(r.status, 503);
    assert_api_error(&r.json(), 503, -1);
    assert_rate_headers(&r);

    let r = api.task(&id).await;
    assert_eq!(r.status, 429);
    assert_api_error(&r.json(), 429, 9);
    // As Stream's: no Retry-After; X-RateLimit-Reset says when to come back (3 s from
    // now, rounded up to a whole epoch second).
    assert_eq!(r.header("retry-after"), None);
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    let reset: i64 = r.number("x-ratelimit-reset");
    assert!(
        (now_secs() + 3..=now_secs() + 4).contains(&reset),
        "{reset}"
    );
    assert_rate_headers(&r);

    let reset = Api::read(api.request(reqwest::Method::GET, &format!("/api/v2/tasks/{id}"))).await;
    assert!(reset.is_err(), "the connection should break mid-body");

    let r = api.task(&id).await;
    assert_eq!(r.status, 200);
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    assert_rate_headers(&r);

    let r = api.task(&id).await;
    assert_eq!(r.status, 200);
    let err = serde_json::from_slice::<Value>(&r.body).unwrap_err();
    assert!(err.is_eof(), "a truncated body ends early: {err}");
    assert!(r.body.starts_with(b"{\""));

    let r = api.task(&id).await;
    assert_eq!(r.status, 502);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(String::from_utf8_lossy(&r.body).contains("502 Bad Gateway"));
    assert_rate_headers(&r);

    let began = Instant::now();
    let r = api.task(&id).await;
    assert!(began.elapsed() >= Duration::from_millis(300));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "running");

    let r = api.task(&id).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "running");

    let counts = sim.counts();
    assert_eq!(counts.faults, 7);
    assert_eq!(counts.endpoint(STATUS), 8);
    assert_eq!(counts.task(&id), 8);
    // The request after the 429 came long before the reset it announced, 3 s later.
    assert_eq!(counts.retry_after_violations, 1);
    let statuses: Vec<u16> = sim.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 429, 200, 200, 200, 502, 200, 200]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_apply_to_status_requests_unless_scoped_to_all() {
    let (sim, api) = boot(quick(100)).await;
    let body = fixture("stream", "request-export-channels.json");
    sim.set_faults(FaultPlan::default().at(1, Fault::ServerError { status: 500 }));
    let id = api.start("/api/v2/chat/export_channels", &body).await;
    assert_eq!(api.task(&id).await.status, 500);
    assert_eq!(api.task(&id).await.status, 200);

    let mut plan = FaultPlan::default().at(1, Fault::ServerError { status: 500 });
    plan.scope = FaultScope::All;
    sim.set_faults(plan);
    let r = api.post("/api/v2/chat/export_channels", &body).await;
    assert_eq!(r.status, 500);
    assert_api_error(&r.json(), 500, -1);
    sim.shutdown().await;
}

/// What is wrong, the URL, the headers sent, and the code expected.
type AuthCase<'a> = (&'a str, String, Vec<(&'a str, String)>, i64);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_failures_answer_401_with_streams_codes() {
    let (sim, api) = boot(StreamSimConfig::default()).await;
    let id = api.scripted(&success(&[("running", 100)], json!({}))).await;
    let path = format!("/api/v2/tasks/{id}");
    let url_with = |key: &str| format!("{}{path}?api_key={key}", api.base);
    let now = now_secs();
    let good = api.server_token();
    let wrong_secret = sign("not-the-secret", &json!({"server": true}));
    let expired = sign(&api.secret, &json!({"server": true, "exp": now - 60}));
    let immature = sign(&api.secret, &json!({"server": true, "nbf": now + 60}));
    let future_iat = sign(&api.secret, &json!({"server": true, "iat": now + 60}));
    let user_token = sign(&api.secret, &json!({"user_id": "alice"}));
    // `alg: none` (header `{"alg":"none","typ":"JWT"}`) and no signature.
    let alg_none = format!(
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
        good.split('.').nth(1).unwrap()
    );

    let jwt = |token: String| vec![("authorization", token), ("stream-auth-type", "jwt".into())];
    let key = url_with(&api.key);
    let cases: Vec<AuthCase> = vec![
        ("unknown api_key", url_with("nope"), jwt(good.clone()), 2),
        (
            "missing api_key",
            format!("{}{path}", api.base),
            jwt(good.clone()),
            2,
        ),
        ("bad signature", key.clone(), jwt(wrong_secret), 43),
        ("expired", key.clone(), jwt(expired), 40),
        ("not valid yet", key.clone(), jwt(immature), 41),
        ("iat in the future", key.clone(), jwt(future_iat), 42),
        ("user token", key.clone(), jwt(user_token), 5),
        (
            "missing stream-auth-type",
            key.clone(),
            vec![("authorization", good.clone())],
            5,
        ),
        (
            "anonymous auth type",
            key.clone(),
            vec![
                ("authorization", good.clone()),
                ("stream-auth-type", "anonymous".into()),
            ],
            5,
        ),
        (
            "Bearer prefix",
            key.clone(),
            jwt(format!("Bearer {good}")),
            5,
        ),
        (
            "missing Authorization",
            key.clone(),
            vec![("stream-auth-type", "jwt".into())],
            5,
        ),
        ("garbage token", key.clone(), jwt("a.b.c".into()), 5),
        ("alg none", key.clone(), jwt(alg_none), 5),
    ];
    for (what, url, headers, code) in cases {
        let mut b = api.http.get(url);
        for (k, v) in headers {
            b = b.header(k, v);
        }
        let r = Api::read(b).await.unwrap();
        assert_eq!(r.status, 401, "{what}");
        let body = r.json();
        assert_api_error(&body, 401, code);
        assert_rate_headers(&r);
        assert!(body.get("unrecoverable").is_none(), "{what}");
    }
    assert_eq!(sim.counts().status(401), 13);
    assert_eq!(sim.counts().faults, 0);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_claim_set_of_the_official_sdks_is_accepted() {
    let (sim, api) = boot(StreamSimConfig::default()).await;
    let id = api.scripted(&success(&[("running", 100)], json!({}))).await;
    let now = now_secs();
    let claim_sets = [
        json!({}),
        json!({"server": true}),
        json!({"iat": now, "server": true}),
        json!({"iat": now - 5, "server": true}),
        json!({"iat": now - 5, "nbf": now - 5, "exp": now + 3600}),
        // Within the 5 s leeway.
        json!({"iat": now + 3, "server": true}),
    ];
    for claims in claim_sets {
        let r = Api::read(
            api.http
                .get(api.url(&format!("/api/v2/tasks/{id}")))
                .header("Authorization", sign(&api.secret, &claims))
                .header("Stream-Auth-Type", "jwt"),
        )
        .await
        .unwrap();
        assert_eq!(
            r.status,
            200,
            "{claims}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_task_is_404_code_16() {
    let (sim, api) = boot(StreamSimConfig::default()).await;
    let r = api.task("0b5d2f8e-9c1a-4e37-a6d4-7f2e3b1c9d80").await;
    assert_eq!(r.status, 404);
    assert_rate_headers(&r);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = r.json();
    assert_api_error(&body, 404, 16);
    assert_eq!(
        body["message"],
        "GetTask failed with error: \"Can't find task with id 0b5d2f8e-9c1a-4e37-a6d4-7f2e3b1c9d80\""
    );
    assert_eq!(body["unrecoverable"], false);
    assert_eq!(sim.counts().task("0b5d2f8e-9c1a-4e37-a6d4-7f2e3b1c9d80"), 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_headers_are_on_every_response() {
    let (sim, api) = boot(quick(50)).await;
    let id = api.scripted(&success(&[("running", 1)], json!({}))).await;
    sim.set_faults(FaultPlan::default().at(2, Fault::NonJson { status: 502 }));
    let mut seen = BTreeMap::new();
    let r = api.task(&id).await;
    seen.insert("200 running", r);
    let r = api.task(&id).await;
    seen.insert("502 html", r);
    let r = api.task(&id).await;
    seen.insert("200 completed", r);
    seen.insert("404", api.task("nope").await);
    seen.insert(
        "201 start",
        api.post(
            "/api/v2/chat/export_channels",
            &fixture("stream", "request-export-channels.json"),
        )
        .await,
    );
    seen.insert(
        "400 start",
        api.post("/api/v2/users/delete", &json!({})).await,
    );
    seen.insert(
        "401",
        Api::read(api.http.get(format!("{}/api/v2/tasks/{id}", api.base)))
            .await
            .unwrap(),
    );
    seen.insert("legacy", api.get(&format!("/tasks/{id}")).await);
    for (what, r) in &seen {
        assert_rate_headers(r);
        assert_eq!(r.header("x-ratelimit-limit"), Some("1000000"), "{what}");
    }
    // Remaining counts down per endpoint.
    let a: u64 = api.task(&id).await.number("x-ratelimit-remaining");
    let b: u64 = api.task(&id).await.number("x-ratelimit-remaining");
    assert_eq!(a, b + 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_per_minute_limit_requests_get_429_code_9() {
    let config = StreamSimConfig {
        rate_limit_per_minute: 3,
        ..StreamSimConfig::default()
    };
    let (sim, api) = boot(config).await;
    let id = api.scripted(&success(&[("running", 100)], json!({}))).await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = api.task(&id).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-ratelimit-limit"), Some("3"));
        assert!(r.header("retry-after").is_none());
        remaining.push(r.header("x-ratelimit-remaining").unwrap().to_owned());
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let r = api.task(&id).await;
    assert_eq!(r.status, 429);
    let body = r.json();
    assert_api_error(&body, 429, 9);
    assert_eq!(
        body["message"],
        "GetTask failed with error: \"Too many requests, check response headers for more information.\""
    );
    assert_eq!(
        body["more_info"],
        "https://getstream.io/chat/docs/rate_limits"
    );
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    // Stream's 429s carry the X-RateLimit-* headers and no Retry-After.
    assert!(r.header("retry-after").is_none());
    let reset: i64 = r.number("x-ratelimit-reset");
    assert!((now_secs()..=now_secs() + 61).contains(&reset), "{reset}");

    // The window is per endpoint: the legacy path and start calls still pass.
    assert_eq!(api.get(&format!("/tasks/{id}")).await.status, 200);
    assert_eq!(
        api.post(
            "/api/v2/chat/export_channels",
            &fixture("stream", "request-export-channels.json")
        )
        .await
        .status,
        201
    );
    let counts = sim.counts();
    assert_eq!(counts.status(429), 1);
    assert_eq!(counts.endpoint(STATUS), 4);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_sent_only_when_configured() {
    // By default no 429 has it: the window's and injected ones alike.
    let config = StreamSimConfig {
        rate_limit_per_minute: 1,
        ..StreamSimConfig::default()
    };
    let (sim, api) = boot(config).await;
    assert!(!StreamSimConfig::default().send_retry_after);
    assert_eq!(api.task("x").await.status, 404);
    let r = api.task("x").await;
    assert_eq!(r.status, 429);
    assert!(r.headers.get(RETRY_AFTER).is_none());
    assert_rate_headers(&r);
    // A client that comes back before X-RateLimit-Reset is counted, as it would be
    // after a Retry-After.
    assert_eq!(api.task("x").await.status, 429);
    assert_eq!(sim.counts().retry_after_violations, 1);
    sim.shutdown().await;

    // Configured: the window's 429 says the whole seconds to its reset.
    let config = StreamSimConfig {
        rate_limit_per_minute: 1,
        send_retry_after: true,
        ..StreamSimConfig::default()
    };
    let (sim, api) = boot(config).await;
    api.task("x").await;
    let r = api.task("x").await;
    assert_eq!(r.status, 429);
    let retry: i64 = r.number("retry-after");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let reset: i64 = r.number("x-ratelimit-reset");
    assert!((reset - now_secs() - retry).abs() <= 1);
    sim.shutdown().await;

    // Configured: an injected 429 says its own delay in both headers.
    let config = StreamSimConfig {
        send_retry_after: true,
        ..StreamSimConfig::default()
    };
    let (sim, api) = boot(config).await;
    sim.set_faults(FaultPlan::default().at(
        1,
        Fault::RateLimited {
            retry_after_secs: Some(2),
        },
    ));
    let r = api.task("x").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("2"));
    let reset: i64 = r.number("x-ratelimit-reset");
    assert!(
        (now_secs() + 2..=now_secs() + 3).contains(&reset),
        "{reset}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_per_endpoint_task_and_status() {
    let (sim, api) = boot(quick(50)).await;
    let a = api.scripted(&success(&[("running", 1)], json!({}))).await;
    let b = api.scripted(&success(&[("running", 5)], json!({}))).await;
    api.task(&a).await;
    api.task(&a).await;
    api.task(&b).await;
    api.task("missing").await;
    api.get(&format!("/tasks/{b}")).await;
    api.start(
        "/api/v2/chat/export_channels",
        &fixture("stream", "request-export-channels.json"),
    )
    .await;
    api.start("/api/v2/export/users", &json!({"user_ids": ["user-1"]}))
        .await;
    let c = sim.counts();
    assert_eq!(c.total, 7);
    assert_eq!(c.endpoint(STATUS), 4);
    assert_eq!(c.endpoint(LEGACY), 1);
    assert_eq!(c.endpoint(EXPORT), 1);
    assert_eq!(c.endpoint("POST /api/v2/export/users"), 1);
    assert_eq!(c.task(&a), 2);
    assert_eq!(c.task(&b), 2);
    assert_eq!(c.task("missing"), 1);
    assert_eq!(c.status(200), 4);
    assert_eq!(c.status(404), 1);
    assert_eq!(c.status(201), 2);
    assert_eq!(c.faults, 0);
    assert_eq!(c.retry_after_violations, 0);

    let log = sim.requests();
    assert_eq!(log.len(), 7);
    assert!(
        log.windows(2)
            .all(|w| w[0].seq + 1 == w[1].seq && w[0].at_ms <= w[1].at_ms)
    );
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].endpoint, STATUS);
    assert_eq!(log[0].task_ids, [a.as_str()]);
    assert_eq!(
        log[0].target,
        format!("/api/v2/tasks/{a}?api_key={}", api.key)
    );
    assert_eq!(log[5].method, "POST");
    assert!(log[5].task_ids.is_empty());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_ids_arrive_as_one_decoded_segment() {
    let (sim, api) = boot(StreamSimConfig::default()).await;
    for (encoded, id) in [
        ("..%2Fsubscriptions", "../subscriptions"),
        ("a%2Fb%3Fc%3Dd", "a/b?c=d"),
        ("%252e%252e", "%2e%2e"),
    ] {
        let r = api.task(encoded).await;
        assert_eq!(r.status, 404, "{id}");
        let body = r.json();
        assert_api_error(&body, 404, 16);
        assert!(body["message"].as_str().unwrap().contains(id));
        let last = sim.requests().pop().unwrap();
        assert_eq!(last.task_ids, [id.to_owned()]);
        assert!(
            last.target
                .starts_with(&format!("/api/v2/tasks/{encoded}?"))
        );
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_api_works_over_http_and_is_not_counted() {
    let (sim, api) = boot(StreamSimConfig::default()).await;
    use reqwest::Method;

    let r = api
        .control(Method::POST, "/_sim/tasks", Some(&json!({"steps": "nope"})))
        .await;
    assert_eq!(r.status, 400);
    assert!(String::from_utf8_lossy(&r.body).contains("invalid task script"));

    let script = json!({
        "steps": [{"status": "pending", "lasts": {"polls": 1}}],
        "outcome": {"kind": "failure", "error": {"type": "ValidationError", "description": "channel does not exist"}}
    });
    let r = api
        .control(Method::POST, "/_sim/tasks", Some(&script))
        .await;
    assert_eq!(r.status, 201);
    let id = r.json()["task_id"].as_str().unwrap().to_owned();
    assert_eq!(api.task(&id).await.json()["status"], "pending");
    let failed = api.task(&id).await.json();
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["type"], "ValidationError");

    // Faults: set, read back, used, cleared.
    let plan = json!({"at": {"1": {"kind": "server_error", "status": 502}}});
    let r = api.control(Method::PUT, "/_sim/faults", Some(&plan)).await;
    assert_eq!(r.status, 204);
    let read = api.control(Method::GET, "/_sim/faults", None).await.json();
    assert_eq!(
        read["at"]["1"],
        json!({"kind": "server_error", "status": 502})
    );
    assert_eq!(api.task(&id).await.status, 502);
    assert_eq!(
        api.control(Method::DELETE, "/_sim/faults", None)
            .await
            .status,
        204
    );
    assert_eq!(api.task(&id).await.status, 200);

    let counts = api.control(Method::GET, "/_sim/counts", None).await.json();
    assert_eq!(counts, serde_json::to_value(sim.counts()).unwrap());
    assert_eq!(counts["total"], 4);
    assert_eq!(counts["by_endpoint"][STATUS], 4);
    assert_eq!(counts["by_status"]["502"], 1);
    assert_eq!(counts["faults"], 1);

    let log = api
        .control(Method::GET, "/_sim/requests", None)
        .await
        .json();
    assert_eq!(log, serde_json::to_value(sim.requests()).unwrap());
    assert_eq!(log.as_array().unwrap().len(), 4);
    assert_eq!(log[2]["status"], 502);

    let r = api.control(Method::POST, "/_sim/reset", None).await;
    assert_eq!(r.status, 204);
    assert_eq!(sim.counts().total, 0);
    assert!(sim.requests().is_empty());
    assert_eq!(api.task(&id).await.status, 404, "tasks are forgotten");
    assert_eq!(sim.counts().total, 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_forgets_tasks_counts_and_faults() {
    let (sim, api) = boot(StreamSimConfig::default()).await;
    let id = api.scripted(&success(&[("running", 100)], json!({}))).await;
    sim.set_faults(FaultPlan::default().at(2, Fault::ServerError { status: 503 }));
    api.task(&id).await;
    sim.reset();
    assert_eq!(sim.counts(), Default::default());
    let r = api.task(&id).await;
    assert_eq!(r.status, 404);
    let r = api.task(&id).await;
    assert_eq!(r.status, 404, "the fault plan was cleared");
    sim.shutdown().await;
}

/// The simulator's answer for each fixture, side by side with the fixture.
async fn simulated_bodies() -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    let (sim, api) = boot(quick(30)).await;
    let stepped = api
        .scripted(&success(
            &[("waiting", 1), ("pending", 1), ("running", 1)],
            json!({"url": "https://x", "path": "p", "s3_bucket_name": "b"}),
        ))
        .await;
    out.push(("task-waiting.json", api.task(&stepped).await.json()));
    out.push(("task-pending.json", api.task(&stepped).await.json()));
    out.push(("task-running.json", api.task(&stepped).await.json()));

    let export = api
        .start(
            "/api/v2/chat/export_channels",
            &fixture("stream", "request-export-channels.json"),
        )
        .await;
    out.push((
        "task-completed-export.json",
        api.poll_to_end(&export).await.1,
    ));
    out.push((
        "task-legacy-rfc3339.json",
        api.get(&format!("/tasks/{export}")).await.json(),
    ));
    let users_export = api
        .start("/api/v2/export/users", &json!({"user_ids": ["user-1"]}))
        .await;
    out.push((
        "task-completed-export-users.json",
        api.poll_to_end(&users_export).await.1,
    ));
    let channels = api
        .post(
            "/api/v2/chat/channels/delete",
            &fixture("stream", "request-delete-channels.json"),
        )
        .await
        .json();
    out.push(("start-delete-channels.json", channels.clone()));
    out.push((
        "task-completed-delete-channels.json",
        api.poll_to_end(channels["task_id"].as_str().unwrap())
            .await
            .1,
    ));
    let users = api
        .post(
            "/api/v2/users/delete",
            &fixture("stream", "request-delete-users.json"),
        )
        .await
        .json();
    out.push(("start-delete-users.json", users.clone()));
    out.push((
        "task-completed-delete-users.json",
        api.poll_to_end(users["task_id"].as_str().unwrap()).await.1,
    ));
    out.push((
        "start-export-channels.json",
        api.post(
            "/api/v2/chat/export_channels",
            &fixture("stream", "request-export-channels.json"),
        )
        .await
        .json(),
    ));
    let failed = api
        .scripted(&failure(
            &[],
            json!({"type": "export_failed", "description": "d", "stacktrace": "s", "version": "v"}),
        ))
        .await;
    out.push(("task-failed.json", api.task(&failed).await.json()));
    let minimal = api
        .scripted(&failure(
            &[],
            json!({"type": "ValidationError", "description": "channel does not exist"}),
        ))
        .await;
    out.push((
        "task-failed-minimal-error.json",
        api.task(&minimal).await.json(),
    ));
    out.push(("error-404-unknown-task.json", api.task("nope").await.json()));
    let wrong_key = Api::read(
        api.http
            .get(format!("{}/api/v2/tasks/{failed}?api_key=wrong", api.base))
            .header("authorization", api.server_token())
            .header("stream-auth-type", "jwt"),
    )
    .await
    .unwrap();
    out.push(("error-401-api-key-invalid.json", wrong_key.json()));
    let bad_signature = Api::read(
        api.http
            .get(api.url(&format!("/api/v2/tasks/{failed}")))
            .header("authorization", sign("wrong", &json!({"server": true})))
            .header("stream-auth-type", "jwt"),
    )
    .await
    .unwrap();
    out.push(("error-401-signature-invalid.json", bad_signature.json()));
    sim.shutdown().await;

    let limited = StreamSimConfig {
        rate_limit_per_minute: 1,
        ..StreamSimConfig::default()
    };
    let (sim, api) = boot(limited).await;
    api.task("a").await;
    out.push(("error-429.json", api.task("a").await.json()));
    sim.shutdown().await;
    out
}

/// A map keyed by data (cids, user ids) reduced to one `<key>` entry, after checking
/// that every entry has the same structure. Unlike [`collapse_keys`], the entries' own
/// keys (`status`) are kept.
fn collapse_data_keys(map: &Value) -> Value {
    let entries: Vec<&Value> = map.as_object().unwrap().values().collect();
    assert!(!entries.is_empty(), "empty map {map}");
    assert!(
        entries.iter().all(|e| shape(e) == shape(entries[0])),
        "entries differ in structure: {map}"
    );
    json!({ "<key>": entries[0] })
}

/// The shape of a body, with maps keyed by data collapsed.
fn normalized_shape(name: &str, body: &Value) -> Value {
    let mut body = body.clone();
    if name.starts_with("task-completed-delete")
        && let Some(result) = body.get_mut("result")
    {
        // Both ways of collapsing agree on the outer structure.
        assert_eq!(
            collapse_keys(&shape(&collapse_data_keys(result))),
            collapse_keys(&shape(result))
        );
        *result = collapse_data_keys(result);
    }
    shape(&body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_body_has_the_structure_of_its_fixture() {
    let bodies = simulated_bodies().await;
    // Every status, start and error fixture is covered.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/stream");
    let mut expected: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with("request-"))
        .collect();
    expected.sort();
    let mut covered: Vec<String> = bodies.iter().map(|(n, _)| (*n).to_owned()).collect();
    covered.sort();
    assert_eq!(covered, expected);

    let mut shapes = BTreeMap::new();
    for (name, body) in &bodies {
        let want = normalized_shape(name, &fixture("stream", name));
        let got = normalized_shape(name, body);
        assert_eq!(got, want, "{name}: simulator body {body}");
        shapes.insert(*name, got);
    }
    insta::assert_json_snapshot!("fixture_shapes", shapes);
}
