//! [`SubscriptionSource`]: the provisioning phase after a task. `processing-completed`
//! means the request was processed; the subscription itself is ready when its own
//! `status` is `active`.

use std::fmt;

use async_trait::async_trait;
use taskpoll::{ErrorClass, Phase, PollPolicy, Progress, RateLimitHint, SourcePhase, TaskSource};

use crate::client::RedisCloudClient;
use crate::error::RedisCloudError;
use crate::models::{Subscription, SubscriptionRef};
use crate::source::policy;

/// Subscription statuses that mean "still changing": the wait goes on.
pub const SUBSCRIPTION_CHANGING: &[&str] = &["pending"];

/// Subscription statuses that mean it will not become active: the wait fails.
pub const SUBSCRIPTION_FAILED: &[&str] = &["error", "deleting"];

/// A subscription that will not become active: its status is `error`, or it is being
/// deleted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SubscriptionFailed {
    /// The subscription id.
    pub subscription_id: i64,
    /// Its status (`error`, `deleting`).
    pub status: String,
    /// Its name, when known.
    pub name: Option<String>,
}

impl fmt::Display for SubscriptionFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "subscription {} is {}",
            self.subscription_id, self.status
        )?;
        f.write_str(match self.status.as_str() {
            "deleting" => ": it is being deleted and will not become active",
            _ => ": provisioning failed; see the subscription in the Redis Cloud console",
        })
    }
}

/// Reads a subscription's status (see [`SubscriptionSource`]).
pub(crate) fn classify_subscription(
    s: Subscription,
) -> Phase<Subscription, (), SubscriptionFailed> {
    let status = s.status.clone().unwrap_or_default();
    if status == "active" {
        Phase::Succeeded(s)
    } else if SUBSCRIPTION_CHANGING.contains(&status.as_str()) {
        Phase::Running(Progress::new(status))
    } else if SUBSCRIPTION_FAILED.contains(&status.as_str()) {
        Phase::Failed(SubscriptionFailed {
            subscription_id: s.id.unwrap_or_default(),
            status,
            name: s.name,
        })
    } else if status.is_empty() {
        Phase::Running(Progress::new("(no status)").unrecognized())
    } else {
        Phase::Running(Progress::new(status).unrecognized())
    }
}

/// Waits for a subscription to become `active` (`GET /v1/subscriptions/{id}`, or
/// `GET /v1/fixed/subscriptions/{id}` for an Essentials one).
///
/// | `status` | Phase |
/// |---|---|
/// | `active` | `Succeeded(Subscription)` |
/// | `pending` ([`SUBSCRIPTION_CHANGING`]) | `Running` |
/// | `error`, `deleting` ([`SUBSCRIPTION_FAILED`]) | `Failed(SubscriptionFailed)` |
/// | anything else | `Running`, unrecognized (logged) |
///
/// A 404 is tolerated for the visibility grace window, as for tasks.
#[derive(Debug, Clone)]
pub struct SubscriptionSource {
    client: RedisCloudClient,
}

impl SubscriptionSource {
    /// A source over `client`.
    pub fn new(client: RedisCloudClient) -> Self {
        SubscriptionSource { client }
    }
}

#[async_trait]
impl TaskSource for SubscriptionSource {
    type Id = SubscriptionRef;
    type Status = Subscription;
    type Output = Subscription;
    type Partial = ();
    type Failure = SubscriptionFailed;
    type Error = RedisCloudError;

    async fn fetch(&self, id: &SubscriptionRef) -> Result<Subscription, RedisCloudError> {
        self.client.subscription(id).await
    }

    fn classify(&self, s: Subscription) -> SourcePhase<Self> {
        classify_subscription(s)
    }

    fn error_class(&self, error: &RedisCloudError) -> ErrorClass {
        error.class(self.client.rate_limit_floor())
    }

    fn name(&self) -> &str {
        "redis-cloud-subscription"
    }

    fn default_policy(&self) -> PollPolicy {
        policy(&self.client)
    }

    fn rate_limit(&self) -> Option<RateLimitHint> {
        self.client.rate_limit()
    }
}
