//! [`DatabaseSource`]: a database's provisioning after the task that created or changed
//! it. `processing-completed` means the request was processed; the database is usable
//! when its own `status` is `active`.

use std::fmt;

use async_trait::async_trait;
use taskpoll::{ErrorClass, Phase, PollPolicy, Progress, RateLimitHint, SourcePhase, TaskSource};

use crate::client::RedisCloudClient;
use crate::error::RedisCloudError;
use crate::models::{Database, DatabaseRef};
use crate::source::policy;

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
        write!(
            f,
            "database {} of subscription {} is {}",
            self.database_id, self.subscription_id, self.status
        )?;
        f.write_str(match self.status.as_str() {
            "deleting" => ": it is being deleted and will not become active",
            _ => ": provisioning failed; see the database in the Redis Cloud console",
        })
    }
}

/// Whether a database status means "still changing".
pub(crate) fn database_changing(status: &str) -> bool {
    DATABASE_CHANGING.contains(&status)
        || DATABASE_CHANGING_PREFIXES
            .iter()
            .any(|p| status.len() > p.len() && status.starts_with(p))
}

/// Reads a database's status (see [`DatabaseSource`]).
pub(crate) fn classify_database(
    db: Database,
    database: &DatabaseRef,
) -> Phase<Database, (), DatabaseFailed> {
    let status = db.status.clone().unwrap_or_default();
    if status == "active" {
        Phase::Succeeded(db)
    } else if database_changing(&status) {
        Phase::Running(Progress::new(status))
    } else if DATABASE_FAILED.contains(&status.as_str()) {
        Phase::Failed(DatabaseFailed {
            database_id: db.id.unwrap_or(database.database_id),
            subscription_id: database.subscription_id,
            status,
            name: db.name,
        })
    } else if status.is_empty() {
        Phase::Running(Progress::new("(no status)").unrecognized())
    } else {
        Phase::Running(Progress::new(status).unrecognized())
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

/// Waits for a database to become `active`
/// (`GET /v1/subscriptions/{subscriptionId}/databases/{databaseId}`, or
/// `GET /v1/fixed/subscriptions/{subscriptionId}/databases/{databaseId}` for an
/// Essentials one).
///
/// | `status` | Phase |
/// |---|---|
/// | `active` | `Succeeded(Database)` |
/// | [`DATABASE_CHANGING`], [`DATABASE_CHANGING_PREFIXES`] (`pending`, `draft`, `active-change-pending`, `rcp-*`, ...) | `Running` |
/// | `error`, `deleting` ([`DATABASE_FAILED`]) | `Failed(DatabaseFailed)` |
/// | anything else | `Running`, unrecognized (logged; the deadline bounds it) |
///
/// A 404 is tolerated for the visibility grace window, as for tasks.
#[derive(Debug, Clone)]
pub struct DatabaseSource {
    client: RedisCloudClient,
}

impl DatabaseSource {
    /// A source over `client`.
    pub fn new(client: RedisCloudClient) -> Self {
        DatabaseSource { client }
    }
}

#[async_trait]
impl TaskSource for DatabaseSource {
    type Id = DatabaseRef;
    type Status = DatabaseStatus;
    type Output = Database;
    type Partial = ();
    type Failure = DatabaseFailed;
    type Error = RedisCloudError;

    async fn fetch(&self, id: &DatabaseRef) -> Result<DatabaseStatus, RedisCloudError> {
        Ok(DatabaseStatus {
            database: *id,
            body: self.client.database(id).await?,
        })
    }

    fn classify(&self, s: DatabaseStatus) -> SourcePhase<Self> {
        classify_database(s.body, &s.database)
    }

    fn error_class(&self, error: &RedisCloudError) -> ErrorClass {
        error.class(self.client.rate_limit_floor())
    }

    fn name(&self) -> &str {
        "redis-cloud-database"
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
