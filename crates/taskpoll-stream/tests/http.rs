//! The adapter over real HTTP against the Stream simulator: start calls, waits that
//! succeed, fail, time out, and survive 429s, 5xx, resets, slow and malformed answers;
//! errors that end a wait at once; task-id encoding; no secret in any output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{client, collect, fails, fast, ms, quick, sim, succeeds};
use serde_json::json;
use taskpoll::{ErrorClass, ErrorKind, FetchGiveUp, PhaseKind, TaskSource, Update, WaitError};
use taskpoll_http::TransportKind;
use taskpoll_sim::faults::{Fault, FaultPlan};
use taskpoll_sim::stream::StreamSimConfig;
use taskpoll_stream::{
    ChannelRef, DEFAULT_POLL_INTERVAL, DEFAULT_WAIT_TIMEOUT, ItemResult, Started, StreamClient,
    StreamError, StreamSource, Timestamp,
};

const STATUS: &str = "GET /api/v2/tasks/{id}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_started_then_waited_on_completes_with_its_result() {
    let sim = sim(quick(150)).await;
    let client = client(&sim);
    let id = client
        .export_channels(&[
            ChannelRef::new("messaging", "general"),
            ChannelRef::cid("messaging:random"),
        ])
        .await
        .unwrap();
    let outcome = fast(&client).watch(id.clone()).outcome().await;
    let done = outcome.result.unwrap();
    assert_eq!(done.task_id(), id);
    assert_eq!(done.task.status, "completed");
    assert!(
        done.result["url"]
            .as_str()
            .unwrap()
            .contains("/exports/channels/")
    );
    assert_eq!(done.result["s3_bucket_name"], "stream-chat-exports");
    assert_eq!(Some(&done.result), done.task.result.as_ref());
    assert!(matches!(
        done.task.created_at,
        Some(Timestamp::UnixNanos(_))
    ));
    assert!(outcome.polls >= 3, "waiting, pending, running, completed");

    let log = sim.requests();
    assert_eq!(log[0].method, "POST");
    assert_eq!(
        log[0].target,
        format!("/api/v2/chat/export_channels?api_key={}", sim.api_key())
    );
    assert_eq!(log[0].status, 201);
    assert!(log[1..].iter().all(|r| r.endpoint == STATUS
        && r.status == 200
        && r.target == format!("/api/v2/tasks/{id}?api_key={}", sim.api_key())));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_complete_with_results_keyed_by_cid_and_user_id() {
    let sim = sim(quick(60)).await;
    let client = client(&sim);
    let cids = [
        "messaging:general".to_owned(),
        "messaging:random".to_owned(),
    ];
    let channels = client
        .delete_channels(&cids, true)
        .await
        .unwrap()
        .into_task_id()
        .unwrap();
    let users = client
        .delete_users(&["user-1".to_owned(), "user-2".to_owned()])
        .await
        .unwrap();
    let poller = fast(&client);
    let done = poller.wait(channels).await.unwrap();
    assert_eq!(
        done.result,
        json!({"messaging:general": {"status": "ok"}, "messaging:random": {"status": "ok"}})
    );
    let done = poller.wait(users).await.unwrap();
    assert_eq!(
        done.result,
        json!({"user-1": {"status": "ok"}, "user-2": {"status": "ok"}})
    );
    let counts = sim.counts();
    assert_eq!(counts.endpoint("POST /api/v2/chat/channels/delete"), 1);
    assert_eq!(counts.endpoint("POST /api/v2/users/delete"), 1);
    sim.shutdown().await;
}

/// A simulator whose deletes fail for `messaging:frozen` and `user-owner`.
fn with_item_errors() -> StreamSimConfig {
    StreamSimConfig {
        item_errors: BTreeMap::from([
            (
                "messaging:frozen".to_owned(),
                "channel is frozen".to_owned(),
            ),
            ("user-owner".to_owned(), "user owns channels".to_owned()),
            ("default:standup".to_owned(), "call is live".to_owned()),
        ]),
        ..quick(60)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_with_a_failed_channel_ends_the_wait_failed_naming_it() {
    let sim = sim(with_item_errors()).await;
    let client = client(&sim);
    let cids = [
        "messaging:general".to_owned(),
        "messaging:frozen".to_owned(),
    ];
    let id = client
        .delete_channels(&cids, true)
        .await
        .unwrap()
        .into_task_id()
        .unwrap();
    let err = fast(&client).wait(id.clone()).await.unwrap_err();
    // A task failure, although Stream says `completed`.
    assert_eq!(err.kind(), ErrorKind::Failed);
    let WaitError::Failed { failure, .. } = &err else {
        panic!("{err:?}");
    };
    let items = failure.as_items().unwrap();
    assert_eq!(items.task_id, id);
    assert_eq!(
        items.failed().collect::<Vec<_>>(),
        [("messaging:frozen", "channel is frozen")]
    );
    assert_eq!(
        failure.failed_items(),
        [("messaging:frozen", "channel is frozen")]
    );
    assert_eq!(failure.error_type(), "items_failed");
    assert_eq!(failure.task_id(), id);
    // The whole per-item map stays available.
    assert_eq!(items.items.len(), 2);
    assert!(items.items.get("messaging:general").unwrap().is_ok());
    assert_eq!(
        items.items.get("messaging:frozen").unwrap(),
        &ItemResult::failed("channel is frozen")
    );
    // Display and serialized fields name each failed item and its reason.
    assert_eq!(
        failure.to_string(),
        "items_failed: 1 of 2 items failed: messaging:frozen (channel is frozen)"
    );
    assert!(
        err.to_string().starts_with(&format!(
            "task {id} failed: items_failed: 1 of 2 items failed: messaging:frozen (channel is frozen)"
        )),
        "{err}"
    );
    assert_eq!(
        serde_json::to_value(failure).unwrap(),
        json!({
            "task_id": id,
            "type": "items_failed",
            "description": "1 of 2 items failed: messaging:frozen (channel is frozen)",
            "failed_items": {"messaging:frozen": "channel is frozen"},
            "result": {
                "messaging:general": {"status": "ok"},
                "messaging:frozen": {"status": "error", "error": "channel is frozen"},
            },
        })
    );
    // The SDK-style wait says the same.
    let again = client.wait_for_task(&id).await.unwrap_err();
    assert_eq!(again.failure(), Some(failure));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_and_call_deletes_with_failed_items_fail_too_and_clean_ones_succeed() {
    let sim = sim(with_item_errors()).await;
    let client = client(&sim);
    let poller = fast(&client);
    let users = client
        .delete_users(&[
            "user-1".to_owned(),
            "user-owner".to_owned(),
            "user-2".to_owned(),
        ])
        .await
        .unwrap();
    let err = poller.wait(users).await.unwrap_err();
    let failure = err.failure().unwrap();
    assert_eq!(
        failure.failed_items(),
        [("user-owner", "user owns channels")]
    );
    assert_eq!(
        failure.description(),
        "1 of 3 items failed: user-owner (user owns channels)"
    );

    let call = client.hard_delete_call("default", "standup").await.unwrap();
    let err = poller.wait(call).await.unwrap_err();
    assert_eq!(
        err.failure().unwrap().failed_items(),
        [("default:standup", "call is live")]
    );

    // Every item ok: a success, its items typed.
    let clean = client
        .delete_users(&["user-1".to_owned(), "user-2".to_owned()])
        .await
        .unwrap();
    let done = poller.wait(clean).await.unwrap();
    let items = done.items().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|(_, r)| r.is_ok()));
    assert!(done.failed_items().is_empty());
    // An export's result is not a per-item map.
    let export = client
        .export_channels(&[ChannelRef::cid("messaging:general")])
        .await
        .unwrap();
    assert_eq!(poller.wait(export).await.unwrap().items(), None);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_answered_at_once_returns_its_result_instead_of_a_task() {
    let sim = sim(StreamSimConfig {
        sync_delete_channels: true,
        ..with_item_errors()
    })
    .await;
    let client = client(&sim);
    let cids = [
        "messaging:general".to_owned(),
        "messaging:frozen".to_owned(),
    ];
    let started = client.delete_channels(&cids, true).await.unwrap();
    assert_eq!(started.task_id(), None);
    let Started::Done(reply) = &started else {
        panic!("{started:?}");
    };
    assert_eq!(reply.task_id, None);
    assert!(reply.duration.as_deref().unwrap().ends_with("ms"));
    assert_eq!(
        started.result(),
        Some(&json!({
            "messaging:general": {"status": "ok"},
            "messaging:frozen": {"status": "error", "error": "channel is frozen"},
        }))
    );
    let items = started.items().unwrap();
    assert!(items.get("messaging:general").unwrap().is_ok());
    assert_eq!(
        started.failed_items(),
        [(
            "messaging:frozen".to_owned(),
            ItemResult::failed("channel is frozen")
        )]
    );
    // No task, so nothing was polled.
    assert_eq!(sim.counts().total, 1);
    assert_eq!(sim.counts().endpoint(STATUS), 0);
    sim.shutdown().await;

    // Without the simulator's switch the same call starts a task.
    let sim = common::sim(quick(30)).await;
    let client = common::client(&sim);
    let started = client.delete_channels(&cids, false).await.unwrap();
    assert_eq!(started.result(), None);
    let id = started.into_task_id().unwrap();
    assert!(fast(&client).wait(id).await.is_ok());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_exports_activation_blocklist_imports_and_hard_call_deletes_start_and_complete() {
    let sim = sim(quick(60)).await;
    let client = client(&sim);
    let poller = fast(&client);
    let users = ["user-1".to_owned(), "user-2".to_owned()];

    let id = client.export_users(&users).await.unwrap();
    let done = poller.wait(id).await.unwrap();
    assert!(
        done.result["url"]
            .as_str()
            .unwrap()
            .contains("/exports/users/")
    );
    for id in [
        client.deactivate_users(&users).await.unwrap(),
        client.reactivate_users(&users).await.unwrap(),
        client
            .import_blocklist("profanity en/1", &["darn".to_owned(), "heck".to_owned()])
            .await
            .unwrap(),
    ] {
        let done = poller.wait(id).await.unwrap();
        assert_eq!(done.task.status, "completed");
        assert_eq!(done.items(), None);
    }
    let id = client.hard_delete_call("livestream", "ls 7").await.unwrap();
    let done = poller.wait(id).await.unwrap();
    assert_eq!(done.result, json!({"livestream:ls 7": {"status": "ok"}}));

    // Each went to its own path, names as one encoded segment each.
    let key = sim.api_key().to_owned();
    let starts: Vec<(String, String, u16)> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .map(|r| (r.endpoint, r.target, r.status))
        .collect();
    assert_eq!(
        starts,
        [
            (
                "POST /api/v2/export/users",
                "/api/v2/export/users".to_owned()
            ),
            (
                "POST /api/v2/users/deactivate",
                "/api/v2/users/deactivate".to_owned()
            ),
            (
                "POST /api/v2/users/reactivate",
                "/api/v2/users/reactivate".to_owned()
            ),
            (
                "POST /api/v2/blocklists/{id}/import",
                "/api/v2/blocklists/profanity%20en%2F1/import".to_owned()
            ),
            (
                "POST /api/v2/video/call/{type}/{id}/delete",
                "/api/v2/video/call/livestream/ls%207/delete".to_owned()
            ),
        ]
        .map(|(e, t)| (e.to_owned(), format!("{t}?api_key={key}"), 201))
    );

    // Names that cannot be one path segment are refused before any request.
    let before = sim.counts().total;
    for err in [
        client
            .import_blocklist("", &["x".to_owned()])
            .await
            .unwrap_err(),
        client.hard_delete_call("..", "x").await.unwrap_err(),
        client.hard_delete_call("default", ".").await.unwrap_err(),
    ] {
        assert!(
            matches!(err, StreamError::InvalidPathParameter { .. }),
            "{err:?}"
        );
        assert_eq!(err.class(), ErrorClass::Permanent);
    }
    assert_eq!(
        client
            .hard_delete_call("default", "")
            .await
            .unwrap_err()
            .to_string(),
        "invalid call id \"\": it is empty"
    );
    assert_eq!(sim.counts().total, before);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_start_is_a_permanent_error_with_streams_code() {
    let sim = sim(StreamSimConfig::default()).await;
    let client = client(&sim);
    let err = client.export_channels(&[]).await.unwrap_err();
    assert!(matches!(err, StreamError::Rejected(_)), "{err:?}");
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.code(), Some(4));
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(
        err.to_string().starts_with(
            "Stream rejected ExportChannels: HTTP 400, code 4: ExportChannels failed with error: \"channels must name 1 to 25 channels\""
        ),
        "{err}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_task_polls_at_once_then_every_second() {
    let sim = sim(StreamSimConfig::default()).await;
    let client = client(&sim);
    let id = sim.create_task(succeeds(&[("running", 1)], json!({"url": "https://x"})));
    let done = client.wait_for_task(&id).await.unwrap();
    assert_eq!(done.result, json!({"url": "https://x"}));
    let log = sim.requests();
    assert_eq!(log.len(), 2);
    let gap = log[1].at_ms - log[0].at_ms;
    assert!((950..2_500).contains(&gap), "gap {gap} ms");

    let policy = client.source().default_policy();
    assert_eq!(policy.initial_delay, Some(Duration::ZERO));
    assert_eq!(policy.deadline, Some(DEFAULT_WAIT_TIMEOUT));
    assert_eq!(DEFAULT_WAIT_TIMEOUT, Duration::from_secs(60));
    assert_eq!(DEFAULT_POLL_INTERVAL, Duration::from_secs(1));
    let mut delays = policy.strategy.delays(0);
    assert_eq!(delays.next(), Some(Duration::from_secs(1)));
    assert_eq!(delays.next(), Some(Duration::from_secs(1)));
    assert_eq!(client.source().name(), "stream");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_task_ends_the_wait_with_every_error_field() {
    let sim = sim(StreamSimConfig::default()).await;
    let client = client(&sim);
    let error = json!({
        "type": "export_failed",
        "description": "channel messaging:missing does not exist",
        "stacktrace": "goroutine 42 [running]:\nmain.exportChannels(...)",
        "version": "v6.112.0",
    });
    let id = sim.create_task(fails(&[("pending", 1), ("running", 1)], error.clone()));
    let err = fast(&client).wait(id.clone()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    assert_eq!(err.polls(), 3);
    let failure = err.failure().unwrap().as_task().unwrap();
    assert_eq!(failure.task_id, id);
    assert_eq!(failure.error_type, "export_failed");
    assert_eq!(
        failure.description,
        "channel messaging:missing does not exist"
    );
    assert_eq!(
        failure.stack_trace.as_deref(),
        Some("goroutine 42 [running]:\nmain.exportChannels(...)")
    );
    assert_eq!(failure.version.as_deref(), Some("v6.112.0"));
    let mut wire = error;
    wire["task_id"] = json!(id);
    assert_eq!(serde_json::to_value(failure).unwrap(), wire);
    assert!(
        err.to_string().starts_with(&format!(
            "task {id} failed: export_failed: channel messaging:missing does not exist"
        )),
        "{err}"
    );
    // wait_for_task reports the same.
    let err = client.wait_for_task(&id).await.unwrap_err();
    assert_eq!(err.failure().unwrap(), failure);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_without_an_error_object_is_type_unknown() {
    let sim = sim(StreamSimConfig::default()).await;
    let client = client(&sim);
    let id = sim.create_task(fails(&[], serde_json::Value::Null));
    let err = fast(&client).wait(id.clone()).await.unwrap_err();
    let failure = err.failure().unwrap().as_task().unwrap();
    assert_eq!(failure.error_type, "unknown");
    assert_eq!(failure.description, "");
    assert_eq!(failure.stack_trace, None);
    assert_eq!(failure.to_string(), "unknown (no description)");
    assert_eq!(
        serde_json::to_value(failure).unwrap(),
        json!({"task_id": id, "type": "unknown", "description": ""})
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_still_running_at_the_deadline_times_out_with_its_last_phase() {
    let sim = sim(StreamSimConfig::default()).await;
    let client = client(&sim);
    let id = sim.create_task(succeeds(&[("pending", 2), ("running", 100_000)], json!({})));
    let err = fast(&client)
        .configure(|p| p.deadline(ms(250)))
        .wait(id.clone())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    match &err {
        WaitError::TimedOut {
            last_phase, polls, ..
        } => {
            let last = last_phase.as_ref().unwrap();
            assert_eq!(last.kind, PhaseKind::Running);
            assert_eq!(last.status, "running");
            assert!(*polls >= 4, "{polls} polls");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains("last seen: running (\"running\")"),
        "{err}"
    );

    let err = client
        .wait_for_task_with(&id, ms(20), ms(100))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(err.kind().as_str(), "timed_out");
    assert!(err.elapsed() >= ms(100) && err.elapsed() < ms(1_000));
    sim.shutdown().await;
}

/// What a retry update said.
struct Retried {
    code: Option<i64>,
    retry_after: Option<Duration>,
    class: ErrorClass,
    delay: Duration,
}

/// A task whose first poll is answered 429 (scripted to last 1 s), watched to the end on
/// a simulator with `config`: checks that the wait succeeded on the third poll and the
/// server saw 429, 200, 200 with no request before the 429 allowed; returns what the retry
/// update said, and the gap between the first two requests in ms.
async fn through_one_429(config: StreamSimConfig) -> (Retried, u64) {
    let sim = sim(config).await;
    let client = client(&sim);
    let id = sim.create_task(succeeds(&[("running", 1)], json!({"ok": true})));
    sim.set_faults(FaultPlan::default().at(
        1,
        Fault::RateLimited {
            retry_after_secs: Some(1),
        },
    ));
    let updates = collect(fast(&client).watch(id.clone())).await;
    let retry = updates
        .iter()
        .find_map(|u| match u {
            Update::Retrying {
                error,
                class,
                delay,
                ..
            } => Some(Retried {
                code: error.code(),
                retry_after: error.retry_after(),
                class: *class,
                delay: *delay,
            }),
            _ => None,
        })
        .unwrap();
    let outcome = common::outcome(&updates);
    assert_eq!(outcome.result.as_ref().unwrap().result, json!({"ok": true}));
    assert_eq!(outcome.polls, 3);
    let log = sim.requests();
    let statuses: Vec<u16> = log.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 200, 200]);
    assert_eq!(sim.counts().retry_after_violations, 0);
    sim.shutdown().await;
    (retry, log[1].at_ms - log[0].at_ms)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_is_honoured_before_the_next_poll() {
    let (retry, gap) = through_one_429(StreamSimConfig {
        send_retry_after: true,
        ..StreamSimConfig::default()
    })
    .await;
    let Retried {
        code, class, delay, ..
    } = retry;
    assert_eq!(code, Some(9));
    assert_eq!(
        class,
        ErrorClass::RateLimited {
            retry_after: Some(Duration::from_secs(1))
        }
    );
    assert_eq!(delay, Duration::from_secs(1));
    assert!(gap >= 1_000, "the poll after the 429 came {gap} ms later");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_429_the_rate_limit_hint_follows_retry_after() {
    let sim = sim(StreamSimConfig {
        send_retry_after: true,
        ..StreamSimConfig::default()
    })
    .await;
    let client = client(&sim);
    let id = sim.create_task(succeeds(&[("running", 10)], json!({})));
    sim.set_faults(FaultPlan::default().at(
        1,
        Fault::RateLimited {
            retry_after_secs: Some(2),
        },
    ));
    let before = tokio::time::Instant::now();
    client.get_task(&id).await.unwrap_err();
    let hint = client.source().rate_limit().unwrap();
    assert_eq!(hint.remaining, 0);
    let wait = hint.resets_at - before;
    assert!(
        (Duration::from_secs(2)..Duration::from_secs(3)).contains(&wait),
        "{wait:?}: Retry-After wins over the window reset"
    );
    // The next answer replaces it.
    client.get_task(&id).await.unwrap();
    assert!(client.source().rate_limit().unwrap().remaining > 0);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_as_stream_sends_it_waits_until_x_ratelimit_reset() {
    // The simulator's default 429: X-RateLimit-Reset 1 s away (rounded up to a whole
    // epoch second), no Retry-After.
    let (retry, gap) = through_one_429(StreamSimConfig::default()).await;
    let Retried {
        retry_after,
        class,
        delay,
        ..
    } = retry;
    assert!(matches!(class, ErrorClass::RateLimited { .. }), "{class:?}");
    assert_eq!(retry_after, Some(delay));
    assert!(
        (ms(950)..=Duration::from_secs(2)).contains(&delay),
        "waited {delay:?} for the reset"
    );
    // Not before the reset the 429 announced (the simulator checks it as it would a
    // Retry-After), so about the second it was scripted with or more.
    assert!(gap >= 950);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_without_retry_after_waits_for_the_window_reset() {
    let sim = sim(StreamSimConfig {
        rate_limit_per_minute: 1,
        ..StreamSimConfig::default()
    })
    .await;
    let client = client(&sim);
    let id = sim.create_task(succeeds(&[("running", 10)], json!({})));
    client.get_task(&id).await.unwrap();
    let limit = client.last_rate_limit().unwrap();
    assert_eq!((limit.limit, limit.remaining), (1, 0));
    let hint = client.source().rate_limit().unwrap();
    assert_eq!(hint.remaining, 0);

    let err = client.get_task(&id).await.unwrap_err();
    assert!(matches!(err, StreamError::RateLimited(_)), "{err:?}");
    assert_eq!(err.code(), Some(9));
    let ErrorClass::RateLimited {
        retry_after: Some(delay),
    } = err.class()
    else {
        panic!("{:?}", err.class());
    };
    assert!(
        (Duration::from_secs(50)..=Duration::from_secs(61)).contains(&delay),
        "{delay:?}"
    );
    let failure = err.api_failure().unwrap();
    assert_eq!(failure.rate_limit.unwrap().remaining, 0);
    assert!(
        err.to_string()
            .contains("Stream rate limit reached (GetTask): HTTP 429, code 9")
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_503s_is_retried_until_the_task_completes() {
    let sim = sim(StreamSimConfig::default()).await;
    let client = client(&sim);
    let id = sim.create_task(succeeds(&[], json!({"done": 1})));
    let mut plan = FaultPlan::default();
    for n in 1..=3 {
        plan = plan.at(n, Fault::ServerError { status: 503 });
    }
    sim.set_faults(plan);
    let updates = collect(fast(&client).watch(id)).await;
    let retries: Vec<String> = updates
        .iter()
        .filter_map(|u| match u {
            Update::Retrying { error, class, .. } => {
                assert_eq!(*class, ErrorClass::TRANSIENT);
                Some(error.to_string())
            }
            _ => None,
        })
        .collect();
    assert_eq!(retries.len(), 3);
    assert!(
        retries[0].starts_with("Stream server error (GetTask): HTTP 503, code -1"),
        "{}",
        retries[0]
    );
    let outcome = common::outcome(&updates);
    assert_eq!(outcome.polls, 4);
    assert_eq!(outcome.result.as_ref().unwrap().result, json!({"done": 1}));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_slow_answers_and_gateway_pages_are_transient() {
    let sim = sim(StreamSimConfig::default()).await;
    let client = StreamClient::builder(sim.api_key(), sim.api_secret())
        .base_url(&sim.base_url())
        .request_timeout(ms(500))
        .build()
        .unwrap();
    let id = sim.create_task(succeeds(&[("running", 1)], json!({})));
    sim.set_faults(
        FaultPlan::default()
            .at(1, Fault::Slow { millis: 1_200 })
            .at(2, Fault::Reset)
            .at(3, Fault::NonJson { status: 502 }),
    );
    let updates = collect(fast(&client).watch(id)).await;
    let errors: Vec<&StreamError> = updates
        .iter()
        .filter_map(|u| match u {
            Update::Retrying { error, .. } => Some(error),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 3);
    match errors[0] {
        StreamError::Transport { source, .. } => assert_eq!(source.kind, TransportKind::Timeout),
        other => panic!("{other:?}"),
    }
    match errors[1] {
        StreamError::Transport { source, .. } => assert_eq!(source.kind, TransportKind::Broken),
        other => panic!("{other:?}"),
    }
    let gateway = errors[2].api_failure().unwrap();
    assert_eq!(gateway.status, 502);
    assert!(
        gateway
            .body_excerpt
            .as_deref()
            .unwrap()
            .contains("502 Bad Gateway")
    );
    assert!(errors.iter().all(|e| e.is_transient()));
    let outcome = common::outcome(&updates);
    assert!(outcome.result.is_ok());
    assert_eq!(outcome.polls, 5);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_end_the_wait_after_one_request() {
    let sim = sim(StreamSimConfig::default()).await;
    let cases = [
        (sim.api_key().to_owned(), "not-the-secret".to_owned(), 43),
        ("not-the-key".to_owned(), sim.api_secret().to_owned(), 2),
    ];
    for (key, secret, code) in cases {
        sim.reset();
        let id = sim.create_task(succeeds(&[("running", 10)], json!({})));
        let client = StreamClient::builder(key, secret)
            .base_url(&sim.base_url())
            .build()
            .unwrap();
        let err = client.wait_for_task(&id).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Fetch);
        assert_eq!(err.polls(), 1);
        let WaitError::Fetch { error, give_up, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(*give_up, FetchGiveUp::Permanent);
        assert!(matches!(error, StreamError::Unauthorized(_)), "{error:?}");
        assert_eq!(error.code(), Some(code));
        assert!(
            error.to_string().starts_with(&format!(
                "Stream refused the credentials (GetTask): HTTP 401, code {code}: GetTask failed with error:"
            )),
            "{error}"
        );
        assert_eq!(sim.counts().total, 1);
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_task_ends_the_wait_after_one_request() {
    let sim = sim(StreamSimConfig::default()).await;
    let client = client(&sim);
    let err = fast(&client)
        .wait("0b5d2f8e-9c1a-4e37-a6d4-7f2e3b1c9d80".into())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Fetch);
    assert_eq!(err.polls(), 1);
    let error = err.fetch_error().unwrap();
    assert!(matches!(error, StreamError::NotFound(_)));
    assert_eq!(error.code(), Some(16));
    assert_eq!(error.api_error().unwrap().unrecoverable, Some(false));
    assert_eq!(
        error.to_string(),
        "Stream does not know it (GetTask): HTTP 404, code 16: GetTask failed with error: \"Can't find task with id 0b5d2f8e-9c1a-4e37-a6d4-7f2e3b1c9d80\"; check the task id and that it belongs to this app (tasks are per API key)"
    );
    assert_eq!(sim.counts().total, 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_rfc3339_timestamps_read_as_the_same_instants() {
    let sim = sim(StreamSimConfig::default()).await;
    let client = client(&sim);
    let id = sim.create_task(succeeds(&[], json!({"url": "https://x"})));
    let v2 = client.get_task(&id).await.unwrap();
    let legacy = client.get_task_legacy(&id).await.unwrap();
    assert_eq!(legacy.status, "completed");
    for (new, old) in [
        (&v2.created_at, &legacy.created_at),
        (&v2.updated_at, &legacy.updated_at),
    ] {
        let (Some(Timestamp::UnixNanos(ns)), Some(Timestamp::Rfc3339(text))) = (new, old) else {
            panic!("{new:?} {old:?}");
        };
        assert_eq!(
            old.as_ref().unwrap().unix_nanos(),
            Some(ns / 1_000 * 1_000),
            "{text}"
        );
    }
    let out = match client.source().classify(legacy) {
        taskpoll::Phase::Succeeded(out) => out,
        other => panic!("{other:?}"),
    };
    assert_eq!(out.result, json!({"url": "https://x"}));
    assert_eq!(sim.counts().endpoint("GET /tasks/{id}"), 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_truncated_bodies_are_clear_transient_errors() {
    let sim = sim(StreamSimConfig::default()).await;
    let client = client(&sim);
    let id = sim.create_task(succeeds(&[("running", 1)], json!({})));
    sim.set_faults(
        FaultPlan::default()
            .at(1, Fault::Malformed)
            .at(2, Fault::Truncated),
    );
    let err = client.get_task(&id).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Stream answered GetTask with HTTP 200 but the body is not a task response: it is not valid JSON (expected value at line 1 column 1); body starts: \"<<garbage>> not json {\"; a proxy may have cut or replaced it, so the next request may do better"
    );
    assert_eq!(err.class(), ErrorClass::TRANSIENT);
    let err = client.get_task(&id).await.unwrap_err();
    let StreamError::Malformed { what, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(
        what.starts_with("it is not valid JSON (EOF while parsing"),
        "{what}"
    );
    assert!(err.is_transient());

    // A wait rides over both.
    sim.reset();
    let id = sim.create_task(succeeds(&[("running", 1)], json!({})));
    sim.set_faults(
        FaultPlan::default()
            .at(1, Fault::Malformed)
            .at(2, Fault::Truncated),
    );
    let outcome = fast(&client).watch(id).outcome().await;
    assert!(outcome.result.is_ok());
    // The truncated answer was the server's real one (it counted as the task's
    // `running` poll) cut short on the way.
    assert_eq!(outcome.polls, 3);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_cap_body_is_a_clear_permanent_error() {
    let sim = sim(StreamSimConfig::default()).await;
    let client = StreamClient::builder(sim.api_key(), sim.api_secret())
        .base_url(&sim.base_url())
        .max_response_bytes(64)
        .build()
        .unwrap();
    let id = sim.create_task(succeeds(&[], json!({"url": "x".repeat(200)})));
    let err = client.get_task(&id).await.unwrap_err();
    assert!(
        matches!(
            err,
            StreamError::BodyTooLarge {
                cap: 64,
                status: 200,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(
        err.to_string()
            .contains("larger than the 64-byte cap; raise max_response_bytes")
    );
    // Error answers past the cap are still classified by their status.
    let err = client.get_task(&"y".repeat(100)).await.unwrap_err();
    assert!(matches!(err, StreamError::NotFound(_)), "{err:?}");
    assert!(err.to_string().contains("64-byte cap"), "{err}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_statuses_keep_the_wait_going_and_show_in_watch_updates() {
    let sim = sim(StreamSimConfig::default()).await;
    let client = client(&sim);
    let id = sim.create_task(succeeds(
        &[("running", 1), ("archiving", 2)],
        json!({"url": "https://x"}),
    ));
    let updates = collect(fast(&client).watch(id)).await;
    let polled = common::polled(&updates);
    assert_eq!(
        polled,
        [
            ("running".to_owned(), PhaseKind::Running, true),
            ("archiving".to_owned(), PhaseKind::Running, false),
            ("archiving".to_owned(), PhaseKind::Running, false),
            ("succeeded".to_owned(), PhaseKind::Succeeded, true),
        ]
    );
    let outcome = common::outcome(&updates);
    assert!(outcome.result.is_ok());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_match_in_any_case_and_error_is_a_failure() {
    let sim = sim(StreamSimConfig::default()).await;
    let client = client(&sim);
    let poller = fast(&client);

    let id = sim.create_task(succeeds(
        &[("Waiting", 1), ("RUNNING", 1), ("Completed", 5)],
        json!({}),
    ));
    let updates = collect(poller.watch(id)).await;
    let kinds = common::polled(&updates);
    assert_eq!(
        kinds,
        [
            ("Waiting".to_owned(), PhaseKind::Pending, true),
            ("RUNNING".to_owned(), PhaseKind::Running, true),
            ("succeeded".to_owned(), PhaseKind::Succeeded, true),
        ]
    );
    let outcome = common::outcome(&updates);
    let out = outcome.result.as_ref().unwrap();
    assert_eq!(out.task.status, "Completed");
    assert_eq!(out.result, serde_json::Value::Null);

    let id = sim.create_task(succeeds(&[("error", 5)], json!({})));
    let err = poller.wait(id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    assert_eq!(err.failure().unwrap().error_type(), "unknown");
    assert_eq!(err.polls(), 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_ids_reach_the_server_as_one_segment() {
    let sim = sim(StreamSimConfig::default()).await;
    let client = client(&sim);
    for (id, encoded) in [
        ("../subscriptions", "..%2Fsubscriptions"),
        ("a/b?c=d", "a%2Fb%3Fc%3Dd"),
        ("%2e%2e", "%252e%252e"),
        ("a b#c", "a%20b%23c"),
    ] {
        let err = client.get_task(id).await.unwrap_err();
        assert!(matches!(err, StreamError::NotFound(_)), "{id}: {err:?}");
        let last = sim.requests().pop().unwrap();
        assert_eq!(last.task_ids, [id]);
        assert_eq!(
            last.target,
            format!("/api/v2/tasks/{encoded}?api_key={}", sim.api_key())
        );
        assert!(
            err.to_string()
                .contains(&format!("Can't find task with id {id}"))
        );
    }
    let before = sim.counts().total;
    for id in ["", ".", ".."] {
        let err = client.get_task(id).await.unwrap_err();
        assert!(
            matches!(err, StreamError::InvalidTaskId(_)),
            "{id:?}: {err:?}"
        );
        assert_eq!(err.class(), ErrorClass::Permanent);
    }
    assert_eq!(sim.counts().total, before, "no request for an invalid id");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_reports_the_rate_limit_of_the_last_status_answer() {
    let sim = sim(StreamSimConfig {
        rate_limit_per_minute: 50,
        ..StreamSimConfig::default()
    })
    .await;
    let client = client(&sim);
    assert!(client.last_rate_limit().is_none());
    let id = sim.create_task(succeeds(&[("running", 10)], json!({})));
    client.get_task(&id).await.unwrap();
    client.get_task(&id).await.unwrap();
    let limit = client.last_rate_limit().unwrap();
    assert_eq!((limit.limit, limit.remaining), (50, 48));
    let hint = client.source().rate_limit().unwrap();
    assert_eq!(hint.remaining, 48);
    assert!(hint.resets_at > tokio::time::Instant::now());
    // Start calls have their own window and do not change it.
    client
        .export_channels(&[ChannelRef::cid("messaging:general")])
        .await
        .unwrap();
    assert_eq!(client.last_rate_limit().unwrap().remaining, 48);
    sim.shutdown().await;
}

#[test]
fn the_builder_checks_its_settings() {
    let ok = StreamClient::new("key", "secret").unwrap();
    assert_eq!(ok.base_url(), "https://chat.stream-io-api.com");
    assert_eq!(ok.request_timeout(), Duration::from_secs(10));
    let err = |b: taskpoll_stream::StreamClientBuilder| b.build().unwrap_err().to_string();
    assert_eq!(
        err(StreamClient::builder("", "secret")),
        "invalid Stream client configuration: api_key is empty"
    );
    assert_eq!(
        err(StreamClient::builder("key", "")),
        "invalid Stream client configuration: api_secret is empty"
    );
    assert!(
        err(StreamClient::builder("k", "s").base_url("http://stream.example.com"))
            .contains("refusing plain HTTP")
    );
    assert!(
        err(StreamClient::builder("k", "s").base_url("not a url")).contains("invalid base URL")
    );
    assert_eq!(
        err(StreamClient::builder("k", "s").request_timeout(Duration::ZERO)),
        "invalid Stream client configuration: invalid request_timeout: it must be longer than zero"
    );
    assert_eq!(
        err(StreamClient::builder("k", "s").max_response_bytes(0)),
        "invalid Stream client configuration: invalid max_response_bytes: it must be at least one byte"
    );
    let http = StreamClient::builder("k", "s")
        .base_url("http://stream.example.com/")
        .allow_http(true)
        .build()
        .unwrap();
    assert_eq!(http.base_url(), "http://stream.example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_output_ever_shows_the_key_or_the_secret() {
    const KEY: &str = "stream-key-DO-NOT-PRINT-7f3a";
    const SECRET: &str = "stream-secret-DO-NOT-PRINT-91c2";
    let sim = sim(StreamSimConfig {
        api_key: KEY.into(),
        api_secret: SECRET.into(),
        ..StreamSimConfig::default()
    })
    .await;
    let mut shown = Vec::new();
    let builder = StreamClient::builder(KEY, SECRET).base_url(&sim.base_url());
    shown.push(format!("{builder:?}"));
    let client = builder.build().unwrap();
    shown.push(format!("{client:?}"));
    shown.push(format!("{:?}", client.source()));
    shown.push(format!("{:?}", client.poller()));

    // A permanent error, a failed wait, transient errors, a transport error.
    let wrong = StreamClient::builder(KEY, "wrong")
        .base_url(&sim.base_url())
        .build()
        .unwrap();
    let err = wrong.wait_for_task("t").await.unwrap_err();
    shown.push(format!("{err} {err:?}"));
    let err = client.get_task("missing").await.unwrap_err();
    shown.push(format!("{err} {err:?}"));
    let id = sim.create_task(fails(&[], json!({"type": "x", "description": "y"})));
    let err = client.wait_for_task(&id).await.unwrap_err();
    shown.push(format!("{err} {err:?}"));
    sim.set_faults(
        FaultPlan::default()
            .at(1, Fault::Reset)
            .at(2, Fault::Malformed)
            .at(3, Fault::NonJson { status: 503 }),
    );
    for _ in 0..3 {
        let err = client.get_task(&id).await.unwrap_err();
        shown.push(format!("{err} {err:?}"));
    }
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let nowhere = StreamClient::builder(KEY, SECRET)
        .base_url(&format!("http://{closed}"))
        .build()
        .unwrap();
    let err = nowhere.get_task("t").await.unwrap_err();
    assert!(matches!(err, StreamError::Transport { .. }), "{err:?}");
    shown.push(format!("{err} {err:?}"));
    let err = nowhere
        .export_channels(&[ChannelRef::cid("messaging:general")])
        .await
        .unwrap_err();
    shown.push(format!("{err} {err:?}"));
    let err = StreamClient::builder(KEY, SECRET)
        .base_url("http://stream.example.com")
        .build()
        .unwrap_err();
    shown.push(format!("{err} {err:?}"));

    for text in &shown {
        assert!(!text.contains(KEY), "the key shows in: {text}");
        assert!(!text.contains(SECRET), "the secret shows in: {text}");
        assert!(!text.contains("DO-NOT-PRINT"), "{text}");
    }
    // The requests did carry the key.
    assert!(sim.requests().iter().all(|r| r.target.contains(KEY)));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_share_one_client_and_source_works_as_a_trait_object() {
    let sim = sim(StreamSimConfig::default()).await;
    let client = client(&sim);
    let id = sim.create_task(succeeds(&[("running", 1)], json!({})));
    let source: Box<
        dyn TaskSource<
                Id = String,
                Status = taskpoll_stream::TaskResponse,
                Output = taskpoll_stream::StreamOutput,
                Partial = (),
                Failure = taskpoll_stream::StreamFailure,
                Error = StreamError,
            >,
    > = Box::new(client.clone().source());
    let status = source.fetch(&id).await.unwrap();
    assert_eq!(source.classify(status).kind(), PhaseKind::Running);
    let other: StreamSource = client.source();
    let status = other.fetch(&id).await.unwrap();
    assert_eq!(other.classify(status).kind(), PhaseKind::Succeeded);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_timeout_allows_exactly_one_poll() {
    let sim = sim(StreamSimConfig::default()).await;
    let client = client(&sim);
    let running = sim.create_task(succeeds(&[("running", 100)], json!({})));
    let err = client
        .wait_for_task_with(&running, Duration::ZERO, Duration::ZERO)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(err.polls(), 1);
    let done = sim.create_task(succeeds(&[], json!({"ok": 1})));
    let out = client
        .wait_for_task_with(&done, Duration::ZERO, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(out.result, json!({"ok": 1}));
    assert_eq!(sim.counts().total, 2);
    sim.shutdown().await;
}

/// A loopback HTTP server that answers every request with `status` and `body` (for
/// answers the simulator never gives).
async fn canned(status: &'static str, body: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Headers, then the body its Content-Length announces.
                loop {
                    let n = conn.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).to_lowercase();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                        if request.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(answer.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_reply_without_a_task_id_is_a_clear_error() {
    for (status, body) in [
        (
            "200 OK",
            r#"{"task_id":null,"duration":"1ms","call":{"cid":"default:x"}}"#,
        ),
        ("201 Created", r#"{"duration":"1ms","result":{}}"#),
        ("202 Accepted", r#"{"task_id":""}"#),
    ] {
        let base = canned(status, body).await;
        let client = StreamClient::builder("k", "s")
            .base_url(&base)
            .build()
            .unwrap();
        // Calls that always start a task: no task id is an error.
        let err = client.hard_delete_call("default", "x").await.unwrap_err();
        assert!(
            matches!(
                err,
                StreamError::MissingTaskId {
                    operation: "DeleteCall"
                }
            ),
            "{body}: {err:?}"
        );
        assert_eq!(
            err.to_string(),
            "Stream answered DeleteCall without a task_id (it was missing or null): no task was started to wait on"
        );
        assert!(matches!(
            client.export_users(&["u".to_owned()]).await.unwrap_err(),
            StreamError::MissingTaskId {
                operation: "ExportUsers"
            }
        ));
        // A channel delete may be done at once: the reply is the answer.
        let started = client
            .delete_channels(&["messaging:general".to_owned()], false)
            .await
            .unwrap();
        let Started::Done(reply) = started else {
            panic!("{body}: {started:?}");
        };
        assert_eq!(reply.duration.is_some(), body.contains("duration"));
    }
    let base = canned(
        "200 OK",
        r#"{"duration":"3ms","result":{"messaging:a":{"status":"ok"},"messaging:b":{"status":"error","error":"not allowed"}},"extra":1}"#,
    )
    .await;
    let client = StreamClient::builder("k", "s")
        .base_url(&base)
        .build()
        .unwrap();
    let started = client
        .delete_channels(&["messaging:a".to_owned(), "messaging:b".to_owned()], true)
        .await
        .unwrap();
    let failed: Vec<String> = started.failed_items().into_iter().map(|(k, _)| k).collect();
    assert_eq!(failed, ["messaging:b"]);
    let Started::Done(reply) = started else {
        panic!()
    };
    assert_eq!(reply.other.get("extra"), Some(&json!(1)));
    // Any 2xx with a task id is accepted.
    let base = canned("200 OK", r#"{"task_id":"t-9","duration":"1ms"}"#).await;
    let client = StreamClient::builder("k", "s")
        .base_url(&base)
        .build()
        .unwrap();
    assert_eq!(client.delete_users(&["u".to_owned()]).await.unwrap(), "t-9");
    // A start reply that is not JSON is malformed.
    let base = canned("201 Created", "<html>ok</html>").await;
    let client = StreamClient::builder("k", "s")
        .base_url(&base)
        .build()
        .unwrap();
    let err = client
        .export_channels(&[ChannelRef::cid("a:b")])
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("Stream answered ExportChannels with HTTP 201 but the body is not a start response: it is not valid JSON"),
        "{err}"
    );
}
