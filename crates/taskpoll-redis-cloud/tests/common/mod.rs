//! Helpers shared by the adapter's tests: a fast simulator, a client on it, scripts.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::Value;
use taskpoll::Poller;
use taskpoll::TaskSource;
use taskpoll::strategy::Fixed;
use taskpoll_redis_cloud::{RedisCloudClient, RedisCloudClientBuilder};
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::script::{Defaults, Lasting, ScriptOutcome, ScriptStep, TaskScript};

/// Poll interval used against the simulator.
pub const TICK: Duration = Duration::from_millis(20);

/// Tasks take 100 ms; a subscription is pending for one poll after its task.
pub fn quick() -> RedisCloudSimConfig {
    RedisCloudSimConfig {
        defaults: Defaults {
            task_time: Duration::from_millis(100),
            fail_every: None,
        },
        provisioning: Lasting::Polls(1),
        ..RedisCloudSimConfig::default()
    }
}

/// [`quick`] without the 404 a brand-new task answers first (on by default, as in
/// production): for tests that count requests or polls exactly.
pub fn counted() -> RedisCloudSimConfig {
    RedisCloudSimConfig {
        not_found_polls: 0,
        ..quick()
    }
}

/// A simulator with an account key of its own: clients share a request budget per
/// key in the process, so a 429 pause in one test would otherwise hold up the others
/// (and push their waits past the visibility grace of a task's first 404).
pub async fn sim(mut config: RedisCloudSimConfig) -> RedisCloudSim {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    if config.api_key == RedisCloudSimConfig::default().api_key {
        config.api_key = format!("sim-key-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    }
    RedisCloudSim::start(config).await.unwrap()
}

pub fn builder(sim: &RedisCloudSim) -> RedisCloudClientBuilder {
    RedisCloudClient::builder(sim.api_key(), sim.secret_key()).base_url(&sim.base_url())
}

pub fn client(sim: &RedisCloudSim) -> RedisCloudClient {
    builder(sim).build().unwrap()
}

/// A poller with short intervals.
pub fn fast<S: TaskSource>(poller: Poller<S>) -> Poller<S> {
    poller.configure(|p| p.interval(Fixed::new(TICK)))
}

pub fn polls(status: &str, n: u32) -> ScriptStep {
    ScriptStep::for_polls(status, n)
}

pub fn success(steps: Vec<ScriptStep>, result: Value) -> TaskScript {
    TaskScript {
        steps,
        outcome: ScriptOutcome::Success { result },
    }
}

pub fn failure(steps: Vec<ScriptStep>, error: Value) -> TaskScript {
    TaskScript {
        steps,
        outcome: ScriptOutcome::Failure { error },
    }
}
