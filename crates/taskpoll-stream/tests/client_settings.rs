//! `from_env` reads the variables the `taskpoll` command reads. (The builder's other shared
//! settings, a user's own HTTP client and the user agent, are cases of the behavior suite.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use taskpoll_http::ConfigError;
use taskpoll_sim::stream::{StreamSim, StreamSimConfig};
use taskpoll_stream::{ChannelRef, StreamClient, StreamClientBuilder, StreamError};
use taskpoll_testkit::process::{FromEnv, from_env_case, run_from_env_cases};

const KEY: &str = "env-stream-key-7c1f";
const SECRET: &str = "env-stream-secret-2b9d";

#[test]
fn from_env_reads_the_commands_variables() {
    let vars = [("STREAM_API_KEY", KEY), ("STREAM_API_SECRET", SECRET)];
    run_from_env_cases("from_env_child", &vars).unwrap();
}

#[test]
#[ignore = "run by from_env_reads_the_commands_variables, in a process of its own"]
fn from_env_child() {
    match from_env_case() {
        None => {}
        Some(FromEnv::Missing(name)) => {
            let err = StreamClient::from_env().unwrap_err();
            assert!(
                matches!(&err, StreamError::Config(ConfigError::MissingVariable { name: n }) if *n == name),
                "{err}"
            );
            assert!(err.to_string().contains(&name), "{err}");
            assert!(StreamClientBuilder::from_env().is_err());
        }
        Some(FromEnv::Set) => {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let sim = StreamSim::start(StreamSimConfig {
                    api_key: KEY.into(),
                    api_secret: SECRET.into(),
                    ..StreamSimConfig::default()
                })
                .await
                .unwrap();
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
    }
}
