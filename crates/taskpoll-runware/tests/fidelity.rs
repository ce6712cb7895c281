//! Where Runware's real behavior and its documentation part ways, over real HTTP
//! against the simulator: a task polled before Runware shows it, an answer that says
//! nothing about a task, batched `getResponse` (on, off, and answers that leave tasks
//! out), and the task types besides video and image.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{all_answered, client, client_with, fast, post_sizes, sim, sim_with};
use futures_util::StreamExt;
use serde_json::{Map, Value, json};
use taskpoll::strategy::Fixed;
use taskpoll::{
    BatchTaskSource, ErrorClass, ErrorKind, FetchGiveUp, PhaseKind, TaskSource, Update,
    VisibilityGrace, WaitError,
};
use taskpoll_runware::{
    DEFAULT_VISIBILITY_GRACE, ImageInference, RunwareClient, RunwareError, RunwareSource,
    RunwareTaskId, VideoInference,
};
use taskpoll_sim::runware::{MediaKind, RunwareSim, RunwareSimConfig, RunwareTaskSpec};

const GET: &str = "POST /v1 getResponse";

/// A simulator whose submitted tasks take 100 ms, with `config`'s other settings.
async fn sim_of(config: RunwareSimConfig) -> RunwareSim {
    sim_with(Duration::from_millis(100), config).await
}

/// A simulator that answers `{"data": []}` for a task it does not know or does not show
/// yet.
fn silent() -> RunwareSimConfig {
    RunwareSimConfig {
        silent_unknown_tasks: true,
        ..RunwareSimConfig::default()
    }
}

/// A simulator that answers only the first `getResponse` of a POST.
fn answering_one() -> RunwareSimConfig {
    RunwareSimConfig {
        batch_answer_limit: Some(1),
        ..RunwareSimConfig::default()
    }
}

/// The updates of a watch, all of them.
async fn watch(
    poller: &taskpoll::Poller<RunwareSource>,
    id: RunwareTaskId,
) -> Vec<Update<RunwareSource>> {
    poller.watch(id).collect().await
}

/// The retries of a watch: (the error, its class).
fn retries(updates: &[Update<RunwareSource>]) -> Vec<(RunwareError, ErrorClass)> {
    updates
        .iter()
        .filter_map(|u| match u {
            Update::Retrying { error, class, .. } => Some((error.clone(), *class)),
            _ => None,
        })
        .collect()
}

fn params(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

// ---- A task polled before Runware shows it ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_polled_before_runware_shows_it_is_waited_for() {
    // By default the simulator answers the first poll of a submitted task with
    // taskFailedOrNotFound, as Runware may right after a submission.
    let sim = sim().await;
    let client = client(&sim);
    let id = client
        .submit_image(ImageInference::new("runware:100@1", "A lighthouse"))
        .await
        .unwrap();
    let updates = watch(&fast(&client), id.clone()).await;
    let retried = retries(&updates);
    assert_eq!(retried.len(), 1, "{updates:?}");
    let (error, class) = &retried[0];
    assert_eq!(*class, ErrorClass::NotYetVisible);
    assert!(
        matches!(error, RunwareError::TaskNotFound { seen: false, code, .. } if code == "taskFailedOrNotFound"),
        "{error:?}"
    );
    let Some(Update::Finished(outcome)) = updates.last() else {
        panic!("{updates:?}")
    };
    assert_eq!(outcome.result.as_ref().unwrap().results.len(), 1);

    // Three unseen polls in a row are waited through as well.
    let sim = sim_of(RunwareSimConfig {
        not_found_polls: 3,
        ..RunwareSimConfig::default()
    })
    .await;
    let client = client_for(&sim);
    let id = client
        .submit_video(VideoInference::new("klingai:5@3", "A fox").number_results(2))
        .await
        .unwrap();
    let updates = watch(&fast(&client), id).await;
    assert_eq!(retries(&updates).len(), 3);
    assert!(matches!(updates.last(), Some(Update::Finished(o)) if o.result.is_ok()));

    // Without a grace, the first such answer ends the wait: the defaults would fail
    // every wait started at once after its submission.
    let id = client
        .submit_video(VideoInference::new("klingai:5@3", "A heron"))
        .await
        .unwrap();
    let err = common::impatient(&client).wait(id).await.unwrap_err();
    assert!(matches!(
        err,
        WaitError::Fetch {
            give_up: FetchGiveUp::NotVisible { count: 1 },
            ..
        }
    ));
}

fn client_for(sim: &RunwareSim) -> RunwareClient {
    client(sim)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_never_shown_ends_within_the_grace_plus_one_interval() {
    let sim = sim_of(RunwareSimConfig {
        not_found_polls: u32::MAX,
        ..RunwareSimConfig::default()
    })
    .await;
    let grace = Duration::from_millis(600);
    let client = client_with(&sim, |b| {
        b.visibility_grace(VisibilityGrace::for_duration(grace))
    });
    assert_eq!(
        client.visibility_grace(),
        VisibilityGrace::for_duration(grace)
    );
    let id = client
        .submit_image(ImageInference::new("runware:100@1", "A lighthouse"))
        .await
        .unwrap();
    // Runware's own schedule (0.5 s, 0.75 s, 1.125 s, ...) from the start: polls at
    // 0, 0.5 and 1.25 s; the last one is past the grace and ends the wait.
    let poller = client
        .poller()
        .configure(|p| p.initial_delay(Duration::ZERO));
    assert_eq!(poller.policy().deadline, Some(Duration::from_secs(20 * 60)));
    let started = Instant::now();
    let updates = watch(&poller, id).await;
    let took = started.elapsed();
    assert!(
        took >= grace && took < grace + Duration::from_millis(750) + Duration::from_millis(400),
        "{took:?}"
    );
    assert_eq!(retries(&updates).len(), 2, "shown in the updates");
    let Some(Update::Finished(outcome)) = updates.last() else {
        panic!("{updates:?}")
    };
    let err = outcome.result.as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Fetch);
    let WaitError::Fetch {
        error,
        give_up,
        polls,
        ..
    } = err
    else {
        panic!("{err}")
    };
    assert_eq!(*polls, 3);
    assert!(matches!(give_up, FetchGiveUp::NotVisible { count: 3 }));
    assert!(
        matches!(error, RunwareError::TaskNotFound { seen: false, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("does not know task"), "{error}");

    // The default grace is a few seconds, and a source's default policy carries it.
    assert_eq!(DEFAULT_VISIBILITY_GRACE, Duration::from_secs(5));
    let default = RunwareClient::new("rw-key").unwrap();
    assert_eq!(
        default.source().default_policy().visibility,
        VisibilityGrace::for_duration(DEFAULT_VISIBILITY_GRACE)
    );
    assert_eq!(
        client.source().default_policy().visibility,
        VisibilityGrace::for_duration(grace)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_seen_then_gone_ends_at_once_as_unknown_not_failed() {
    // The task finishes 150 ms after it is made and is forgotten 50 ms later; a wait
    // polling every 300 ms sees it processing, then not at all: it may well have
    // succeeded, so the wait ends as an unknown task (a fetch error), at once,
    // although the visibility grace (5 s) has not passed.
    let sim = sim_of(RunwareSimConfig {
        retention: Some(Duration::from_millis(50)),
        ..RunwareSimConfig::default()
    })
    .await;
    let client = client(&sim);
    let uuid = sim.create_task(
        RunwareTaskSpec::new(MediaKind::Video, 1).finish_after([Duration::from_millis(150)]),
    );
    let poller = client.poller().configure(|p| {
        p.initial_delay(Duration::ZERO)
            .interval(Fixed::new(Duration::from_millis(300)))
    });
    let updates = watch(&poller, RunwareTaskId::video(&uuid, 1)).await;
    assert!(retries(&updates).is_empty(), "{updates:?}");
    let Some(Update::Finished(outcome)) = updates.last() else {
        panic!("{updates:?}")
    };
    assert_eq!(outcome.polls, 2);
    assert!(
        outcome.elapsed < Duration::from_secs(2),
        "{:?}",
        outcome.elapsed
    );
    let err = outcome.result.as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Fetch, "not a failure");
    let WaitError::Fetch { error, give_up, .. } = err else {
        panic!("{err}")
    };
    assert_eq!(*give_up, FetchGiveUp::Permanent);
    assert!(
        matches!(error, RunwareError::TaskNotFound { seen: true, code, .. } if code == "taskFailedOrNotFound"),
        "{error:?}"
    );
    assert_eq!(error.class(), ErrorClass::Permanent);
    let text = error.to_string();
    assert!(text.contains("no longer knows task"), "{text}");
    assert!(text.contains("getTaskDetails"), "{text}");
}

// ---- An answer that says nothing about the task ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_silent_about_the_task_is_shown_and_ends_after_the_grace() {
    // `{"data": []}` for a task Runware does not know (or does not show yet).
    let sim = sim_of(silent()).await;
    let client = client_with(&sim, |b| {
        b.visibility_grace(VisibilityGrace::for_duration(Duration::from_millis(300)))
    });
    let envelope = client
        .get_response(&uuid::Uuid::new_v4().to_string())
        .await
        .unwrap();
    assert!(envelope.data.is_empty() && envelope.errors.is_empty());

    // A submitted task whose first poll is silent is waited through.
    let id = client
        .submit_image(ImageInference::new("runware:100@1", "A lighthouse"))
        .await
        .unwrap();
    let updates = watch(&fast(&client), id).await;
    let retried = retries(&updates);
    assert_eq!(retried.len(), 1, "{updates:?}");
    assert!(
        matches!(
            retried[0],
            (
                RunwareError::Unanswered {
                    status: 200,
                    seen: false,
                    ..
                },
                ErrorClass::NotYetVisible
            )
        ),
        "{retried:?}"
    );
    assert!(matches!(updates.last(), Some(Update::Finished(o)) if o.result.is_ok()));

    // A task never mentioned: every silent answer is a retry update, and the wait
    // ends after the grace as an unknown task, far from its 20 minute deadline.
    let id = RunwareTaskId::image(uuid::Uuid::new_v4().to_string(), 1);
    let started = Instant::now();
    let updates = watch(&fast(&client), id).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(retries(&updates).len() >= 5, "{}", retries(&updates).len());
    let Some(Update::Finished(outcome)) = updates.last() else {
        panic!("{updates:?}")
    };
    let err = outcome.result.as_ref().unwrap_err();
    let WaitError::Fetch { error, give_up, .. } = err else {
        panic!("{err}")
    };
    assert!(matches!(give_up, FetchGiveUp::NotVisible { .. }));
    assert!(error.is_unknown_task());
    assert_eq!((error.code(), error.status()), (None, Some(200)));
    assert!(
        error.to_string().contains("no item and no error"),
        "{error}"
    );
}

// ---- Batching ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_batch_one_sends_one_get_response_per_post() {
    let sim = sim().await;
    let client = client_with(&sim, |b| b.max_batch(1));
    assert!(!client.batches_polls());
    let ids: Vec<RunwareTaskId> = (0..6)
        .map(|_| {
            let uuid =
                sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1).finish_after_polls([2]));
            RunwareTaskId::image(uuid, 1)
        })
        .collect();
    let outcomes: Vec<_> = fast(&client)
        .wait_all(ids.clone())
        .outcomes()
        .collect()
        .await;
    assert!(outcomes.iter().all(|o| o.result.is_ok()));
    let requests = sim.requests();
    assert_eq!(
        requests.len(),
        18,
        "three polls of each task, one POST each"
    );
    assert!(requests.iter().all(|r| r.task_ids.len() == 1));

    // A direct batch fetch splits too.
    let before = sim.counts().endpoint(GET);
    let entries = client.source().fetch_batch(&ids[..3]).await.unwrap();
    assert!(all_answered(&entries));
    assert_eq!(sim.counts().endpoint(GET), before + 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_a_batched_answer_leaves_out_are_polled_again_alone() {
    // A server that answers only the first getResponse of a POST.
    let sim = sim_of(answering_one()).await;
    let client = client(&sim);
    assert!(client.batches_polls());
    let ids: Vec<RunwareTaskId> = (0..4)
        .map(|_| {
            let uuid = sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1));
            RunwareTaskId::image(uuid, 1)
        })
        .collect();
    let entries = client.source().fetch_batch(&ids).await.unwrap();
    for entry in &entries {
        let status = entry.as_ref().expect("answered").as_ref().expect("ok");
        assert_eq!(
            client.source().classify(status.clone()).kind(),
            PhaseKind::Succeeded
        );
    }
    let sizes = post_sizes(&sim);
    assert_eq!(
        sizes,
        [4, 1, 1, 1],
        "the batch, then the three left out alone"
    );

    // At most `batch_fallback_limit` are polled alone; the others are left for a
    // later round (None), never reported failed or unknown for it.
    let limited = client_with(&sim, |b| b.batch_fallback_limit(1));
    let source = limited.source();
    let before = sim.counts().total;
    let answered = |entries: &[taskpoll::BatchEntry<RunwareSource>]| -> Vec<bool> {
        entries
            .iter()
            .map(|e| e.as_ref().is_some_and(Result::is_ok))
            .collect()
    };
    let entries = source.fetch_batch(&ids).await.unwrap();
    assert_eq!(answered(&entries), [true, true, false, false]);
    assert!(entries[2].is_none() && entries[3].is_none());
    assert_eq!(sim.counts().total, before + 2);
    // The next call polls the next one left out, so none is left behind for good.
    let entries = source.fetch_batch(&ids).await.unwrap();
    assert_eq!(answered(&entries), [true, false, true, false]);
    let entries = source.fetch_batch(&ids).await.unwrap();
    assert_eq!(answered(&entries), [true, false, false, true]);

    // Waits get through such a server all the same, each ending at its own pace.
    sim.reset();
    let ids: Vec<RunwareTaskId> = (0..12)
        .map(|i| {
            let uuid = sim
                .create_task(RunwareTaskSpec::new(MediaKind::Video, 1).finish_after_polls([i % 3]));
            RunwareTaskId::video(uuid, 1)
        })
        .collect();
    let outcomes: Vec<_> = fast(&client).wait_all(ids).outcomes().collect().await;
    assert_eq!(outcomes.len(), 12);
    for o in &outcomes {
        assert!(o.result.is_ok(), "{:?}", o.result.as_ref().err());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_left_out_of_a_batch_before_it_shows_is_waited_for() {
    // A batch answer silent about a task not shown yet: its lone poll, in the same
    // fetch, shows it.
    let sim = sim_of(silent()).await;
    let client = client(&sim);
    let shown = sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1));
    let late = sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1).not_found_polls(1));
    let ids = [
        RunwareTaskId::image(&shown, 1),
        RunwareTaskId::image(&late, 1),
    ];
    let entries = client.source().fetch_batch(&ids).await.unwrap();
    assert!(all_answered(&entries));
    let sizes = post_sizes(&sim);
    assert_eq!(sizes, [2, 1]);
    assert_eq!(sim.requests()[1].task_ids, [late]);
}

// ---- Other task types ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_results_carry_audio_fields() {
    let sim = sim().await;
    let client = client(&sim);
    let id = client
        .submit_async(
            "audioInference",
            params(
                json!({"model": "minimax:music@2.6", "positivePrompt": "A calm piano",
                          "includeCost": true}),
            ),
            2,
        )
        .await
        .unwrap();
    let output = fast(&client).wait(id).await.unwrap();
    assert_eq!(output.results.len(), 2);
    for r in &output.results {
        let uuid = r.item.audio_uuid.as_deref().unwrap();
        assert_eq!(r.media_uuid(), Some(uuid));
        assert!(r.url().unwrap().ends_with(".mp3"));
        assert_eq!(r.key(), format!("audioUUID:{uuid}"));
        assert_eq!(r.item.task_type.as_deref(), Some("audioInference"));
    }
    assert_ne!(output.results[0].key(), output.results[1].key());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upscale_and_background_removal_results_carry_media_fields() {
    let sim = sim().await;
    let client = client(&sim);
    for task_type in ["upscale", "removeBackground"] {
        let id = client
            .submit_async(
                task_type,
                params(json!({"inputs": {"image": "https://example.com/photo.png"}})),
                1,
            )
            .await
            .unwrap();
        let output = fast(&client).wait(id).await.unwrap();
        assert_eq!(output.results.len(), 1, "{task_type}");
        let r = &output.results[0];
        let uuid = r.item.media_uuid.as_deref().unwrap();
        assert_eq!(r.key(), format!("mediaUUID:{uuid}"));
        assert_eq!(r.url(), r.item.media_url.as_deref());
        assert!(r.url().unwrap().contains(uuid));

        // They take no numberResults: one result, and the key is never sent.
        let err = client
            .submit_async(task_type, params(json!({"inputs": {"image": "x"}})), 2)
            .await
            .unwrap_err();
        assert!(matches!(err, RunwareError::InvalidRequest(_)), "{err}");
    }
    // The legacy `inputImage` form answers with image fields.
    let id = client
        .submit_async(
            "upscale",
            params(json!({"inputImage": "https://example.com/photo.png", "upscaleFactor": 2})),
            1,
        )
        .await
        .unwrap();
    let output = fast(&client).wait(id).await.unwrap();
    assert!(output.results[0].key().starts_with("imageUUID:"));
    // The simulator refuses numberResults for these types: the client never sent it.
    assert_eq!(sim.counts().status(400), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_upload_ends_at_ready() {
    let sim = sim_with(Duration::from_millis(400), RunwareSimConfig::default()).await;
    let client = client(&sim);
    let id = client
        .submit_async(
            "modelUpload",
            params(json!({"air": "example:42@1", "category": "lora",
                          "downloadURL": "https://example.com/model.safetensors"})),
            1,
        )
        .await
        .unwrap();
    let poller = fast(&client).configure(|p| p.interval(Fixed::new(Duration::from_millis(40))));
    let updates = watch(&poller, id).await;
    let words: Vec<String> = updates
        .iter()
        .filter_map(|u| match u {
            Update::Polled { phase, .. } if !phase.kind.is_terminal() => {
                assert!(phase.recognized, "{}", phase.status);
                Some(phase.status.clone())
            }
            _ => None,
        })
        .collect();
    let mut stages = words.clone();
    stages.dedup();
    assert_eq!(
        stages,
        ["validated", "downloaded", "optimized", "stored"],
        "{words:?}"
    );
    let Some(Update::Finished(outcome)) = updates.last() else {
        panic!("{updates:?}")
    };
    let output = outcome.result.as_ref().unwrap();
    assert_eq!(output.results.len(), 1);
    assert_eq!(output.results[0].item.status.as_deref(), Some("ready"));
    assert_eq!(output.results[0].to_string(), "example:42@1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_without_a_prompt_is_valid() {
    let sim = sim().await;
    let client = client(&sim);
    let video = VideoInference::without_prompt("klingai:5@3").param(
        "frameImages",
        json!([{"inputImage": "https://example.com/first.png", "frame": "first"}]),
    );
    let id = client.submit_video(video).await.unwrap();
    let output = fast(&client).wait(id).await.unwrap();
    assert!(output.results[0].key().starts_with("videoUUID:"));
    // An image still needs its prompt.
    let mut image = ImageInference::new("runware:100@1", "x");
    image.positive_prompt = String::new();
    let err = client.submit_image(image).await.unwrap_err();
    assert_eq!(err.code(), Some("invalidPositivePrompt"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fallback_polls_draw_on_the_request_budget() {
    // A server that answers only the first getResponse of a POST: every fetch of four
    // tasks sends the batch and three POSTs alone.
    let sim = sim_of(answering_one()).await;
    let client = client_with(&sim, |b| {
        b.budget(taskpoll::Budget::default().per_window(2, Duration::from_millis(500)))
    });
    let ids: Vec<RunwareTaskId> = (0..4)
        .map(|_| {
            RunwareTaskId::image(
                sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1)),
                1,
            )
        })
        .collect();
    // The batch itself is the scheduler's to grant: take that place by hand.
    assert_eq!(
        client.request_budget().acquire().await,
        taskpoll::Admission::Granted
    );
    let started = Instant::now();
    let entries = client.source().fetch_batch(&ids).await.unwrap();
    assert!(all_answered(&entries));
    // Four POSTs under 2 per 500 ms: the last two waited for places in the window.
    let sizes = post_sizes(&sim);
    assert_eq!(sizes, [4, 1, 1, 1]);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}
