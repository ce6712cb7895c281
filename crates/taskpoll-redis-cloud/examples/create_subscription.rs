//! Creates a subscription and waits for its task (the client's `subscription_poller`
//! then waits for the subscription itself to be active).
//!
//! Against the simulator: run `taskpoll sim` (or `cargo run -p taskpoll-sim`), export
//! the variables its `redis-cloud` line prints, then
//! `cargo run -p taskpoll-redis-cloud --example create_subscription`.
//! The keys come from `REDIS_CLOUD_API_KEY` and `REDIS_CLOUD_API_SECRET` (as for
//! `taskpoll wait redis-cloud`); `REDIS_CLOUD_BASE_URL` defaults to Redis Cloud's
//! production API, where this creates a real subscription.

use taskpoll_redis_cloud::{DEFAULT_BASE_URL, RedisCloudClientBuilder};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base_url =
        std::env::var("REDIS_CLOUD_BASE_URL").unwrap_or_else(|_| DEFAULT_BASE_URL.into());
    let client = RedisCloudClientBuilder::from_env()?
        .base_url(&base_url)
        .build()?;

    let task_id = client
        .create_subscription(serde_json::json!({"name": "taskpoll-example"}))
        .await?;
    println!("subscription requested: task {task_id}");

    // Redis Cloud's defaults: 1 s doubling to 30 s with jitter, a 30 minute deadline.
    let done = client.poller().wait(task_id).await?;
    match done.resource_id {
        Some(id) => println!("task done: subscription {id}"),
        None => println!("task done: {:?}", done.command_type),
    }
    Ok(())
}
