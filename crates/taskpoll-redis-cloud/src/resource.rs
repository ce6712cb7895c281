//! Waiting on a resource after its task: `processing-completed` means Redis Cloud
//! processed the request; the subscription or database it made or changed is usable
//! when its own `status` is `active`. [`ResourceSource`] waits on either:
//! [`SubscriptionSource`] and [`DatabaseSource`].

use std::fmt;
use std::future::Future;
use std::hash::Hash;

use async_trait::async_trait;
use taskpoll::{ErrorClass, Phase, PollPolicy, Progress, RateLimitHint, SourcePhase, TaskSource};

use crate::client::RedisCloudClient;
use crate::error::RedisCloudError;
use crate::models::{Database, DatabaseRef, Subscription, SubscriptionRef};
use crate::source::policy;

/// Subscription statuses that mean "still changing": the wait goes on.
pub const SUBSCRIPTION_CHANGING: &[&str] = &["pending"];

/// Subscription statuses that mean it will not become active: the wait fails.
pub const SUBSCRIPTION_FAILED: &[&str] = &["error", "deleting"];

/// Database statuses that mean "still changing": the wait goes on. These are the
/// statuses Terraform's provider waits through (`WaitForDatabaseToBeActive`), with
/// [`DATABASE_CHANGING_PREFIXES`].
pub const DATABASE_CHANGING: &[&str] = &[
    "draft",
    "pending",
    "active-change-draft",
    "active-change-pending",
    "dynamic-endpoints-creation-pending",
    "active-upgrade-pending",
    "bdb-update-pending",
];

/// Prefixes of database statuses that mean "still changing" (`rcp-draft`,
/// `rcp-change-pending`, `rcp-active-change-draft`, `proxy-policy-change-pending`,
/// `proxy-policy-change-draft`, ...).
pub const DATABASE_CHANGING_PREFIXES: &[&str] = &["rcp-", "proxy-policy-change-"];

/// Database statuses that mean it will not become active: the wait fails.
pub const DATABASE_FAILED: &[&str] = &["error", "deleting"];

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
        let (id, status) = (self.subscription_id, &self.status);
        write!(
            f,
            "subscription {id} is {status}{}",
            why(status, "subscription")
        )
    }
}

/// A database that will not become active: its status is `error`, or it is being
/// deleted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DatabaseFailed {
    /// The database id.
    pub database_id: i64,
    /// Its subscription.
    pub subscription_id: i64,
    /// Its status (`error`, `deleting`).
    pub status: String,
    /// Its name, when known.
    pub name: Option<String>,
}

impl fmt::Display for DatabaseFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (id, sub, status) = (self.database_id, self.subscription_id, &self.status);
        let why = why(status, "database");
        write!(f, "database {id} of subscription {sub} is {status}{why}")
    }
}

/// What a failed status means, after the status itself.
fn why(status: &str, what: &str) -> String {
    match status {
        "deleting" => ": it is being deleted and will not become active".to_owned(),
        _ => format!(": provisioning failed; see the {what} in the Redis Cloud console"),
    }
}

/// The fetched database, with the reference it was fetched by (its subscription is
/// not in the body).
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseStatus {
    /// What was asked for.
    pub database: DatabaseRef,
    /// What Redis Cloud answered.
    pub body: Database,
}

/// Whether a database status means "still changing".
pub(crate) fn database_changing(status: &str) -> bool {
    DATABASE_CHANGING.contains(&status)
        || DATABASE_CHANGING_PREFIXES
            .iter()
            .any(|p| status.len() > p.len() && status.starts_with(p))
}

/// Reads a resource's status: `active` succeeds with `body`, a changing word runs, a
/// failed word fails with `failed`, anything else runs unrecognized.
fn classify<B, F>(
    status: Option<&str>,
    changing: impl Fn(&str) -> bool,
    failed_words: &[&str],
    body: B,
    failed: impl FnOnce(String) -> F,
) -> Phase<B, (), F> {
    match status.unwrap_or_default() {
        "active" => Phase::Succeeded(body),
        s if changing(s) => Phase::Running(Progress::new(s)),
        s if failed_words.contains(&s) => Phase::Failed(failed(s.to_owned())),
        "" => Phase::Running(Progress::new("(no status)").unrecognized()),
        s => Phase::Running(Progress::new(s).unrecognized()),
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::SubscriptionRef {}
    impl Sealed for crate::DatabaseRef {}
}

/// A resource to wait on: [`SubscriptionRef`] or [`DatabaseRef`] (the trait is sealed).
pub trait Resource:
    sealed::Sealed + Copy + Eq + Hash + fmt::Debug + fmt::Display + Send + Sync + 'static
{
    /// What one fetch returns.
    type Status: fmt::Debug + Clone + Send + 'static;
    /// The resource once `active`.
    type Body: fmt::Debug + Clone + Send + 'static;
    /// Why it will not become active.
    type Failed: fmt::Debug + fmt::Display + Clone + Send + Sync + 'static;
    /// The source's name (`redis-cloud-subscription`).
    const SOURCE_NAME: &'static str;
    /// Fetches the resource.
    fn fetch(
        self,
        client: &RedisCloudClient,
    ) -> impl Future<Output = Result<Self::Status, RedisCloudError>> + Send;
    /// Reads its status (see [`ResourceSource`]).
    fn classify(status: Self::Status) -> Phase<Self::Body, (), Self::Failed>;
}

impl Resource for SubscriptionRef {
    type Status = Subscription;
    type Body = Subscription;
    type Failed = SubscriptionFailed;
    const SOURCE_NAME: &'static str = "redis-cloud-subscription";

    async fn fetch(self, client: &RedisCloudClient) -> Result<Subscription, RedisCloudError> {
        client.subscription(&self).await
    }

    fn classify(s: Subscription) -> Phase<Subscription, (), SubscriptionFailed> {
        let (status, id, name) = (s.status.clone(), s.id, s.name.clone());
        let changing = |w: &str| SUBSCRIPTION_CHANGING.contains(&w);
        classify(
            status.as_deref(),
            changing,
            SUBSCRIPTION_FAILED,
            s,
            |status| SubscriptionFailed {
                subscription_id: id.unwrap_or_default(),
                status,
                name,
            },
        )
    }
}

impl Resource for DatabaseRef {
    type Status = DatabaseStatus;
    type Body = Database;
    type Failed = DatabaseFailed;
    const SOURCE_NAME: &'static str = "redis-cloud-database";

    async fn fetch(self, client: &RedisCloudClient) -> Result<DatabaseStatus, RedisCloudError> {
        let body = client.database(&self).await?;
        Ok(DatabaseStatus {
            database: self,
            body,
        })
    }

    fn classify(s: DatabaseStatus) -> Phase<Database, (), DatabaseFailed> {
        let DatabaseStatus { database, body } = s;
        let (status, id, name) = (body.status.clone(), body.id, body.name.clone());
        classify(
            status.as_deref(),
            database_changing,
            DATABASE_FAILED,
            body,
            |status| DatabaseFailed {
                database_id: id.unwrap_or(database.database_id),
                subscription_id: database.subscription_id,
                status,
                name,
            },
        )
    }
}

/// Waits for a subscription or a database to become `active`: one `GET` of the
/// resource per poll (`/v1/subscriptions/{id}`,
/// `/v1/subscriptions/{subscriptionId}/databases/{databaseId}`, or their
/// `/v1/fixed/...` twins for Essentials).
///
/// | `status` | Phase |
/// |---|---|
/// | `active` | `Succeeded` (the resource) |
/// | [`SUBSCRIPTION_CHANGING`]; [`DATABASE_CHANGING`], [`DATABASE_CHANGING_PREFIXES`] (`pending`, `draft`, `active-change-pending`, `rcp-*`, ...) | `Running` |
/// | `error`, `deleting` ([`SUBSCRIPTION_FAILED`], [`DATABASE_FAILED`]) | `Failed` ([`SubscriptionFailed`], [`DatabaseFailed`]) |
/// | anything else | `Running`, unrecognized (logged; the deadline bounds it) |
///
/// A 404 is tolerated for the visibility grace window, as for tasks.
#[derive(Debug, Clone)]
pub struct ResourceSource<R> {
    client: RedisCloudClient,
    resource: std::marker::PhantomData<fn() -> R>,
}

/// Waits for a subscription to become `active` (see [`ResourceSource`]).
pub type SubscriptionSource = ResourceSource<SubscriptionRef>;

/// Waits for a database to become `active` (see [`ResourceSource`]).
pub type DatabaseSource = ResourceSource<DatabaseRef>;

impl<R: Resource> ResourceSource<R> {
    /// A source over `client`.
    pub fn new(client: RedisCloudClient) -> Self {
        ResourceSource {
            client,
            resource: std::marker::PhantomData,
        }
    }
}

#[async_trait]
impl<R: Resource> TaskSource for ResourceSource<R> {
    type Id = R;
    type Status = R::Status;
    type Output = R::Body;
    type Partial = ();
    type Failure = R::Failed;
    type Error = RedisCloudError;

    async fn fetch(&self, id: &R) -> Result<R::Status, RedisCloudError> {
        id.fetch(&self.client).await
    }

    fn classify(&self, status: R::Status) -> SourcePhase<Self> {
        R::classify(status)
    }

    fn error_class(&self, error: &RedisCloudError) -> ErrorClass {
        error.class(self.client.rate_limit_floor())
    }

    fn name(&self) -> &str {
        R::SOURCE_NAME
    }

    fn default_policy(&self) -> PollPolicy {
        policy(&self.client)
    }

    fn rate_limit(&self) -> Option<RateLimitHint> {
        self.client.rate_limit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changing_statuses() {
        for s in [
            "pending",
            "draft",
            "active-change-pending",
            "rcp-draft",
            "rcp-change-pending",
            "proxy-policy-change-pending",
            "bdb-update-pending",
        ] {
            assert!(database_changing(s), "{s}");
        }
        for s in ["active", "error", "deleting", "rcp-", "", "importing"] {
            assert!(!database_changing(s), "{s}");
        }
    }
}
