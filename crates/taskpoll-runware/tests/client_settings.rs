//! `from_env` reads the variable the `taskpoll` command reads. (The builder's other shared
//! settings, a user's own HTTP client and the user agent, are cases of the behavior suite.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use taskpoll_testkit::process::{child_case, run_child};

use taskpoll_runware::{RunwareClient, RunwareClientBuilder, RunwareError, VideoInference};
use taskpoll_sim::runware::{RunwareSim, RunwareSimConfig};

const KEY: &str = "env-runware-key-5e2a";

async fn sim() -> RunwareSim {
    RunwareSim::start(RunwareSimConfig {
        api_key: KEY.into(),
        ..RunwareSimConfig::default()
    })
    .await
    .unwrap()
}

fn video() -> VideoInference {
    VideoInference::new("klingai:5@3", "A red fox in fresh snow")
}

/// Runs [`from_env_child`] in a process of its own with `vars` as its only Runware
/// variable (the environment is process-wide, and this crate forbids `unsafe`
/// `set_var`).
fn child(case: &str, vars: &[(&str, &str)]) {
    run_child("from_env_child", case, vars, &["RUNWARE_API_KEY"]).unwrap();
}

#[test]
fn from_env_reads_the_commands_variable() {
    child("none", &[]);
    child("empty", &[("RUNWARE_API_KEY", "")]);
    child("set", &[("RUNWARE_API_KEY", KEY)]);
}

#[test]
#[ignore = "run by from_env_reads_the_commands_variable, in a process of its own"]
fn from_env_child() {
    let Some(case) = child_case() else {
        return;
    };
    match case.as_str() {
        "none" | "empty" => {
            let err = RunwareClient::from_env().unwrap_err();
            assert!(
                matches!(
                    &err,
                    RunwareError::Config(taskpoll_http::ConfigError::MissingVariable {
                        name: "RUNWARE_API_KEY"
                    })
                ),
                "{err}"
            );
            assert!(err.to_string().contains("RUNWARE_API_KEY"), "{err}");
            assert!(RunwareClientBuilder::from_env().is_err());
        }
        "set" => {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let sim = sim().await;
                let client = RunwareClientBuilder::from_env()
                    .unwrap()
                    .base_url(&sim.base_url())
                    .build()
                    .unwrap();
                assert!(!format!("{client:?}").contains(KEY));
                // The simulator accepts only KEY: the request went with it.
                client.submit_video(video()).await.unwrap();
                assert_eq!(
                    RunwareClient::from_env().unwrap().base_url(),
                    "https://api.runware.ai/v1"
                );
                sim.shutdown().await;
            });
        }
        other => panic!("unknown case {other}"),
    }
}
