//! The builder's shared HTTP settings: a client of the user's own with a user agent set on
//! the builder works, and `from_env` reads the variables the `taskpoll` command reads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use taskpoll_testkit::process::{child_case, run_child};

use taskpoll_sim::stream::{StreamSim, StreamSimConfig};
use taskpoll_stream::{ChannelRef, StreamClient, StreamClientBuilder, StreamError};

const KEY: &str = "env-stream-key-7c1f";
const SECRET: &str = "env-stream-secret-2b9d";

async fn sim() -> StreamSim {
    StreamSim::start(StreamSimConfig {
        api_key: KEY.into(),
        api_secret: SECRET.into(),
        ..StreamSimConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_users_client_with_a_user_agent_makes_a_working_client() {
    let sim = sim().await;
    // A client of the user's own, with a user agent set on the builder. (That the user's
    // client is the one used is a case of the behavior suite.)
    let client = StreamClient::builder(KEY, SECRET)
        .base_url(&sim.base_url())
        .http_client(reqwest::Client::new())
        .user_agent("billing-exports/2.1")
        .build()
        .unwrap();
    let id = client
        .export_channels(&[ChannelRef::new("messaging", "general")])
        .await
        .unwrap();
    assert_eq!(client.get_task(&id).await.unwrap().task_id, id);
    assert_eq!(sim.counts().total, 2);
    sim.shutdown().await;
}

/// Runs [`from_env_child`] in a process of its own with `vars` as its only Stream
/// variables (the environment is process-wide, and this crate forbids `unsafe`
/// `set_var`).
fn child(case: &str, vars: &[(&str, &str)]) {
    run_child(
        "from_env_child",
        case,
        vars,
        &["STREAM_API_KEY", "STREAM_API_SECRET"],
    )
    .unwrap();
}

#[test]
fn from_env_reads_the_commands_variables() {
    child("none", &[]);
    child("no-secret", &[("STREAM_API_KEY", KEY)]);
    child(
        "empty-key",
        &[("STREAM_API_KEY", ""), ("STREAM_API_SECRET", SECRET)],
    );
    child(
        "both",
        &[("STREAM_API_KEY", KEY), ("STREAM_API_SECRET", SECRET)],
    );
}

#[test]
#[ignore = "run by from_env_reads_the_commands_variables, in a process of its own"]
fn from_env_child() {
    let Some(case) = child_case() else {
        return;
    };
    let missing = |name: &str| {
        let err = StreamClient::from_env().unwrap_err();
        assert!(
            matches!(&err, StreamError::Config(taskpoll_http::ConfigError::MissingVariable { name: n }) if *n == name),
            "{err}"
        );
        assert!(err.to_string().contains(name), "{err}");
        assert!(StreamClientBuilder::from_env().is_err());
    };
    match case.as_str() {
        "none" | "empty-key" => missing("STREAM_API_KEY"),
        "no-secret" => missing("STREAM_API_SECRET"),
        "both" => {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let sim = sim().await;
                let client = StreamClientBuilder::from_env()
                    .unwrap()
                    .base_url(&sim.base_url())
                    .build()
                    .unwrap();
                assert!(!format!("{client:?}").contains(SECRET));
                // The simulator accepts only KEY and SECRET: the request went with them.
                client
                    .export_channels(&[ChannelRef::new("messaging", "general")])
                    .await
                    .unwrap();
                assert_eq!(
                    StreamClient::from_env().unwrap().base_url(),
                    "https://chat.stream-io-api.com"
                );
                sim.shutdown().await;
            });
        }
        other => panic!("unknown case {other}"),
    }
}
