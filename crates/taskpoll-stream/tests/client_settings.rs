//! `from_env` reads the variables the `taskpoll` command reads. (The builder's other shared
//! settings, a user's own HTTP client and the user agent, are cases of the behavior suite.)
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
