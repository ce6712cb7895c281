//! Redis Cloud's own cases beyond the behavior suite.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::json;
use taskpoll::Poller;
use taskpoll_redis_cloud::{RedisCloudClient, RedisCloudSource};
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};

/// The simulator's defaults, as production: a task just created answers 404 first. The
/// adapter's default visibility grace waits through it; batched waits, left out of the
/// first task list, are polled again without a request of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_task_answers_404_first_and_the_wait_goes_through_it() {
    let sim = RedisCloudSim::start(RedisCloudSimConfig {
        defaults: taskpoll_sim::script::Defaults {
            task_time: Duration::from_millis(100),
            fail_every: None,
        },
        ..RedisCloudSimConfig::default()
    })
    .await
    .unwrap();
    let client = RedisCloudClient::builder(sim.api_key(), sim.secret_key())
        .base_url(&sim.base_url())
        .build()
        .unwrap();
    let fast = |p: Poller<RedisCloudSource>| {
        p.configure(|p| p.interval(taskpoll::strategy::Fixed::new(Duration::from_millis(20))))
    };
    let one = client.create_subscription(json!({})).await.unwrap();
    let done = fast(client.poller()).wait(one.clone()).await.unwrap();
    assert_eq!(done.task_id, one);
    let first = sim
        .requests()
        .into_iter()
        .find(|r| r.task_ids.contains(&one))
        .unwrap();
    assert_eq!(first.status, 404);

    let ids = vec![
        client.create_subscription(json!({})).await.unwrap(),
        client.create_subscription(json!({})).await.unwrap(),
    ];
    let poller = fast(client.poller());
    let mut group = poller.wait_all(ids.clone()).outcomes();
    let mut ended = 0;
    while let Some(o) = futures_util::StreamExt::next(&mut group).await {
        assert!(o.result.is_ok(), "{}: {:?}", o.id, o.result.err());
        ended += 1;
    }
    assert_eq!(ended, 2);
    sim.shutdown().await;
}
