//! Readiness after the task, over HTTP against the simulator: a database create waits
//! for the database, then for its subscription; subscription creates for the
//! subscription; Essentials tasks read the `/v1/fixed/...` paths; a database in
//! `error` fails the wait; tasks that provision nothing end at the task; one deadline
//! covers the task and the resource; every wait draws from the client's one budget.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{client, fast, quick, sim, success};
use futures_core::Stream;
use serde_json::json;
use taskpoll::{ErrorKind, PhaseKind, Update, WaitError};
use taskpoll_redis_cloud::{
    DatabaseRef, Plan, ReadyFailed, ReadySource, ReadyTarget, RedisCloudClient, SubscriptionRef,
};
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig, TaskOptions};
use taskpoll_sim::script::{Lasting, ScriptStep};

const DB_GET: &str = "GET /v1/subscriptions/{subscriptionId}/databases/{databaseId}";
const SUB_GET: &str = "GET /v1/subscriptions/{subscriptionId}";

/// Quick tasks; a database shows `draft`, `pending`, `active-change-pending` for a poll
/// each, and its subscription settles one poll after it.
fn provisioning() -> RedisCloudSimConfig {
    RedisCloudSimConfig {
        database_provisioning: vec![
            ScriptStep::for_polls("draft", 1),
            ScriptStep::for_polls("pending", 1),
            ScriptStep::for_polls("active-change-pending", 1),
        ],
        subscription_settle: Lasting::Polls(1),
        ..quick()
    }
}

/// Watches a ready wait to its end: the status of each poll, and the outcome.
async fn watch(
    client: &RedisCloudClient,
    task: String,
) -> (Vec<String>, taskpoll::Outcome<ReadySource>) {
    let mut watch = fast(client.ready_poller()).watch(task);
    let mut statuses = Vec::new();
    loop {
        let update =
            std::future::poll_fn(|cx| Stream::poll_next(std::pin::Pin::new(&mut watch), cx))
                .await
                .expect("the watch ends with its outcome");
        match update {
            Update::Polled { phase, .. } if phase.kind != PhaseKind::Succeeded => {
                statuses.push(phase.status)
            }
            Update::Finished(outcome) => return (statuses, outcome),
            _ => {}
        }
    }
}

/// A subscription created and waited on until active; returns its id.
async fn active_subscription(client: &RedisCloudClient) -> i64 {
    let task = client
        .create_subscription(json!({"name": "ready"}))
        .await
        .unwrap();
    let ready = fast(client.ready_poller()).wait(task).await.unwrap();
    let sub = ready
        .subscription
        .expect("a subscription create waits for it");
    assert_eq!(sub.status.as_deref(), Some("active"));
    assert_eq!(ready.database, None);
    sub.id.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_create_waits_for_the_database_then_its_subscription() {
    let sim = sim(provisioning()).await;
    let client = client(&sim);
    let sub = active_subscription(&client).await;

    let task = client
        .create_database(sub, json!({"name": "cache"}))
        .await
        .unwrap();
    let (statuses, outcome) = watch(&client, task.clone()).await;
    let ready = outcome.result.unwrap();
    // The new task's first answer is a 404 (tolerated), then the task, then the
    // database through its provisioning statuses, then the subscription, which the
    // database create moved back to `pending`.
    let after_task: Vec<&str> = statuses
        .iter()
        .map(String::as_str)
        .skip_while(|s| *s != "processing-completed")
        .collect();
    assert_eq!(
        after_task,
        [
            "processing-completed",
            "database draft",
            "database pending",
            "database active-change-pending",
            "database active",
            "subscription pending",
        ]
    );
    assert_eq!(ready.task.task_id, task);
    assert_eq!(
        ready.task.command_type.as_deref(),
        Some("databaseCreateRequest")
    );
    assert_eq!(ready.task.additional_resource_id, Some(sub));
    let db = ready.database.as_ref().unwrap();
    assert_eq!(db.status.as_deref(), Some("active"));
    assert_eq!(db.id, ready.task.resource_id);
    assert_eq!(db.name.as_deref(), Some("cache"));
    assert!(db.public_endpoint.as_deref().unwrap().contains(':'));
    let s = ready.subscription.as_ref().unwrap();
    assert_eq!((s.id, s.status.as_deref()), (Some(sub), Some("active")));

    // Serialized: the task's fields, the database's named fields (not its body),
    // the subscription.
    let json = serde_json::to_value(&ready).unwrap();
    assert_eq!(json["taskId"], task);
    assert_eq!(json["resourceId"], db.id.unwrap());
    assert_eq!(json["database"]["status"], "active");
    assert!(json["database"]["publicEndpoint"].is_string());
    assert!(json["database"].get("links").is_none());
    assert_eq!(json["subscription"]["status"], "active");

    // The subscription was read only once the database was active.
    let log = sim.requests();
    let first_db = log.iter().position(|r| r.endpoint == DB_GET).unwrap();
    let last_db = log.iter().rposition(|r| r.endpoint == DB_GET).unwrap();
    assert!(
        log[first_db..=last_db]
            .iter()
            .all(|r| r.endpoint != SUB_GET)
    );
    assert!(log[last_db..].iter().any(|r| r.endpoint == SUB_GET));
    assert_eq!(sim.counts().endpoint(DB_GET), 4);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_until_ready_after_a_completed_task() {
    let sim = sim(provisioning()).await;
    let client = client(&sim);
    let sub = active_subscription(&client).await;
    let task = client.create_database(sub, json!({})).await.unwrap();
    let done = fast(client.poller()).wait(task).await.unwrap();
    assert_eq!(
        ReadyTarget::of(&done),
        Some(ReadyTarget::Database(DatabaseRef::pro(
            sub,
            done.resource_id.unwrap()
        )))
    );
    let polls_before =
        sim.counts().endpoint("GET /v1/tasks/{taskId}") + sim.counts().endpoint("GET /v1/tasks");
    // The default policy (1 s doubling to 30 s) would take a while: waits made through
    // the client's ready poller with a short interval.
    let poller = fast(client.ready_poller());
    poller.source().start_after(&done);
    let ready = poller.wait(done.task_id.clone()).await.unwrap();
    assert_eq!(ready.database.unwrap().status.as_deref(), Some("active"));
    assert_eq!(
        ready.subscription.unwrap().status.as_deref(),
        Some("active")
    );
    // Past the task: the task is not polled again.
    let polls_after =
        sim.counts().endpoint("GET /v1/tasks/{taskId}") + sim.counts().endpoint("GET /v1/tasks");
    assert_eq!(polls_before, polls_after);

    // The default settings, on a database already active: one read of each.
    let before = sim.counts();
    let ready = client.wait_until_ready(&done).await.unwrap();
    assert!(ready.waited());
    let after = sim.counts();
    assert_eq!(after.endpoint(DB_GET) - before.endpoint(DB_GET), 1);
    assert!(after.endpoint(SUB_GET) - before.endpoint(SUB_GET) >= 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn essentials_tasks_read_the_fixed_paths() {
    let sim = sim(provisioning()).await;
    let client = client(&sim);
    let task = client
        .create_fixed_subscription(json!({"name": "essentials", "planId": 98183}))
        .await
        .unwrap();
    let ready = fast(client.ready_poller()).wait(task).await.unwrap();
    assert_eq!(
        ready.task.command_type.as_deref(),
        Some("fixedSubscriptionCreateRequest")
    );
    let sub = ready.subscription.unwrap().id.unwrap();
    assert_eq!(
        client
            .get_fixed_subscription(sub)
            .await
            .unwrap()
            .status
            .as_deref(),
        Some("active")
    );

    let task = client.create_fixed_database(sub, json!({})).await.unwrap();
    let ready = fast(client.ready_poller()).wait(task).await.unwrap();
    assert_eq!(
        ready.task.command_type.as_deref(),
        Some("fixedDatabaseCreateRequest")
    );
    let db = ready.database.unwrap();
    assert_eq!(db.status.as_deref(), Some("active"));
    let db_ref = DatabaseRef::essentials(sub, db.id.unwrap());
    assert_eq!(
        db_ref.to_string(),
        format!("fixed/{sub}/{}", db.id.unwrap())
    );
    assert_eq!(db_ref.subscription(), SubscriptionRef::essentials(sub));
    assert_eq!(db_ref.plan, Plan::Essentials);
    assert_eq!(
        client
            .get_database(&db_ref)
            .await
            .unwrap()
            .status
            .as_deref(),
        Some("active")
    );
    let counts = sim.counts();
    assert!(
        counts.endpoint("GET /v1/fixed/subscriptions/{subscriptionId}/databases/{databaseId}") >= 4
    );
    assert!(counts.endpoint("GET /v1/fixed/subscriptions/{subscriptionId}") >= 2);
    assert_eq!(counts.endpoint(DB_GET), 0);
    assert_eq!(counts.endpoint(SUB_GET), 0);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_in_error_fails_the_wait() {
    let sim = sim(RedisCloudSimConfig {
        database_final: "error".into(),
        ..provisioning()
    })
    .await;
    let client = client(&sim);
    let sub = active_subscription(&client).await;
    let task = client
        .create_database(sub, json!({"name": "broken"}))
        .await
        .unwrap();
    let err = fast(client.ready_poller())
        .wait(task.clone())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    match err.failure().unwrap() {
        ReadyFailed::Database(f) => {
            assert_eq!(f.status, "error");
            assert_eq!(f.subscription_id, sub);
            assert_eq!(f.name.as_deref(), Some("broken"));
        }
        other => panic!("{other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains(&task), "{message}");
    assert!(
        message.contains("the task completed, but database"),
        "{message}"
    );
    let json = serde_json::to_value(err.failure().unwrap()).unwrap();
    assert_eq!(json["status"], "error");
    assert!(json["databaseId"].is_i64());

    // The database wait alone says the same.
    let db = DatabaseRef::pro(sub, json["databaseId"].as_i64().unwrap());
    let err = fast(client.database_poller()).wait(db).await.unwrap_err();
    assert_eq!(err.failure().unwrap().status, "error");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_create_while_the_subscription_changes_is_refused() {
    let sim = sim(provisioning()).await;
    let client = client(&sim);
    let sub = active_subscription(&client).await;
    let first = client.create_database(sub, json!({})).await.unwrap();
    let second = client.create_database(sub, json!({})).await.unwrap();
    let err = fast(client.ready_poller()).wait(second).await.unwrap_err();
    match err.failure().unwrap() {
        ReadyFailed::Task(f) => {
            assert_eq!(f.error_type.as_deref(), Some("SUBSCRIPTION_NOT_ACTIVE"));
            assert_eq!(f.status.as_deref(), Some("403 FORBIDDEN"));
        }
        other => panic!("{other:?}"),
    }
    let ready = fast(client.ready_poller()).wait(first).await.unwrap();
    assert_eq!(
        ready.subscription.unwrap().status.as_deref(),
        Some("active")
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_that_provision_nothing_end_at_the_task() {
    let sim = sim(quick()).await;
    let client = client(&sim);
    let id = sim.create_task_with(
        success(vec![], json!({"resourceId": 77899})),
        TaskOptions {
            command_type: Some("subscriptionDeleteRequest".into()),
            ..TaskOptions::default()
        },
    );
    let ready = fast(client.ready_poller()).wait(id.clone()).await.unwrap();
    assert!(!ready.waited());
    assert_eq!(ready.task.resource_id, Some(77899));
    let done = fast(client.poller()).wait(id).await.unwrap();
    let before = sim.counts().total;
    let ready = client.wait_until_ready(&done).await.unwrap();
    assert!(!ready.waited());
    assert_eq!(sim.counts().total, before);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_deadline_covers_the_task_and_the_resource() {
    let sim = sim(RedisCloudSimConfig {
        database_provisioning: vec![ScriptStep::for_time("pending", Duration::from_secs(60))],
        ..quick()
    })
    .await;
    let client = client(&sim);
    let sub = active_subscription(&client).await;
    let task = client.create_database(sub, json!({})).await.unwrap();
    let began = tokio::time::Instant::now();
    let err = fast(client.ready_poller())
        .configure(|p| p.deadline(Duration::from_millis(800)))
        .wait(task)
        .await
        .unwrap_err();
    assert!(began.elapsed() < Duration::from_secs(3));
    match &err {
        WaitError::TimedOut { last_phase, .. } => {
            assert_eq!(
                last_phase.as_ref().map(|p| p.status.as_str()),
                Some("database pending")
            );
        }
        other => panic!("{other:?}"),
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_ready_waits_batch_their_tasks_under_one_budget() {
    let sim = sim(RedisCloudSimConfig {
        serial_processing: false,
        ..quick()
    })
    .await;
    let client = client(&sim);
    let tasks: Vec<String> = {
        let mut v = Vec::new();
        for i in 0..3 {
            v.push(
                client
                    .create_subscription(json!({"name": format!("s{i}")}))
                    .await
                    .unwrap(),
            );
        }
        v
    };
    let mut group = fast(client.ready_poller())
        .wait_all(tasks.clone())
        .outcomes();
    let mut ready = 0;
    while let Some(o) =
        std::future::poll_fn(|cx| Stream::poll_next(std::pin::Pin::new(&mut group), cx)).await
    {
        let r = o.result.unwrap();
        assert_eq!(r.subscription.unwrap().status.as_deref(), Some("active"));
        ready += 1;
    }
    assert_eq!(ready, 3);
    assert!(sim.counts().endpoint("GET /v1/tasks") >= 1);

    // Every scheduler of the client draws from one request budget.
    let budget = client.scheduler().request_budget().clone();
    assert!(Arc::ptr_eq(
        &budget,
        client.ready_scheduler().request_budget()
    ));
    assert!(Arc::ptr_eq(
        &budget,
        client.database_scheduler().request_budget()
    ));
    assert!(Arc::ptr_eq(
        &budget,
        client.subscription_scheduler().request_budget()
    ));
    sim.shutdown().await;
}

/// The simulator used by the doc example still works with readiness on by default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_simulator_settings_reach_ready() {
    let sim = RedisCloudSim::start(RedisCloudSimConfig {
        defaults: taskpoll_sim::script::Defaults {
            task_time: Duration::from_millis(100),
            fail_every: None,
        },
        provisioning: Lasting::Polls(1),
        database_provisioning: vec![ScriptStep::for_polls("pending", 1)],
        ..RedisCloudSimConfig::default()
    })
    .await
    .unwrap();
    let client = common::builder(&sim).build().unwrap();
    let sub = active_subscription(&client).await;
    let task = client.create_database(sub, json!({})).await.unwrap();
    let ready = fast(client.ready_poller()).wait(task).await.unwrap();
    assert_eq!(ready.database.unwrap().status.as_deref(), Some("active"));
    sim.shutdown().await;
}

/// What the captured completions leave to wait for: the Essentials database create of
/// `task-completed-database.json` (wire: `fixedDatabaseCreateRequest`, `resourceId` =
/// the database, `additionalResourceId` = the subscription, its resource link under
/// `/v1/fixed/subscriptions`), and the subscription creates.
#[test]
fn targets_of_the_completed_fixtures() {
    use taskpoll::{Phase, TaskSource};
    use taskpoll_redis_cloud::TaskStateUpdate;
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/redis-cloud");
    let source = RedisCloudClient::new("fixture-key", "fixture-secret")
        .unwrap()
        .source();
    let completed = |name: &str| {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let task: TaskStateUpdate = serde_json::from_str(&text).unwrap();
        match source.classify(task) {
            Phase::Succeeded(done) => done,
            _ => panic!("{name} is not completed"),
        }
    };
    let db = completed("task-completed-database.json");
    assert_eq!(
        ReadyTarget::of(&db),
        Some(ReadyTarget::Database(DatabaseRef::essentials(
            111_728, 51_055_029
        )))
    );
    assert_eq!(
        db.resource_link.as_deref(),
        Some("https://api.redislabs.com/v1/fixed/subscriptions/111728/databases/51055029")
    );
    // The link is the request the readiness wait makes (under the client's base URL).
    assert_eq!(
        DatabaseRef::essentials(111_728, 51_055_029).path(),
        "fixed/subscriptions/111728/databases/51055029"
    );
    for name in [
        "task-completed-subscription.json",
        "task-with-legacy-_links.json",
    ] {
        assert_eq!(
            ReadyTarget::of(&completed(name)),
            Some(ReadyTarget::Subscription(SubscriptionRef::pro(77_899))),
            "{name}"
        );
    }
    // Serialized as before: the link stays out of the task's output.
    assert!(
        serde_json::to_value(&db)
            .unwrap()
            .get("resourceLink")
            .is_none()
    );
}
