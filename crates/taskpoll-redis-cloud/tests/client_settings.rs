//! `from_env` reads the variables the `taskpoll` command reads. (The builder's other shared
//! settings, a user's own HTTP client and the user agent, are cases of the behavior suite.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use taskpoll_testkit::process::{child_case, run_child};

use taskpoll_redis_cloud::{RedisCloudClient, RedisCloudClientBuilder, RedisCloudError};
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};

const KEY: &str = "env-redis-cloud-key-91d0";
const SECRET: &str = "env-redis-cloud-secret-4c7e";

async fn sim() -> RedisCloudSim {
    RedisCloudSim::start(RedisCloudSimConfig {
        api_key: KEY.into(),
        secret_key: SECRET.into(),
        ..RedisCloudSimConfig::default()
    })
    .await
    .unwrap()
}

/// Runs [`from_env_child`] in a process of its own with `vars` as its only Redis Cloud
/// variables (the environment is process-wide, and this crate forbids `unsafe`
/// `set_var`).
fn child(case: &str, vars: &[(&str, &str)]) {
    run_child(
        "from_env_child",
        case,
        vars,
        &["REDIS_CLOUD_API_KEY", "REDIS_CLOUD_API_SECRET"],
    )
    .unwrap();
}

#[test]
fn from_env_reads_the_commands_variables() {
    child("none", &[]);
    child("no-secret", &[("REDIS_CLOUD_API_KEY", KEY)]);
    child(
        "both",
        &[
            ("REDIS_CLOUD_API_KEY", KEY),
            ("REDIS_CLOUD_API_SECRET", SECRET),
        ],
    );
}

#[test]
#[ignore = "run by from_env_reads_the_commands_variables, in a process of its own"]
fn from_env_child() {
    let Some(case) = child_case() else {
        return;
    };
    let missing = |name: &str| {
        let err = RedisCloudClient::from_env().unwrap_err();
        assert!(
            matches!(&err, RedisCloudError::Config(taskpoll_http::ConfigError::MissingVariable { name: n }) if *n == name),
            "{err}"
        );
        assert!(err.to_string().contains(name), "{err}");
        assert!(RedisCloudClientBuilder::from_env().is_err());
    };
    match case.as_str() {
        "none" => missing("REDIS_CLOUD_API_KEY"),
        "no-secret" => missing("REDIS_CLOUD_API_SECRET"),
        "both" => {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let sim = sim().await;
                let client = RedisCloudClientBuilder::from_env()
                    .unwrap()
                    .base_url(&sim.base_url())
                    .build()
                    .unwrap();
                assert!(!format!("{client:?}").contains(SECRET));
                // The simulator accepts only KEY and SECRET: the request went with them.
                client
                    .create_subscription(serde_json::json!({"name": "c"}))
                    .await
                    .unwrap();
                assert_eq!(
                    RedisCloudClient::from_env().unwrap().base_url(),
                    "https://api.redislabs.com/v1"
                );
                sim.shutdown().await;
            });
        }
        other => panic!("unknown case {other}"),
    }
}
