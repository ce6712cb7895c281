//! taskpoll adapter for Redis Cloud's asynchronous tasks (`api.redislabs.com/v1`).
//!
//! Every Redis Cloud write answers with a task in `received`; the task goes through
//! `processing-in-progress` to `processing-completed` (with `response.resourceId`) or
//! `processing-error` (with `response.error`). Then the resource itself is provisioned
//! until its own `status` is `active`. This crate waits on both (one after the other,
//! or as one wait with [`RedisCloudClient::ready_poller`]), for Pro and Essentials
//! (`/v1/fixed/...`) resources, and gets right what hand-written loops get wrong:
//!
//! - `processing-error`, and any answer carrying `response.error`, ends the wait at
//!   once (no spinning until a timeout);
//! - `response.error` is read as an object `{type, status, description}` or as a plain
//!   string, with `additionalInfo` kept;
//! - the 404 a brand-new task answers for a few seconds is tolerated for a grace window
//!   (30 s by default), then reported as an unknown task;
//! - 429s wait for `Retry-After`, or at least 30 s when there is none; pollers share a
//!   budget of 300 requests per minute (Redis Cloud allows 400 per key), and many
//!   waits due together (lone waits and groups alike, through the client's one
//!   [`Scheduler`](taskpoll::Scheduler)) are polled with one `GET /v1/tasks`;
//! - unknown statuses keep the wait going (logged), bounded by the deadline;
//! - keys never show in `Debug`, `Display`, errors or logs.
//!
//! ```
//! use std::time::Duration;
//! use taskpoll::strategy::Fixed;
//! use taskpoll_redis_cloud::{RedisCloudClient, SubscriptionRef};
//! use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
//! use taskpoll_sim::script::{Defaults, Lasting, ScriptStep};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A local simulator of api.redislabs.com (tasks take 100 ms here).
//! let sim = RedisCloudSim::start(RedisCloudSimConfig {
//!     defaults: Defaults { task_time: Duration::from_millis(100), fail_every: None },
//!     provisioning: Lasting::Polls(1),
//!     database_provisioning: vec![ScriptStep::for_polls("pending", 1)],
//!     ..RedisCloudSimConfig::default()
//! })
//! .await?;
//!
//! let client = RedisCloudClient::builder(sim.api_key(), sim.secret_key())
//!     .base_url(&sim.base_url())
//!     .build()?;
//! let task_id = client
//!     .create_subscription(serde_json::json!({"name": "demo"}))
//!     .await?;
//!
//! // Wait for the task (short intervals for the simulator; the default is 1 s to 30 s).
//! let done = client
//!     .poller()
//!     .configure(|p| p.interval(Fixed::new(Duration::from_millis(20))))
//!     .wait(task_id)
//!     .await?;
//! assert_eq!(done.command_type.as_deref(), Some("subscriptionCreateRequest"));
//! let subscription_id = done.resource_id.ok_or("no resourceId")?;
//!
//! // Then for the subscription to be provisioned.
//! let subscription = client
//!     .subscription_poller()
//!     .configure(|p| p.interval(Fixed::new(Duration::from_millis(20))))
//!     .wait(SubscriptionRef::pro(subscription_id))
//!     .await?;
//! assert_eq!(subscription.status.as_deref(), Some("active"));
//!
//! // Or both in one wait, under one deadline: a database create waits for the
//! // database, then for its subscription (which the create moved back to `pending`).
//! let task_id = client
//!     .create_database(subscription_id, serde_json::json!({"name": "cache"}))
//!     .await?;
//! let ready = client
//!     .ready_poller()
//!     .configure(|p| p.interval(Fixed::new(Duration::from_millis(20))))
//!     .wait(task_id)
//!     .await?;
//! let database = ready.database.ok_or("no database")?;
//! assert_eq!(database.status.as_deref(), Some("active"));
//! assert!(database.public_endpoint.is_some());
//! # sim.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! What maps to what, the defaults and every choice made where Redis Cloud's
//! documentation is silent: `docs/vendors/redis-cloud.md` in the repository.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
mod config;
mod database;
pub mod decode;
mod error;
mod models;
mod ready;
mod source;
mod subscription;
mod timestamp;

pub use client::RedisCloudClient;
pub use config::{
    API_KEY_VAR, API_SECRET_VAR, DEFAULT_BASE_URL, DEFAULT_REQUESTS_PER_MINUTE,
    RedisCloudClientBuilder,
};
pub use database::{
    DATABASE_CHANGING, DATABASE_CHANGING_PREFIXES, DATABASE_FAILED, DatabaseFailed, DatabaseSource,
    DatabaseStatus,
};
pub use error::{ErrorBody, Operation, RedisCloudError};
pub use models::{
    Database, DatabaseRef, ErrorDetails, Link, Plan, ProcessorResponse, Subscription,
    SubscriptionRef, TaskError, TaskStateUpdate, TaskStatus, parse_task_list,
};
pub use ready::{Ready, ReadyFailed, ReadySource, ReadyStatus, ReadyTarget};
pub use source::{RedisCloudSource, TaskCompleted, TaskFailed};
pub use subscription::{
    SUBSCRIPTION_CHANGING, SUBSCRIPTION_FAILED, SubscriptionFailed, SubscriptionSource,
};
pub use taskpoll_http::Secret;
pub use timestamp::{Timestamp, TimestampError};
