//! The adapter over real HTTP against the Redis Cloud simulator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{builder, client, counted, failure, fast, polls, quick, sim, success};
use serde_json::json;
use taskpoll::{ErrorClass, ErrorKind, FetchGiveUp, TaskSource, VisibilityGrace, WaitError};
use taskpoll_redis_cloud::{RedisCloudClient, RedisCloudError, TaskStatus};
use taskpoll_sim::faults::{Fault, FaultPlan};
use taskpoll_sim::redis_cloud::{AuthFailure, ListForm, RedisCloudSimConfig, TaskOptions};

fn object_error() -> serde_json::Value {
    json!({
        "type": "GENERAL_ERROR",
        "status": "500 INTERNAL_SERVER_ERROR",
        "description": "General error occurred. Please contact Redis Labs support with your task ID",
        "additionalInfo": "rcp-cannot-provision-without-plan",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_subscription_then_database_complete_with_resource_ids() {
    let sim = sim(quick()).await;
    let client = client(&sim);
    let task = client
        .create_subscription(json!({"name": "demo"}))
        .await
        .unwrap();
    let done = fast(client.poller()).wait(task.clone()).await.unwrap();
    assert_eq!(done.task_id, task);
    assert_eq!(
        done.command_type.as_deref(),
        Some("subscriptionCreateRequest")
    );
    let sub = done.resource_id.unwrap();
    assert_eq!(done.additional_resource_id, None);

    // Active before a database can be made in it.
    fast(client.subscription_poller())
        .wait(sub.into())
        .await
        .unwrap();
    let task = client
        .create_database(sub, json!({"name": "db"}))
        .await
        .unwrap();
    let done = fast(client.poller()).wait(task).await.unwrap();
    assert_eq!(done.command_type.as_deref(), Some("databaseCreateRequest"));
    assert_eq!(done.additional_resource_id, Some(sub));
    assert!(done.resource_id.is_some());
    let json = serde_json::to_value(&done).unwrap();
    assert_eq!(json["additionalResourceId"], sub);
    assert!(json.get("taskId").is_some());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processing_error_ends_at_once_with_every_field() {
    let sim = sim(counted()).await;
    let client = client(&sim);
    let id = sim.create_task_with(
        failure(vec![polls("processing-in-progress", 1)], object_error()),
        TaskOptions {
            command_type: Some("subscriptionCreateRequest".into()),
            not_found_polls: None,
        },
    );
    let began = Instant::now();
    // The default intervals: the failure must end the wait at the poll that sees it.
    let outcome = client.poller().watch(id.clone()).outcome().await;
    assert!(began.elapsed() < Duration::from_secs(3));
    assert_eq!(outcome.polls, 2);
    let err = outcome.result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    let f = err.failure().unwrap();
    assert_eq!(f.task_id, id);
    assert_eq!(f.command_type.as_deref(), Some("subscriptionCreateRequest"));
    assert_eq!(f.error_type.as_deref(), Some("GENERAL_ERROR"));
    assert_eq!(f.status.as_deref(), Some("500 INTERNAL_SERVER_ERROR"));
    assert_eq!(
        f.description.as_deref(),
        Some("General error occurred. Please contact Redis Labs support with your task ID")
    );
    assert_eq!(
        f.additional_info.as_deref(),
        Some("rcp-cannot-provision-without-plan")
    );
    assert_eq!(f.task_status, "processing-error");
    assert_eq!(
        f.to_string(),
        "500 INTERNAL_SERVER_ERROR - GENERAL_ERROR: General error occurred. Please contact Redis Labs support with your task ID (additional info: rcp-cannot-provision-without-plan)"
    );
    assert!(err.to_string().contains(&id));
    let json = serde_json::to_value(f).unwrap();
    assert_eq!(json["type"], "GENERAL_ERROR");
    assert_eq!(json["additionalInfo"], "rcp-cannot-provision-without-plan");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn string_errors_and_errors_without_details_fail_too() {
    let sim = sim(counted()).await;
    let client = client(&sim);
    let id = sim.create_task(failure(vec![], json!("SUBSCRIPTION_NOT_FOUND")));
    let err = fast(client.poller()).wait(id).await.unwrap_err();
    let f = err.failure().unwrap();
    assert_eq!(f.error_type.as_deref(), Some("SUBSCRIPTION_NOT_FOUND"));
    assert_eq!(f.status, None);
    assert_eq!(f.to_string(), "SUBSCRIPTION_NOT_FOUND");
    assert_eq!(err.polls(), 1);

    // `"error": null`: processing-error without details still fails.
    let id = sim.create_task(failure(vec![], serde_json::Value::Null));
    let err = fast(client.poller()).wait(id).await.unwrap_err();
    let f = err.failure().unwrap();
    assert_eq!(f.error_type, None);
    assert_eq!(
        f.to_string(),
        "processing-error without error details: Task request failed during processing. See error information for failure details."
    );
    sim.shutdown().await;

    // The simulator's string mode sends object errors as their code.
    let sim = common::sim(RedisCloudSimConfig {
        string_errors: true,
        ..counted()
    })
    .await;
    let client = common::client(&sim);
    let id = sim.create_task(failure(vec![], object_error()));
    let err = fast(client.poller()).wait(id).await.unwrap_err();
    let f = err.failure().unwrap();
    assert_eq!(f.error_type.as_deref(), Some("GENERAL_ERROR"));
    assert_eq!(
        f.additional_info.as_deref(),
        Some("rcp-cannot-provision-without-plan")
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_just_after_creation_then_success() {
    let sim = sim(quick()).await;
    let client = client(&sim);
    let id = sim.create_task_with(
        success(
            vec![polls("initialized", 1), polls("processing-in-progress", 1)],
            json!({"resourceId": 77899}),
        ),
        TaskOptions {
            not_found_polls: Some(3),
            ..TaskOptions::default()
        },
    );
    let outcome = fast(client.poller()).watch(id).outcome().await;
    assert_eq!(outcome.result.unwrap().resource_id, Some(77899));
    assert_eq!(outcome.polls, 6);
    assert_eq!(sim.counts().status(404), 3);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_beyond_the_grace_window_fails_clearly() {
    let sim = sim(quick()).await;
    let client = client(&sim);
    let id = sim.create_task_with(
        success(vec![], json!({})),
        TaskOptions {
            not_found_polls: Some(10_000),
            ..TaskOptions::default()
        },
    );
    // By time.
    let err = fast(client.poller())
        .configure(|p| p.visibility(VisibilityGrace::for_duration(Duration::from_millis(150))))
        .wait(id.clone())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Fetch);
    assert!(matches!(
        err,
        WaitError::Fetch {
            give_up: FetchGiveUp::NotVisible { .. },
            ..
        }
    ));
    let inner = err.fetch_error().unwrap();
    assert!(matches!(inner, RedisCloudError::UnknownTask { .. }));
    let text = err.to_string();
    assert!(
        text.contains(&format!("task {id} is unknown to Redis Cloud")),
        "{text}"
    );
    assert!(
        text.contains("Task ") && text.contains("was not found"),
        "{text}"
    );

    // By count (set on the client: the default policy carries it).
    let counted = builder(&sim)
        .visibility_grace(VisibilityGrace::count(2))
        .build()
        .unwrap();
    let err = fast(counted.poller()).wait(id).await.unwrap_err();
    assert_eq!(err.polls(), 3);
    assert!(matches!(
        err,
        WaitError::Fetch {
            give_up: FetchGiveUp::NotVisible { count: 3 },
            ..
        }
    ));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_ends_after_one_request() {
    let sim = sim(quick()).await;
    let id = sim.create_task(success(vec![], json!({})));
    let bad = RedisCloudClient::builder(sim.api_key(), "not-the-secret-3f9a")
        .base_url(&sim.base_url())
        .build()
        .unwrap();
    let err = fast(bad.poller()).wait(id).await.unwrap_err();
    assert!(matches!(
        err,
        WaitError::Fetch {
            give_up: FetchGiveUp::Permanent,
            ..
        }
    ));
    assert_eq!(err.polls(), 1);
    assert_eq!(sim.counts().total, 1);
    let e = err.fetch_error().unwrap();
    assert_eq!(e.status(), Some(401));
    let text = err.to_string();
    assert!(text.contains("HTTP 401 Unauthorized"), "{text}");
    assert!(text.contains("Authentication failed for requested resource"));
    assert!(
        !text.contains("not-the-secret-3f9a")
            && !format!("{err:?}").contains("not-the-secret-3f9a")
    );
    sim.shutdown().await;

    // The gateway's HTML page is kept as opaque text.
    let sim = common::sim(RedisCloudSimConfig {
        auth_failure: AuthFailure::NginxHtml,
        ..quick()
    })
    .await;
    let bad = RedisCloudClient::builder("wrong-key", sim.secret_key())
        .base_url(&sim.base_url())
        .build()
        .unwrap();
    let e = bad.list_tasks().await.unwrap_err();
    assert_eq!(e.class(Duration::ZERO), ErrorClass::Permanent);
    let body = e.body().unwrap();
    assert_eq!(body.error, None);
    assert!(
        body.text.contains("401 Authorization Required"),
        "{}",
        body.text
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_then_success_honouring_retry_after() {
    let sim = sim(counted()).await;
    let client = client(&sim);
    let id = sim.create_task(success(vec![], json!({"resourceId": 1})));
    sim.set_faults(FaultPlan::default().at(
        1,
        Fault::RateLimited {
            retry_after_secs: Some(1),
        },
    ));
    let began = Instant::now();
    let outcome = fast(client.poller()).watch(id).outcome().await;
    assert_eq!(outcome.result.unwrap().resource_id, Some(1));
    assert_eq!(outcome.polls, 2);
    assert!(began.elapsed() >= Duration::from_secs(1));
    assert_eq!(sim.counts().retry_after_violations, 0);
    assert_eq!(sim.counts().status(429), 1);
    sim.shutdown().await;
}

/// A 429 without `Retry-After` asks for the client's floor, and its
/// `x-rate-limit-remaining: 0` holds every wait on the key until the window ends (at
/// most 60 s: Redis Cloud does not say when its window started). That the scheduler
/// keeps to both is the core's to test, on a paused clock; here, what the client reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_429_asks_for_the_floor_and_holds_the_key_for_the_window() {
    let sim = sim(counted()).await;
    let client = builder(&sim)
        .rate_limit_floor(Duration::from_millis(300))
        .build()
        .unwrap();
    assert_eq!(client.rate_limit_floor(), Duration::from_millis(300));
    let id = sim.create_task(success(vec![], json!({})));
    sim.set_faults(FaultPlan::default().at(
        1,
        Fault::RateLimited {
            retry_after_secs: None,
        },
    ));
    let asked = tokio::time::Instant::now();
    let err = client.get_task(&id).await.unwrap_err();
    assert_eq!(
        client.source().error_class(&err),
        ErrorClass::RateLimited {
            retry_after: Some(Duration::from_millis(300))
        }
    );
    let hint = client.source().rate_limit().unwrap();
    assert_eq!(hint.remaining, 0);
    let held = hint.resets_at - asked;
    assert!(
        (Duration::from_secs(59)..=Duration::from_secs(61)).contains(&held),
        "{held:?}"
    );
    // The default floor is 30 s, as Redis Cloud support advises.
    let default = common::client(&sim);
    let e = RedisCloudError::Http {
        operation: taskpoll_redis_cloud::Operation::GetTask,
        status: 429,
        retry_after: None,
        body: Box::default(),
    };
    assert_eq!(
        default.source().error_class(&e),
        ErrorClass::RateLimited {
            retry_after: Some(Duration::from_secs(30))
        }
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_resets_and_bad_bodies_are_retried() {
    let sim = sim(quick()).await;
    let client = client(&sim);
    let id = sim.create_task(success(
        vec![polls("processing-in-progress", 1)],
        json!({"resourceId": 3}),
    ));
    let faults = [
        Fault::ServerError { status: 503 },
        Fault::ServerError { status: 500 },
        Fault::ServerError { status: 502 },
        Fault::ServerError { status: 504 },
        Fault::Reset,
        Fault::Malformed,
        Fault::Truncated,
        Fault::NonJson { status: 502 },
        Fault::Slow { millis: 50 },
    ];
    let mut plan = FaultPlan::default();
    for (i, f) in faults.iter().enumerate() {
        plan = plan.at(i as u64 + 1, *f);
    }
    sim.set_faults(plan);
    let mut watch = fast(client.poller()).watch(id);
    let mut retries = Vec::new();
    let outcome = loop {
        match std::future::poll_fn(|cx| {
            futures_core::Stream::poll_next(std::pin::Pin::new(&mut watch), cx)
        })
        .await
        .unwrap()
        {
            taskpoll::Update::Retrying { error, class, .. } => {
                assert!(class.is_transient(), "{error}");
                retries.push(error.to_string());
            }
            taskpoll::Update::Finished(o) => break o,
            _ => {}
        }
    };
    assert_eq!(outcome.result.unwrap().resource_id, Some(3));
    assert_eq!(retries.len(), 8, "{retries:#?}");
    assert!(
        retries[0].contains("HTTP 503 Service Unavailable"),
        "{}",
        retries[0]
    );
    assert!(
        retries[5].contains("not the expected JSON"),
        "{}",
        retries[5]
    );
    assert!(
        retries[7].contains("<center>nginx</center>"),
        "{}",
        retries[7]
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_past_the_cap_are_refused() {
    let sim = sim(counted()).await;
    let client = builder(&sim).max_response_bytes(64).build().unwrap();
    let id = sim.create_task(success(vec![], json!({})));
    let e = client.get_task(&id).await.unwrap_err();
    assert!(
        matches!(e, RedisCloudError::TooLarge { cap: 64, .. }),
        "{e}"
    );
    assert_eq!(e.class(Duration::ZERO), ErrorClass::Permanent);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_wait_reaches_active_and_deleting_fails() {
    let sim = sim(RedisCloudSimConfig {
        provisioning: taskpoll_sim::script::Lasting::Polls(2),
        ..quick()
    })
    .await;
    let client = client(&sim);
    let task = client.create_subscription(json!({})).await.unwrap();
    let sub = fast(client.poller())
        .wait(task)
        .await
        .unwrap()
        .resource_id
        .unwrap();
    let outcome = fast(client.subscription_poller())
        .watch(sub.into())
        .outcome()
        .await;
    let s = outcome.result.unwrap();
    assert_eq!(s.status.as_deref(), Some("active"));
    assert_eq!(s.id, Some(sub));
    assert_eq!(outcome.polls, 3);
    assert_eq!(serde_json::to_value(&s).unwrap()["status"], "active");

    let task = client.delete_subscription(sub).await.unwrap();
    let done = fast(client.poller()).wait(task).await.unwrap();
    assert_eq!(done.resource_id, Some(sub));
    let err = fast(client.subscription_poller())
        .wait(sub.into())
        .await
        .unwrap_err();
    let f = err.failure().unwrap();
    assert_eq!(f.status, "deleting");
    assert!(f.to_string().contains("being deleted"));

    // Gone: 404 is an unknown subscription.
    for _ in 0..3 {
        let _ = client.get_subscription(sub).await;
    }
    let e = client.get_subscription(sub).await.unwrap_err();
    assert!(
        matches!(e, RedisCloudError::UnknownSubscription { .. }),
        "{e}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_ids_reach_the_server_as_one_segment() {
    let sim = sim(quick()).await;
    let client = client(&sim);
    for (id, target) in [
        ("../subscriptions", "/v1/tasks/..%2Fsubscriptions"),
        ("a/b?c=d", "/v1/tasks/a%2Fb%3Fc%3Dd"),
        ("%2e%2e", "/v1/tasks/%252e%252e"),
    ] {
        let e = client.get_task(id).await.unwrap_err();
        assert!(matches!(e, RedisCloudError::UnknownTask { .. }), "{e}");
        let rec = sim.requests().pop().unwrap();
        assert_eq!(rec.target, target);
        assert_eq!(rec.endpoint, "GET /v1/tasks/{taskId}");
        assert_eq!(rec.task_ids, [id]);
    }
    let before = sim.counts().total;
    for id in ["", ".", ".."] {
        let e = client.get_task(id).await.unwrap_err();
        assert!(matches!(e, RedisCloudError::InvalidTaskId(_)), "{e}");
        assert_eq!(e.class(Duration::ZERO), ErrorClass::Permanent);
    }
    assert_eq!(sim.counts().total, before);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_never_show() {
    const KEY: &str = "acct-key-7d1e44";
    const SECRET: &str = "user-secret-9b20c1";
    let sim = sim(RedisCloudSimConfig {
        api_key: KEY.into(),
        secret_key: SECRET.into(),
        ..quick()
    })
    .await;
    let b = builder(&sim);
    let client = b.clone().build().unwrap();
    let wrong = RedisCloudClient::builder(KEY, "x")
        .base_url(&sim.base_url())
        .build()
        .unwrap();
    let auth = wrong.get_task("t").await.unwrap_err();
    let unknown = client.get_task("t").await.unwrap_err();
    let wait = fast(wrong.poller()).wait("t".to_owned()).await.unwrap_err();
    // Nothing listens on port 9 of loopback: a connect error.
    let offline = RedisCloudClient::builder(KEY, SECRET)
        .base_url("http://127.0.0.1:9/v1")
        .build()
        .unwrap();
    let transport = offline.get_task("t").await.unwrap_err();
    assert!(transport.is_transient(), "{transport}");
    let texts = [
        format!("{b:?}"),
        format!("{client:?}"),
        format!("{:?}", client.source()),
        format!("{:?}", client.subscription_source()),
        format!("{:?}", client.poller()),
        format!("{auth} {auth:?}"),
        format!("{unknown} {unknown:?}"),
        format!("{wait} {wait:?}"),
        format!("{transport} {transport:?}"),
    ];
    for t in texts {
        assert!(!t.contains(KEY) && !t.contains(SECRET), "leaked: {t}");
    }
    assert!(format!("{client:?}").contains("***"));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_and_malformed_configuration_is_refused() {
    let e = RedisCloudClient::new("", "s").unwrap_err();
    assert!(e.to_string().contains("x-api-key"), "{e}");
    let e = RedisCloudClient::new("k", "").unwrap_err();
    assert!(e.to_string().contains("x-api-secret-key"), "{e}");
    let e = RedisCloudClient::new("k\n", "s").unwrap_err();
    assert!(
        matches!(e, RedisCloudError::InvalidCredential { .. }),
        "{e}"
    );
    let e = RedisCloudClient::builder("k", "s")
        .base_url("http://api.redislabs.com/v1")
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("plain HTTP"), "{e}");
    let c = RedisCloudClient::new("k", "s").unwrap();
    assert_eq!(c.base_url(), "https://api.redislabs.com/v1");
    assert_eq!(c.requests_per_minute(), 300);
    assert_eq!(c.source().requests_per_minute(), 300);
    let policy = c.source().default_policy();
    assert_eq!(policy.deadline, Some(Duration::from_secs(1800)));
    assert_eq!(
        policy.visibility,
        VisibilityGrace::for_duration(Duration::from_secs(30))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_tasks_in_every_shape() {
    let sim = sim(RedisCloudSimConfig {
        serial_processing: false,
        ..counted()
    })
    .await;
    let client = client(&sim);
    assert!(client.list_tasks().await.unwrap().is_empty());
    let a = sim.create_task(success(vec![polls("received", 5)], json!({})));
    let b = sim.create_task(failure(vec![], object_error()));
    let tasks = client.list_tasks().await.unwrap();
    let ids: Vec<_> = tasks.iter().filter_map(|t| t.task_id.clone()).collect();
    assert!(ids.contains(&a) && ids.contains(&b));
    assert!(tasks.iter().all(|t| t.timestamp().is_some()));
    sim.shutdown().await;

    let sim = common::sim(RedisCloudSimConfig {
        list_form: ListForm::BareArray,
        ..counted()
    })
    .await;
    let client = common::client(&sim);
    assert!(client.list_tasks().await.unwrap().is_empty());
    sim.create_task(success(vec![polls("received", 5)], json!({})));
    let tasks = client.list_tasks().await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].status, Some(TaskStatus::Received));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_calls_report_http_errors() {
    let sim = sim(RedisCloudSimConfig {
        defaults: taskpoll_sim::script::Defaults {
            task_time: Duration::from_secs(60),
            fail_every: None,
        },
        ..quick()
    })
    .await;
    let client = client(&sim);
    let e = client
        .create_database(424_242, json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404));
    assert!(
        e.to_string()
            .starts_with("could not create database: HTTP 404"),
        "{e}"
    );
    let e = client.delete_subscription(424_242).await.unwrap_err();
    assert_eq!(e.status(), Some(404));
    // More than three subscriptions changing at once: 429.
    for _ in 0..3 {
        client.create_subscription(json!({})).await.unwrap();
    }
    let e = client.create_subscription(json!({})).await.unwrap_err();
    assert_eq!(e.status(), Some(429));
    assert!(e.is_transient());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_statuses_keep_the_wait_going() {
    let sim = sim(quick()).await;
    let client = client(&sim);
    let id = sim.create_task(success(
        vec![polls("processing-paused", 2)],
        json!({"resourceId": 8}),
    ));
    let mut watch = fast(client.poller()).watch(id);
    let mut unrecognized = 0;
    let outcome = loop {
        match std::future::poll_fn(|cx| {
            futures_core::Stream::poll_next(std::pin::Pin::new(&mut watch), cx)
        })
        .await
        .unwrap()
        {
            taskpoll::Update::Polled { phase, .. } if !phase.recognized => {
                assert_eq!(phase.status, "processing-paused");
                unrecognized += 1;
            }
            taskpoll::Update::Finished(o) => break o,
            _ => {}
        }
    };
    assert_eq!(unrecognized, 2);
    assert_eq!(outcome.result.unwrap().resource_id, Some(8));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_remaining_is_tracked() {
    let sim = sim(RedisCloudSimConfig {
        rate_limit_per_minute: 10,
        ..quick()
    })
    .await;
    let client = client(&sim);
    assert!(client.rate_limit().is_none());
    client.list_tasks().await.unwrap();
    client.list_tasks().await.unwrap();
    let hint = client.source().rate_limit().unwrap();
    assert_eq!(hint.remaining, 8);
    assert!(hint.resets_at > tokio::time::Instant::now());
    // A 429 with Retry-After: nothing remains, until Retry-After says.
    sim.set_faults(FaultPlan::default().at(
        1,
        Fault::RateLimited {
            retry_after_secs: Some(2),
        },
    ));
    client.list_tasks().await.unwrap_err();
    let hint = client.rate_limit().unwrap();
    assert_eq!(hint.remaining, 0);
    let left = hint.resets_at - tokio::time::Instant::now();
    assert!(
        left <= Duration::from_secs(2) && left > Duration::from_secs(1),
        "{left:?}"
    );
    let budget = client.budget();
    assert_eq!(budget.requests_per_minute, Some(300));
    assert_eq!(budget.rate_limit_pause, Duration::from_secs(30));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_past_the_request_timeout_are_retried() {
    let sim = sim(counted()).await;
    let client = builder(&sim)
        .request_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let id = sim.create_task(success(vec![], json!({"resourceId": 5})));
    sim.set_faults(FaultPlan::default().at(1, Fault::Slow { millis: 400 }));
    let e = client.get_task(&id).await.unwrap_err();
    assert!(matches!(e, RedisCloudError::Transport { .. }), "{e}");
    assert!(e.is_transient());
    assert!(e.to_string().contains("timed out"), "{e}");
    sim.set_faults(FaultPlan::default().at(1, Fault::Slow { millis: 400 }));
    let outcome = fast(client.poller()).watch(id).outcome().await;
    assert_eq!(outcome.result.unwrap().resource_id, Some(5));
    assert_eq!(outcome.polls, 2);
    sim.shutdown().await;
}
