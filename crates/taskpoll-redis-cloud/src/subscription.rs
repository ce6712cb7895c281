//! [`SubscriptionSource`]: the provisioning phase after a task. `processing-completed`
//! means the request was processed; the subscription itself is ready when its own
//! `status` is `active`.

use std::fmt;

use async_trait::async_trait;
use taskpoll::{ErrorClass, Phase, PollPolicy, Progress, RateLimitHint, SourcePhase, TaskSource};

use crate::client::RedisCloudClient;
use crate::error::RedisCloudError;
use crate::models::Subscription;
use crate::source::policy;

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

/// Waits for a subscription to become `active` (`GET /v1/subscriptions/{id}`).
///
/// | `status` | Phase |
/// |---|---|
/// | `active` | `Succeeded(Subscription)` |
/// | `pending` | `Running` |
/// | `error`, `deleting` | `Failed(SubscriptionFailed)` |
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
    type Id = i64;
    type Status = Subscription;
    type Output = Subscription;
    type Partial = ();
    type Failure = SubscriptionFailed;
    type Error = RedisCloudError;

    async fn fetch(&self, id: &i64) -> Result<Subscription, RedisCloudError> {
        let mut s = self.client.get_subscription(*id).await?;
        if s.id.is_none() {
            s.id = Some(*id);
        }
        Ok(s)
    }

    fn classify(&self, s: Subscription) -> SourcePhase<Self> {
        let status = s.status.clone().unwrap_or_default();
        match status.as_str() {
            "active" => Phase::Succeeded(s),
            "pending" => Phase::Running(Progress::new(status)),
            "error" | "deleting" => Phase::Failed(SubscriptionFailed {
                subscription_id: s.id.unwrap_or_default(),
                status,
                name: s.name,
            }),
            "" => Phase::Running(Progress::new("(no status)").unrecognized()),
            _ => Phase::Running(Progress::new(status).unrecognized()),
        }
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
