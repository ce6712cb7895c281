//! The adapter over real HTTP against the Runware simulator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{client, client_with, fast, impatient, sim, sim_with};
use futures_util::StreamExt;
use taskpoll::{
    BatchTaskSource, ErrorClass, ErrorKind, FetchGiveUp, Phase, TaskSource, Update,
    VisibilityGrace, WaitError,
};
use taskpoll_runware::{
    ImageInference, RunwareClient, RunwareError, RunwareFailure, RunwareSource, RunwareTaskId,
    TaskKind, VideoInference,
};
use taskpoll_sim::faults::{Fault, FaultPlan, FaultScope};
use taskpoll_sim::runware::{MediaKind, RunwareSimConfig, RunwareTaskSpec};

const GET: &str = "POST /v1 getResponse";

/// One line per update of a watch.
async fn updates(poller: &taskpoll::Poller<RunwareSource>, id: RunwareTaskId) -> Vec<String> {
    poller
        .watch(id)
        .map(|u| match u {
            Update::Polled { attempt, phase, .. } => format!("polled {attempt} {}", phase.kind),
            Update::Partial { index, result } => {
                format!("partial {index} {}", result.media_uuid().unwrap_or("-"))
            }
            Update::Retrying { error, .. } => format!("retrying {}", error.status().unwrap_or(0)),
            Update::Finished(o) => match o.result {
                Ok(out) => format!("succeeded {}", out.results.len()),
                Err(e) => format!(
                    "{} {}",
                    e.kind(),
                    e.failure().map_or(0, |f| f.results.len())
                ),
            },
            _ => "other".into(),
        })
        .collect()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_result() {
    let sim = sim().await;
    let client = client(&sim);
    let id = client
        .submit_image(
            ImageInference::new("runware:100@1", "A lighthouse on a cliff").size(1024, 1024),
        )
        .await
        .unwrap();
    assert_eq!((id.expected_results, id.kind), (1, TaskKind::Image));
    let output = fast(&client).wait(id.clone()).await.unwrap();
    assert_eq!(output.task_uuid, id.uuid);
    assert_eq!(output.results.len(), 1);
    let result = &output.results[0];
    assert!(result.url().unwrap().ends_with(".jpg"));
    assert!(result.key().starts_with("imageUUID:"));
    assert_eq!(output.total_cost(), Some(0.0013));
    assert!(sim.finished_at(&id.uuid).is_some());
    assert_eq!(sim.counts().endpoint("POST /v1 imageInference"), 1);
    // The output serializes with Runware's field names.
    let json = serde_json::to_value(&output).unwrap();
    assert_eq!(json["taskUUID"], id.uuid.as_str());
    assert!(json["results"][0]["imageURL"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_results_are_reported_one_by_one() {
    let sim = sim().await;
    let client = client(&sim);
    let uuid =
        sim.create_task(RunwareTaskSpec::new(MediaKind::Video, 4).finish_after_polls([1, 2, 3, 4]));
    let id = RunwareTaskId::video(&uuid, 4);
    let seen = updates(&fast(&client), id.clone()).await;
    let media: Vec<&str> = seen
        .iter()
        .filter_map(|l| l.strip_prefix("partial "))
        .map(|l| l.split(' ').nth(1).unwrap())
        .collect();
    let lines: Vec<String> = seen
        .iter()
        .map(|l| {
            if l.starts_with("partial ") {
                l.rsplit_once(' ').unwrap().0.to_owned()
            } else {
                l.clone()
            }
        })
        .collect();
    assert_eq!(
        lines,
        [
            "polled 1 running",
            "polled 2 running",
            "partial 0",
            "polled 3 running",
            "partial 1",
            "polled 4 running",
            "partial 2",
            "polled 5 succeeded",
            "partial 3",
            "succeeded 4",
        ]
    );
    let mut distinct = media.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        4,
        "each result once, each with its own videoUUID"
    );
    assert_eq!(sim.counts().task(&uuid), 5);

    // The output lists the results in the order they were reported.
    let uuid =
        sim.create_task(RunwareTaskSpec::new(MediaKind::Video, 4).finish_after_polls([1, 2, 3, 4]));
    let output = fast(&client)
        .wait(RunwareTaskId::video(&uuid, 4))
        .await
        .unwrap();
    assert_eq!(output.results.len(), 4);
    assert_eq!(output.total_cost(), Some(0.18 * 4.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_finishing_out_of_order_keep_a_stable_order() {
    let sim = sim().await;
    let client = client(&sim);
    let ms = Duration::from_millis;
    // Result 1 finishes first, then 2, then 0, then 3.
    let uuid = sim.create_task(RunwareTaskSpec::new(MediaKind::Video, 4).finish_after([
        ms(150),
        ms(50),
        ms(100),
        ms(200),
    ]));
    let mut watch = fast(&client).watch(RunwareTaskId::video(&uuid, 4));
    let mut partials = Vec::new();
    let mut output = None;
    while let Some(u) = watch.next().await {
        match u {
            Update::Partial { index, result } => partials.push((index, result)),
            Update::Finished(o) => output = Some(o.result.unwrap()),
            _ => {}
        }
    }
    let indexes: Vec<usize> = partials.iter().map(|(i, _)| *i).collect();
    assert_eq!(indexes, [0, 1, 2, 3]);
    let keys: Vec<&str> = partials.iter().map(|(_, r)| r.key()).collect();
    let mut distinct = keys.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "no result reported twice: {keys:?}");
    let output = output.unwrap();
    let out_keys: Vec<&str> = output.results.iter().map(|r| r.key()).collect();
    assert_eq!(
        out_keys, keys,
        "the output keeps the order the results were reported in"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_after_two_results_keeps_them() {
    for item_errors in [false, true] {
        let sim = sim_with(
            Duration::from_millis(100),
            RunwareSimConfig {
                item_errors,
                ..RunwareSimConfig::default()
            },
        )
        .await;
        let client = client(&sim);
        let spec = RunwareTaskSpec::new(MediaKind::Video, 4)
            .finish_after_polls([1, 2, 3, 4])
            .fail_after(
                2,
                "timeoutProvider",
                "The provider did not respond in time.",
            );
        let uuid = sim.create_task(spec.clone());
        let lines = updates(&fast(&client), RunwareTaskId::video(&uuid, 4)).await;
        let kinds: Vec<&str> = lines
            .iter()
            .map(|l| l.split(' ').take(2).last().unwrap())
            .collect();
        assert_eq!(
            kinds,
            ["1", "2", "0", "3", "1", "4", "2"],
            "polls and partials 0 and 1, then the failure: {lines:?}"
        );
        assert_eq!(lines.last().unwrap(), "failed 2");

        let uuid = sim.create_task(spec);
        let err = fast(&client)
            .wait(RunwareTaskId::video(&uuid, 4))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Failed);
        let failure: &RunwareFailure = err.failure().unwrap();
        assert_eq!(failure.code, "timeoutProvider");
        assert_eq!(failure.results.len(), 2);
        assert_eq!(failure.expected_results, 4);
        assert_eq!(failure.total_cost(), Some(0.36));
        assert!(
            err.to_string()
                .contains("timeoutProvider: The provider did not respond in time. (2 of 4 results had finished)"),
            "{err}"
        );
        let json = serde_json::to_value(failure).unwrap();
        assert_eq!(json["numberResults"], 4);
        assert_eq!(json["results"].as_array().unwrap().len(), 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_are_polled_in_one_request() {
    let sim = sim().await;
    let client = client_with(&sim, |b| b.max_batch(10));
    let source = client.source();
    let ids: Vec<RunwareTaskId> = (0..25)
        .map(|i| {
            let kind = if i % 2 == 0 {
                MediaKind::Video
            } else {
                MediaKind::Image
            };
            let uuid = sim.create_task(RunwareTaskSpec::new(kind, 2).finish_after_polls([0, 1]));
            RunwareTaskId::new(uuid, 2)
        })
        .collect();

    // 25 tasks with at most 10 per POST: three requests, each task named once.
    let entries = source.fetch_batch(&ids).await.unwrap();
    assert_eq!(entries.len(), 25);
    let counts = sim.counts();
    assert_eq!((counts.total, counts.endpoint(GET)), (3, 3));
    for id in &ids {
        assert_eq!(counts.task(&id.uuid), 1);
    }
    for entry in entries {
        let status = entry.expect("answered").expect("ok");
        match source.classify(status) {
            Phase::Running(p) => assert_eq!(p.partials.len(), 1),
            other => panic!("expected running, got {:?}", other.kind()),
        }
    }

    // Ten tasks fit in one request; an unknown one in the batch errs alone.
    let mut ten: Vec<RunwareTaskId> = ids[..9].to_vec();
    ten.push(RunwareTaskId::new(uuid_v4(), 1));
    let entries = source.fetch_batch(&ten).await.unwrap();
    assert_eq!(sim.counts().total, 4);
    assert_eq!(sim.requests().last().unwrap().task_ids.len(), 10);
    for entry in &entries[..9] {
        let status = entry.as_ref().unwrap().as_ref().unwrap();
        assert!(matches!(
            source.classify(status.clone()),
            Phase::Succeeded(_)
        ));
    }
    let unknown = entries[9].as_ref().unwrap().as_ref().unwrap_err();
    assert!(matches!(unknown, RunwareError::TaskNotFound { .. }));
    assert_eq!(source.error_class(unknown), ErrorClass::NotYetVisible);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_all_shares_requests() {
    let sim = sim().await;
    let client = client(&sim);
    let ids: Vec<RunwareTaskId> = (0..20)
        .map(|_| {
            RunwareTaskId::image(
                sim.create_task(
                    RunwareTaskSpec::new(MediaKind::Image, 2).finish_after_polls([1, 2]),
                ),
                2,
            )
        })
        .collect();
    let outcomes: Vec<_> = fast(&client)
        .wait_all(ids.clone())
        .outcomes()
        .collect()
        .await;
    assert_eq!(outcomes.len(), 20);
    for o in &outcomes {
        assert_eq!(o.result.as_ref().unwrap().results.len(), 2);
    }
    let counts = sim.counts();
    for id in &ids {
        assert_eq!(counts.task(&id.uuid), 3, "three polls per task");
    }
    assert!(
        counts.total < 20 * 3,
        "batched: {} requests for 60 polls",
        counts.total
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lone_waits_of_one_client_share_requests() {
    let sim = sim().await;
    let client = client(&sim);
    let ids: Vec<RunwareTaskId> = (0..20)
        .map(|_| {
            RunwareTaskId::image(
                sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1).finish_after_polls([2])),
                1,
            )
        })
        .collect();
    // Twenty separate waits, as twenty request handlers would make them: the client's
    // one scheduler puts the ones due together in one getResponse POST. (The first
    // poll comes after 50 ms, so that every wait has started by then.)
    let poller = fast(&client).configure(|p| p.initial_delay(Duration::from_millis(50)));
    let waits: Vec<_> = ids
        .iter()
        .map(|id| {
            let (p, id) = (poller.clone(), id.clone());
            tokio::spawn(async move { p.wait(id).await })
        })
        .collect();
    for w in waits {
        assert_eq!(w.await.unwrap().unwrap().results.len(), 1);
    }
    let counts = sim.counts();
    for id in &ids {
        assert_eq!(counts.task(&id.uuid), 3, "three polls per task");
    }
    assert!(
        counts.total <= 6,
        "batched: {} requests for 60 polls",
        counts.total
    );
}

fn uuid_v4() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_task_ends_the_wait_with_a_clear_error() {
    let sim = sim().await;
    let client = client(&sim);
    let id = RunwareTaskId::video(uuid_v4(), 2);
    let err = impatient(&client).wait(id.clone()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Fetch);
    assert_eq!(err.polls(), 1);
    let WaitError::Fetch { error, give_up, .. } = &err else {
        panic!("{err}");
    };
    assert!(matches!(give_up, FetchGiveUp::NotVisible { count: 1 }));
    assert_eq!(error.code(), Some("taskFailedOrNotFound"));
    assert!(error.to_string().contains("does not know task"), "{error}");

    // With a grace, the task is asked for again before the wait gives up.
    let err = impatient(&client)
        .configure(|p| p.visibility(VisibilityGrace::count(2)))
        .wait(id.clone())
        .await
        .unwrap_err();
    assert_eq!(err.polls(), 3);

    // A 404 with another not-found code reads the same.
    let sim = sim_with(
        Duration::from_millis(100),
        RunwareSimConfig {
            unknown_task_status: 404,
            unknown_task_code: "taskExpired".into(),
            ..RunwareSimConfig::default()
        },
    )
    .await;
    let err = impatient(&client_for(&sim)).wait(id).await.unwrap_err();
    let error = err.fetch_error().unwrap();
    assert_eq!(
        (error.code(), error.status()),
        (Some("taskExpired"), Some(404))
    );
}

fn client_for(sim: &taskpoll_sim::runware::RunwareSim) -> RunwareClient {
    client(sim)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_key_ends_after_one_request() {
    let sim = sim().await;
    let uuid = sim.create_task(RunwareTaskSpec::new(MediaKind::Video, 1));
    let client = RunwareClient::builder("rw-wrong-key-0123")
        .base_url(&sim.base_url())
        .build()
        .unwrap();
    let err = fast(&client)
        .wait(RunwareTaskId::video(&uuid, 1))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Fetch);
    assert_eq!(err.polls(), 1);
    let error = err.fetch_error().unwrap();
    assert_eq!(
        (error.status(), error.code()),
        (Some(401), Some("invalidApiKey"))
    );
    assert_eq!(client.source().error_class(error), ErrorClass::Permanent);
    assert_eq!(sim.counts().total, 1);

    // A submission with a bad key is not retried.
    let err = client
        .submit_video(VideoInference::new("klingai:5@3", "fox"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("invalidApiKey"));
    assert_eq!(sim.counts().total, 2);
    for text in [format!("{err}"), format!("{err:?}"), format!("{client:?}")] {
        assert!(!text.contains("rw-wrong-key-0123"), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_are_retried() {
    let sim = sim().await;
    let client = client(&sim);
    let faults = [
        Fault::ServerError { status: 503 },
        Fault::ServerError { status: 500 },
        Fault::ServerError { status: 502 },
        Fault::ServerError { status: 504 },
        Fault::RateLimited {
            retry_after_secs: None,
        },
        Fault::Reset,
        Fault::Malformed,
        Fault::Truncated,
        Fault::NonJson { status: 502 },
    ];
    for fault in faults {
        sim.reset();
        let uuid = sim.create_task(RunwareTaskSpec::new(MediaKind::Video, 1));
        sim.set_faults(FaultPlan::default().at(1, fault));
        let lines = updates(&fast(&client), RunwareTaskId::video(&uuid, 1)).await;
        assert!(lines[0].starts_with("retrying"), "{fault:?}: {lines:?}");
        assert_eq!(lines.last().unwrap(), "succeeded 1", "{fault:?}: {lines:?}");
        assert_eq!(sim.counts().total, 2, "{fault:?}");
    }
    // 503 then success, with the status in the retry update.
    sim.reset();
    let uuid = sim.create_task(RunwareTaskSpec::new(MediaKind::Video, 1));
    sim.set_faults(FaultPlan::default().at(1, Fault::ServerError { status: 503 }));
    let lines = updates(&fast(&client), RunwareTaskId::video(&uuid, 1)).await;
    assert_eq!(lines[..2], ["retrying 503", "polled 2 succeeded"]);
    assert!(lines[2].starts_with("partial 0 "), "{lines:?}");
    assert_eq!(lines[3], "succeeded 1");
    assert_eq!(sim.counts().status(503), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_answer_times_out_and_is_retried() {
    let sim = sim().await;
    let client = client_with(&sim, |b| b.request_timeout(Duration::from_millis(100)));
    let uuid = sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1));
    sim.set_faults(FaultPlan::default().at(1, Fault::Slow { millis: 400 }));
    let mut watch = fast(&client).watch(RunwareTaskId::image(&uuid, 1));
    let Some(Update::Retrying { error, class, .. }) = watch.next().await else {
        panic!("expected a retry");
    };
    assert!(matches!(error, RunwareError::Transport(_)), "{error}");
    assert!(class.is_transient());
    let last = watch.fold(None, |_, u| async move { Some(u) }).await;
    assert!(matches!(last, Some(Update::Finished(o)) if o.result.is_ok()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resubmission_answered_with_conflict_counts_as_accepted() {
    let sim = sim().await;
    let client = client(&sim);
    let uuid = uuid::Uuid::new_v4();
    let video = VideoInference::new("klingai:5@3", "A red fox in fresh snow")
        .number_results(2)
        .task_uuid(uuid);
    let first = client.submit_video(video.clone()).await.unwrap();
    let again = client.submit_video(video).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(again.uuid, uuid.to_string());
    assert_eq!(sim.counts().status(400), 1, "the conflict was answered");

    // A retried submission whose first attempt went through: the first answer is cut
    // short, the retry hears conflictTaskUUID.
    sim.set_faults(FaultPlan {
        scope: FaultScope::All,
        ..FaultPlan::default().at(1, Fault::Truncated)
    });
    let id = client
        .submit_video(VideoInference::new("klingai:5@3", "A heron at dusk"))
        .await
        .unwrap();
    assert_eq!(sim.counts().endpoint("POST /v1 videoInference"), 4);
    sim.set_faults(FaultPlan::default());
    let output = fast(&client).wait(id).await.unwrap();
    assert_eq!(output.results.len(), 1);

    // A conflict with a task of another type is not an acceptance.
    let err = client
        .submit_image(ImageInference::new("runware:100@1", "a heron").task_uuid(uuid))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("conflictTaskUUID"));
    assert!(!err.is_transient());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_are_validated_and_acknowledged() {
    let config = RunwareSimConfig {
        empty_ack: true,
        ..RunwareSimConfig::default()
    };
    let sim = sim_with(Duration::from_millis(50), config).await;
    let client = client(&sim);
    // An empty ACK is an acceptance.
    let id = client
        .submit_video(VideoInference::new("klingai:5@3", "fox").duration(5.0))
        .await
        .unwrap();
    assert_eq!(id.kind, TaskKind::Video);
    assert!(fast(&client).wait(id).await.is_ok());

    // A refused parameter: permanent, not retried, with Runware's fields.
    let before = sim.counts().total;
    let err = client
        .submit_video(VideoInference::new("klingai:5@3", "fox").duration(6.0))
        .await
        .unwrap_err();
    assert_eq!(sim.counts().total, before + 1);
    let RunwareError::Api(api) = &err else {
        panic!("{err}")
    };
    assert_eq!(api.status, 400);
    assert_eq!(api.code.as_deref(), Some("unsupportedDuration"));
    assert_eq!(api.parameter.as_ref().unwrap().to_string(), "duration");
    assert!(
        err.to_string().contains("fix it before trying again"),
        "{err}"
    );

    // Bad input never reaches the network.
    let err = client
        .submit_image(ImageInference::new("runware:100@1", "x").number_results(0))
        .await
        .unwrap_err();
    assert!(matches!(err, RunwareError::InvalidRequest(_)));
    assert!(matches!(
        client.get_response("not-a-uuid").await,
        Err(RunwareError::InvalidRequest(_))
    ));
    assert_eq!(sim.counts().total, before + 1);

    // Other task types go through submit_async.
    let mut params = serde_json::Map::new();
    params.insert("model".into(), "klingai:5@3".into());
    params.insert("positivePrompt".into(), "otter".into());
    let id = client
        .submit_async("videoInference", params, 1)
        .await
        .unwrap();
    assert_eq!(id.kind, TaskKind::Video);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_response_returns_the_envelope() {
    let sim = sim().await;
    let client = client(&sim);
    let a = sim.create_task(RunwareTaskSpec::new(MediaKind::Video, 2).finish_after_polls([0, 5]));
    let b = sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1));
    let one = client.get_response(&a).await.unwrap();
    assert_eq!(one.data.len(), 2);
    assert!(one.errors.is_empty());
    let both = client.get_responses(&[&a, &b]).await.unwrap();
    assert_eq!(both.data.len(), 3);
    assert_eq!(sim.counts().total, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_answer_is_refused() {
    let sim = sim().await;
    let client = client_with(&sim, |b| b.max_response_bytes(200));
    let uuid = sim.create_task(RunwareTaskSpec::new(MediaKind::Video, 4));
    let err = fast(&client)
        .wait(RunwareTaskId::video(&uuid, 4))
        .await
        .unwrap_err();
    let error = err.fetch_error().unwrap();
    assert!(
        matches!(error, RunwareError::TooLarge { cap: 200 }),
        "{error}"
    );
    assert_eq!(err.polls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_show() {
    let key = "rw-secret-abcdef0123456789";
    let builder = RunwareClient::builder(key);
    let client = builder.clone().build().unwrap();
    let source = client.source();
    for text in [
        format!("{builder:?}"),
        format!("{client:?}"),
        format!("{source:?}"),
        format!("{:?}", client.poller()),
    ] {
        assert!(!text.contains(key), "{text}");
    }
    // Errors from a refused key, and a failed wait's message.
    let sim = sim().await;
    let client = RunwareClient::builder(key)
        .base_url(&sim.base_url())
        .build()
        .unwrap();
    let err = fast(&client)
        .wait(RunwareTaskId::video(uuid_v4(), 1))
        .await
        .unwrap_err();
    for text in [format!("{err}"), format!("{err:?}")] {
        assert!(!text.contains(key), "{text}");
        assert!(text.contains("invalidApiKey"), "{text}");
    }
    // Configuration errors.
    let err = RunwareClient::builder(key)
        .base_url("http://api.example.com/v1")
        .build()
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains(key));
    assert!(matches!(
        RunwareClient::new(""),
        Err(RunwareError::Config(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defaults_follow_runware_sdks() {
    let client = RunwareClient::new("rw-key").unwrap();
    assert_eq!(client.base_url(), "https://api.runware.ai/v1");
    assert_eq!(client.max_batch(), 50);
    let source = client.source();
    let policy = source.default_policy();
    assert_eq!(policy.deadline, Some(Duration::from_secs(1200)));
    assert_eq!(policy.initial_delay, None);
    let delays: Vec<u128> = policy
        .strategy
        .delays(0)
        .take(10)
        .map(|d| d.as_millis())
        .collect();
    assert_eq!(
        delays,
        [500, 750, 1125, 1687, 2531, 3796, 5695, 8542, 10000, 10000]
    );
    assert_eq!(
        source.initial_delay(&RunwareTaskId::video("x", 1)),
        Duration::from_secs(3)
    );
    assert_eq!(
        source.initial_delay(&RunwareTaskId::image("x", 1)),
        Duration::from_secs(1)
    );
    assert_eq!(
        source.initial_delay(&RunwareTaskId::new("x", 1)),
        Duration::from_secs(1)
    );
    assert_eq!(source.name(), "runware");
    assert_eq!(RunwareTaskId::new("abc", 0).to_string(), "abc");
    assert_eq!(RunwareTaskId::new("abc", 0).expected(), 1);
}
