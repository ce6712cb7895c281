//! A spec client's shared HTTP settings: a client of the user's own is the one used
//! (with its default headers), and a user agent of the user's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use serde_json::json;
use taskpoll_sim::generic::{Answer, GenericSim, GenericSimConfig, GenericTask};
use taskpoll_spec::{Spec, SpecClient, SpecError};

const SPEC: &str = include_str!("data/jobs.toml");

fn spec() -> Spec {
    let env = |name: &str| (name == "JOBS_KEY").then(|| "jobs-key".to_owned());
    Spec::parse_with(SPEC, "jobs.toml", Path::new("."), &env).unwrap()
}

#[tokio::test]
async fn a_users_client_is_the_one_used() {
    // The simulator answers 401 to any request without this header, which only the
    // user's client sends (as a default header).
    let sim =
        GenericSim::start(GenericSimConfig::default().require_header("x-corp-tenant", "emea"))
            .await
            .unwrap();
    let id = sim.create_task(GenericTask::new([Answer::json(
        200,
        json!({"status": "done"}),
    )]));

    let without = SpecClient::builder(spec())
        .base_url(&sim.base_url())
        .build()
        .unwrap();
    assert!(without.get(&id).await.is_err());

    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-corp-tenant", "emea".parse().unwrap());
    let own = reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let with = SpecClient::builder(spec())
        .base_url(&sim.base_url())
        .http_client(own)
        .user_agent("jobs-watcher/1")
        .build()
        .unwrap();
    assert_eq!(with.get(&id).await.unwrap()["status"], "done");
    assert_eq!(sim.counts().status(401), 1);
    assert_eq!(sim.counts().status(200), 1);

    // A client that refuses plain HTTP: nothing reaches the (http://) simulator.
    let https_only = reqwest::Client::builder().https_only(true).build().unwrap();
    let refused = SpecClient::builder(spec())
        .base_url(&sim.base_url())
        .http_client(https_only)
        .build()
        .unwrap();
    assert!(matches!(
        refused.get(&id).await,
        Err(SpecError::Transport { .. })
    ));
    assert_eq!(sim.counts().total, 2);
    sim.shutdown().await;
}

#[test]
fn a_user_agent_that_cannot_be_sent_is_refused() {
    let err = SpecClient::builder(spec())
        .base_url("https://api.example.com")
        .user_agent("two\nlines")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("user_agent"), "{err}");
}
