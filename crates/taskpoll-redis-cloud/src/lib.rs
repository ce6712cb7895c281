#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
mod config;
pub mod decode;
mod error;
mod models;
mod ready;
mod resource;
mod source;

pub use client::RedisCloudClient;
pub use config::{
    API_KEY_VAR, API_SECRET_VAR, DEFAULT_BASE_URL, DEFAULT_REQUESTS_PER_MINUTE,
    RedisCloudClientBuilder,
};
pub use error::{ErrorBody, Operation, RedisCloudError};
pub use models::{
    Database, DatabaseRef, ErrorDetails, Link, Plan, ProcessorResponse, Subscription,
    SubscriptionRef, TaskError, TaskStateUpdate, TaskStatus, parse_task_list,
};
pub use ready::{Ready, ReadyFailed, ReadySource, ReadyStatus, ReadyTarget};
pub use resource::{
    DATABASE_CHANGING, DATABASE_CHANGING_PREFIXES, DATABASE_FAILED, DatabaseFailed, DatabaseSource,
    DatabaseStatus, Resource, ResourceSource, SUBSCRIPTION_CHANGING, SUBSCRIPTION_FAILED,
    SubscriptionFailed, SubscriptionSource,
};
pub use source::{RedisCloudSource, TaskCompleted, TaskFailed};
pub use taskpoll_http::Secret;
pub use taskpoll_http::timestamp::{Timestamp, TimestampError};
