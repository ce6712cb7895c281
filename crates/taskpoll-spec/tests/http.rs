//! A spec's client over real HTTP against the generic scripted simulator: visibility
//! grace, Retry-After, transient retries, failures, progress, unknown words, the
//! deadline's final poll, rate-limit headers, ids as one path segment, POST bodies,
//! redirects and secrets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures_core::Stream;
use serde_json::{Value, json};
use taskpoll::strategy::Fixed;
use taskpoll::{ErrorKind, Poller, Update};
use taskpoll_sim::generic::{Answer, GenericSim, GenericSimConfig, GenericTask};
use taskpoll_spec::{Spec, SpecClient, SpecError, SpecSource};

const KEY: &str = "sim-key-4f2a9c";

const SPEC: &str = include_str!("data/jobs.toml");

async fn sim() -> GenericSim {
    let config =
        GenericSimConfig::default().require_header("authorization", &format!("Bearer {KEY}"));
    GenericSim::start(config).await.unwrap()
}

fn client_with(sim: &GenericSim, text: &str, key: &str) -> SpecClient {
    let key = key.to_owned();
    let env = move |name: &str| (name == "JOBS_KEY").then(|| key.clone());
    let spec = Spec::parse_with(text, "jobs.toml", Path::new("."), &env).unwrap();
    SpecClient::builder(spec)
        .base_url(&sim.base_url())
        .build()
        .unwrap()
}

fn client(sim: &GenericSim, extra: &str) -> SpecClient {
    client_with(sim, &format!("{SPEC}{extra}"), KEY)
}

/// Polls every 50 ms for at most 10 s.
fn fast(poller: Poller<SpecSource>) -> Poller<SpecSource> {
    poller.configure(|p| {
        p.interval(Fixed::new(Duration::from_millis(50)))
            .deadline(Duration::from_secs(10))
    })
}

fn status(word: &str) -> Answer {
    Answer::json(200, json!({"status": word}))
}

fn done(output: Value) -> Answer {
    Answer::json(200, json!({"status": "done", "output": output}))
}

#[tokio::test]
async fn a_task_not_visible_yet_is_waited_for_within_its_grace() {
    let sim = sim().await;
    let id = sim.create_task(GenericTask::new([
        Answer::json(404, json!({"error": "not found"})),
        Answer::json(404, json!({"error": "not found"})),
        status("working"),
        done(json!(7)),
    ]));
    let c = client(
        &sim,
        "[http]\nnot_yet_visible = [404]\nnot_yet_visible_grace = \"5s\"\n",
    );
    let out = fast(c.poller()).wait(id.clone()).await.unwrap();
    assert_eq!(out.result, json!(7));
    assert_eq!(sim.counts().task(&id), 4);
}

#[tokio::test]
async fn a_404_past_its_grace_ends_the_wait() {
    let sim = sim().await;
    let id = sim.create_task(GenericTask::new([Answer::json(404, json!({}))]));
    let c = client(
        &sim,
        "[http]\nnot_yet_visible = [404]\nnot_yet_visible_grace = \"200ms\"\n",
    );
    let err = fast(c.poller()).wait(id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Fetch, "{err}");
    assert_eq!(err.fetch_error().and_then(SpecError::status), Some(404));
    // Without the list, a 404 is permanent at once.
    let id = sim.create_task(GenericTask::new([Answer::json(404, json!({}))]));
    let err = fast(client(&sim, "").poller()).wait(id).await.unwrap_err();
    assert_eq!(err.polls(), 1, "{err}");
}

#[tokio::test]
async fn a_429_with_retry_after_is_honoured() {
    let sim = sim().await;
    let id = sim.create_task(GenericTask::new([
        Answer::json(429, json!({"detail": "throttled"})).header("Retry-After", "1"),
        done(json!("ok")),
    ]));
    let started = Instant::now();
    let out = fast(client(&sim, "").poller()).wait(id).await.unwrap();
    assert_eq!(out.result, json!("ok"));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sim.counts().retry_after_violations, 0);
}

#[tokio::test]
async fn server_errors_and_bad_bodies_are_retried() {
    let sim = sim().await;
    let id = sim.create_task(GenericTask::new([
        Answer::json(503, json!({"error": "busy"})),
        Answer::raw(502, "<html>bad gateway</html>"),
        Answer::raw(200, "<html>not json</html>"),
        Answer::json(500, json!({})),
        done(json!(1)),
    ]));
    fast(client(&sim, "").poller())
        .wait(id.clone())
        .await
        .unwrap();
    assert_eq!(sim.counts().task(&id), 5);
}

#[tokio::test]
async fn a_failure_is_read_at_the_failure_pointer() {
    let sim = sim().await;
    let id = sim.create_task(GenericTask::new([
        status("queued"),
        Answer::json(
            200,
            json!({"status": "ERROR", "error": {"code": "E42", "message": "input rejected"}}),
        ),
    ]));
    let err = fast(client(&sim, "").poller()).wait(id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    let failure = err.failure().unwrap();
    assert_eq!(failure.status, "ERROR");
    assert_eq!(failure.error["code"], "E42");
    assert!(err.to_string().contains("E42: input rejected"), "{err}");
}

async fn next(watch: &mut taskpoll::Watch<SpecSource>) -> Option<Update<SpecSource>> {
    std::future::poll_fn(|cx| Stream::poll_next(Pin::new(&mut *watch), cx)).await
}

#[tokio::test]
async fn progress_and_unknown_words_show_in_updates() {
    let sim = sim().await;
    let id = sim.create_task(GenericTask::new([
        Answer::json(200, json!({"status": "working", "progress": 0.5})),
        status("Rebalancing"),
        done(json!("all good")),
    ]));
    let c = client(
        &sim,
        "[progress]\npointer = \"/progress\"\nscale = \"fraction\"\n",
    );
    let mut watch = fast(c.poller()).watch(id);
    let mut phases = Vec::new();
    let mut result = None;
    while let Some(update) = next(&mut watch).await {
        match update {
            Update::Polled { phase, .. } => phases.push(phase),
            Update::Finished(outcome) => result = Some(outcome.result),
            _ => {}
        }
    }
    assert_eq!(phases[0].percent, Some(50.0));
    assert!(phases[0].recognized);
    assert_eq!(phases[1].status, "Rebalancing");
    assert!(!phases[1].recognized);
    assert_eq!(result.unwrap().unwrap().result, json!("all good"));
}

#[tokio::test]
async fn the_deadline_makes_a_final_poll_that_can_still_succeed() {
    let sim = sim().await;
    let id = sim.create_task(GenericTask::new([
        status("working"),
        done(json!("just in time")),
    ]));
    let poller = client(&sim, "").poller().configure(|p| {
        p.interval(Fixed::new(Duration::from_secs(30)))
            .deadline(Duration::from_millis(300))
    });
    let started = Instant::now();
    let out = poller.wait(id.clone()).await.unwrap();
    assert_eq!(out.result, json!("just in time"));
    assert_eq!(sim.counts().task(&id), 2);
    assert!(started.elapsed() < Duration::from_secs(5));
    // A task still running at the deadline times out, after that final poll.
    let id = sim.create_task(GenericTask::new([status("working")]));
    let poller = client(&sim, "").poller().configure(|p| {
        p.interval(Fixed::new(Duration::from_secs(30)))
            .deadline(Duration::from_millis(300))
    });
    let err = poller.wait(id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(err.polls(), 2);
}

#[tokio::test]
async fn the_spec_poll_settings_apply() {
    let sim = sim().await;
    let id = sim.create_task(GenericTask::new([status("working")]));
    let c = client(&sim, "[poll]\ninterval = \"200ms\"\ndeadline = \"500ms\"\n");
    let started = Instant::now();
    let err = c.poller().wait(id.clone()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    // 0, 200 and 400 ms and the final poll at 500 ms (the 400 ms one may slip past the
    // deadline on a loaded machine, and be the final one).
    assert!((3..=4).contains(&err.polls()), "{err}");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn rate_limit_headers_pause_the_next_request() {
    let sim = sim().await;
    let id = sim.create_task(GenericTask::new([
        status("working")
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", "1"),
        done(json!(1)),
    ]));
    let c = client(
        &sim,
        "[http]\nrate_limit_remaining = \"x-ratelimit-remaining\"\nrate_limit_reset = \"x-ratelimit-reset\"\n",
    );
    let started = Instant::now();
    fast(c.poller()).wait(id).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn ids_are_one_path_segment() {
    let sim = sim().await;
    let id = "a/b c?d=..";
    sim.create_task(GenericTask::new([done(json!(1))]).with_id(id));
    let c = client(&sim, "");
    fast(c.poller()).wait(id.to_owned()).await.unwrap();
    let log = sim.requests();
    assert_eq!(log[0].target, "/v1/jobs/a%2Fb%20c%3Fd%3D..");
    assert_eq!(log[0].task_ids, [id]);
    assert!(c.url("..").is_err());
    assert!(c.url("").is_err());
}

#[tokio::test]
async fn a_post_body_template_carries_the_id() {
    let sim = sim().await;
    let id = sim.create_task(GenericTask::new([done(json!("posted"))]).with_id("task \"7\""));
    let text = SPEC.replace(
        "url = \"{base_url}/v1/jobs/{id}\"",
        "method = \"POST\"\nurl = \"{base_url}/v1/status\"\nbody = '{\"taskUUID\": \"{id}\", \"kind\": \"status\"}'",
    );
    let c = client_with(&sim, &text, KEY);
    let out = fast(c.poller()).wait(id.clone()).await.unwrap();
    assert_eq!(out.result, json!("posted"));
    assert_eq!(sim.requests()[0].method, "POST");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let sim = sim().await;
    let id = sim.create_task(GenericTask::new([
        Answer::json(302, json!({})).header("Location", "https://elsewhere.example/steal")
    ]));
    let err = fast(client(&sim, "").poller()).wait(id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Fetch);
    assert!(
        matches!(err.fetch_error(), Some(SpecError::Redirect { .. })),
        "{err}"
    );
    assert_eq!(sim.counts().total, 1);
}

#[tokio::test]
async fn secrets_are_sent_and_never_shown() {
    let sim = sim().await;
    // The server echoes the key back in its error: it is scrubbed before it is read.
    let id = sim.create_task(GenericTask::new([Answer::json(
        400,
        json!({"error": format!("bad key {KEY}")}),
    )]));
    let c = client(&sim, "");
    let err = fast(c.poller()).wait(id).await.unwrap_err();
    let shown = format!("{err} {err:?} {c:?} {:?}", c.spec());
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("bad key ***"), "{shown}");
    // With the wrong key the simulator refuses: the header was what authorized before.
    let id = sim.create_task(GenericTask::new([done(json!(1))]));
    let wrong = client_with(&sim, SPEC, "some-other-key");
    let err = fast(wrong.poller()).wait(id.clone()).await.unwrap_err();
    assert_eq!(err.fetch_error().and_then(SpecError::status), Some(401));
    fast(client(&sim, "").poller()).wait(id).await.unwrap();
}

#[tokio::test]
async fn many_waits_share_one_scheduler_and_budget() {
    let sim = sim().await;
    let ids: Vec<String> = (0..5)
        .map(|_| sim.create_task(GenericTask::new([status("working"), done(json!(1))])))
        .collect();
    let c = client(&sim, "[poll]\ninterval = \"50ms\"\nrate = \"4/1s\"\n");
    let started = Instant::now();
    let (one, two) = (c.poller(), c.clone().poller());
    let (a, b) = tokio::join!(one.wait(ids[0].clone()), two.wait(ids[1].clone()));
    a.unwrap();
    b.unwrap();
    for id in &ids[2..] {
        c.poller().wait(id.clone()).await.unwrap();
    }
    // Ten requests at four a second: at least two full windows.
    assert_eq!(sim.counts().total, 10);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(c.scheduler().requests_sent(), 10);
}
