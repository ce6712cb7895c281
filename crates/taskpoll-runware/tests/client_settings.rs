//! `from_env` reads the variable the `taskpoll` command reads. (The builder's other shared
//! settings, a user's own HTTP client and the user agent, are cases of the behavior suite.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use taskpoll_http::ConfigError;
use taskpoll_runware::{RunwareClient, RunwareClientBuilder, RunwareError, VideoInference};
use taskpoll_sim::runware::{RunwareSim, RunwareSimConfig};
use taskpoll_testkit::process::{FromEnv, from_env_case, run_from_env_cases};

const KEY: &str = "env-runware-key-5e2a";

#[test]
fn from_env_reads_the_commands_variable() {
    run_from_env_cases("from_env_child", &[("RUNWARE_API_KEY", KEY)]).unwrap();
}

#[test]
#[ignore = "run by from_env_reads_the_commands_variable, in a process of its own"]
fn from_env_child() {
    match from_env_case() {
        None => {}
        Some(FromEnv::Missing(name)) => {
            let err = RunwareClient::from_env().unwrap_err();
            assert!(
                matches!(&err, RunwareError::Config(ConfigError::MissingVariable { name: n }) if *n == name),
                "{err}"
            );
            assert!(err.to_string().contains(&name), "{err}");
            assert!(RunwareClientBuilder::from_env().is_err());
        }
        Some(FromEnv::Set) => {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let sim = RunwareSim::start(RunwareSimConfig {
                    api_key: KEY.into(),
                    ..RunwareSimConfig::default()
                })
                .await
                .unwrap();
                let client = RunwareClientBuilder::from_env()
                    .unwrap()
                    .base_url(&sim.base_url())
                    .build()
                    .unwrap();
                assert!(!format!("{client:?}").contains(KEY));
                // The simulator accepts only KEY: the request went with it.
                let video = VideoInference::new("klingai:5@3", "A red fox in fresh snow");
                client.submit_video(video).await.unwrap();
                assert_eq!(
                    RunwareClient::from_env().unwrap().base_url(),
                    "https://api.runware.ai/v1"
                );
                sim.shutdown().await;
            });
        }
    }
}
