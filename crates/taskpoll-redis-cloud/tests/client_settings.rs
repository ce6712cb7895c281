//! `from_env` reads the variables the `taskpoll` command reads. (The builder's other shared
//! settings, a user's own HTTP client and the user agent, are cases of the behavior suite.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use taskpoll_http::ConfigError;
use taskpoll_redis_cloud::{RedisCloudClient, RedisCloudClientBuilder, RedisCloudError};
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_testkit::process::{FromEnv, from_env_case, run_from_env_cases};

const KEY: &str = "env-redis-cloud-key-91d0";
const SECRET: &str = "env-redis-cloud-secret-4c7e";

#[test]
fn from_env_reads_the_commands_variables() {
    let vars = [
        ("REDIS_CLOUD_API_KEY", KEY),
        ("REDIS_CLOUD_API_SECRET", SECRET),
    ];
    run_from_env_cases("from_env_child", &vars).unwrap();
}

#[test]
#[ignore = "run by from_env_reads_the_commands_variables, in a process of its own"]
fn from_env_child() {
    match from_env_case() {
        None => {}
        Some(FromEnv::Missing(name)) => {
            let err = RedisCloudClient::from_env().unwrap_err();
            assert!(
                matches!(&err, RedisCloudError::Config(ConfigError::MissingVariable { name: n }) if *n == name),
                "{err}"
            );
            assert!(err.to_string().contains(&name), "{err}");
            assert!(RedisCloudClientBuilder::from_env().is_err());
        }
        Some(FromEnv::Set) => {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let sim = RedisCloudSim::start(RedisCloudSimConfig {
                    api_key: KEY.into(),
                    secret_key: SECRET.into(),
                    ..RedisCloudSimConfig::default()
                })
                .await
                .unwrap();
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
    }
}
