//! The resources a task creates or changes: [`Subscription`] and [`Database`], and
//! the references that name them ([`SubscriptionRef`], [`DatabaseRef`]).

use std::fmt;

use serde::ser::{Serialize, Serializer};
use serde_json::{Map, Value};

use taskpoll_http::lenient::{integer as id, text};

/// A subscription, as `GET /v1/subscriptions/{id}` returns it: the fields the
/// provisioning wait reads, and the whole body.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Subscription {
    /// `id`.
    pub id: Option<i64>,
    /// `name`.
    pub name: Option<String>,
    /// `status`: `pending`, `active`, `deleting`, `error`.
    pub status: Option<String>,
    /// The body as sent (serialized back as is).
    pub body: Map<String, Value>,
}

impl Subscription {
    /// Reads a subscription; `None` unless it is an object.
    pub fn from_value(v: &Value) -> Option<Self> {
        let map = v.as_object()?;
        Some(Subscription {
            id: id(map.get("id")),
            name: text(map.get("name")),
            status: text(map.get("status")),
            body: map.clone(),
        })
    }
}

impl Serialize for Subscription {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.body.serialize(s)
    }
}

/// Which of Redis Cloud's two API families a resource belongs to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    /// Pro subscriptions: `/v1/subscriptions/...`.
    #[default]
    Pro,
    /// Essentials (fixed) subscriptions: `/v1/fixed/subscriptions/...`, and
    /// `commandType`s starting with `fixed`.
    Essentials,
}

impl Plan {
    /// The path below the base URL that a plan's subscriptions live under
    /// (`subscriptions`, `fixed/subscriptions`).
    pub fn subscriptions_path(self) -> &'static str {
        match self {
            Plan::Pro => "subscriptions",
            Plan::Essentials => "fixed/subscriptions",
        }
    }
}

/// A subscription to wait on: its id, and whether it is a Pro or an Essentials one.
///
/// Shown as `77899` (Pro) or `fixed/111728` (Essentials). A bare `i64` converts to a
/// Pro subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SubscriptionRef {
    /// The subscription id.
    pub id: i64,
    /// Its plan.
    pub plan: Plan,
}

impl SubscriptionRef {
    /// A Pro subscription (`/v1/subscriptions/{id}`).
    pub fn pro(id: i64) -> Self {
        SubscriptionRef {
            id,
            plan: Plan::Pro,
        }
    }

    /// An Essentials subscription (`/v1/fixed/subscriptions/{id}`).
    pub fn essentials(id: i64) -> Self {
        SubscriptionRef {
            id,
            plan: Plan::Essentials,
        }
    }

    /// Its path below the base URL (`subscriptions/77899`).
    pub fn path(&self) -> String {
        format!("{}/{}", self.plan.subscriptions_path(), self.id)
    }
}

impl From<i64> for SubscriptionRef {
    fn from(id: i64) -> Self {
        SubscriptionRef::pro(id)
    }
}

impl fmt::Display for SubscriptionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.plan {
            Plan::Pro => write!(f, "{}", self.id),
            Plan::Essentials => write!(f, "fixed/{}", self.id),
        }
    }
}

/// A database to wait on: its subscription, its id, and the plan.
///
/// Shown as `77899/51055029` (Pro) or `fixed/111728/51055029` (Essentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DatabaseRef {
    /// The subscription the database belongs to.
    pub subscription_id: i64,
    /// The database id.
    pub database_id: i64,
    /// The plan of its subscription.
    pub plan: Plan,
}

impl DatabaseRef {
    /// A database of a Pro subscription
    /// (`/v1/subscriptions/{subscriptionId}/databases/{databaseId}`).
    pub fn pro(subscription_id: i64, database_id: i64) -> Self {
        DatabaseRef {
            subscription_id,
            database_id,
            plan: Plan::Pro,
        }
    }

    /// A database of an Essentials subscription
    /// (`/v1/fixed/subscriptions/{subscriptionId}/databases/{databaseId}`).
    pub fn essentials(subscription_id: i64, database_id: i64) -> Self {
        DatabaseRef {
            subscription_id,
            database_id,
            plan: Plan::Essentials,
        }
    }

    /// Its subscription.
    pub fn subscription(&self) -> SubscriptionRef {
        SubscriptionRef {
            id: self.subscription_id,
            plan: self.plan,
        }
    }

    /// Its path below the base URL (`subscriptions/77899/databases/51055029`).
    pub fn path(&self) -> String {
        format!(
            "{}/{}/databases/{}",
            self.plan.subscriptions_path(),
            self.subscription_id,
            self.database_id
        )
    }
}

impl fmt::Display for DatabaseRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.plan == Plan::Essentials {
            f.write_str("fixed/")?;
        }
        write!(f, "{}/{}", self.subscription_id, self.database_id)
    }
}

/// A database, as `GET /v1/subscriptions/{subscriptionId}/databases/{databaseId}` (and
/// its `/v1/fixed/...` twin) returns it: the fields the readiness wait reads, and the
/// whole body.
///
/// Serialized as `databaseId`, `name`, `status`, `publicEndpoint` and `privateEndpoint`
/// only: the body is kept in [`body`](Database::body) but not written out, because it
/// can carry the database's password (`security.password` in the Go client's model).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Database {
    /// `databaseId` (or `id`).
    #[serde(rename = "databaseId", skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `status`: `pending`, `active`, `draft`, `active-change-pending`, `rcp-*`,
    /// `error`, `deleting`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `publicEndpoint` (`host:port`), once provisioned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_endpoint: Option<String>,
    /// `privateEndpoint`, once provisioned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_endpoint: Option<String>,
    /// The body as sent.
    #[serde(skip)]
    pub body: Map<String, Value>,
}

impl Database {
    /// Reads a database; `None` unless it is an object.
    pub fn from_value(v: &Value) -> Option<Self> {
        let map = v.as_object()?;
        Some(Database {
            id: id(map.get("databaseId")).or_else(|| id(map.get("id"))),
            name: text(map.get("name")),
            status: text(map.get("status")),
            public_endpoint: text(map.get("publicEndpoint")),
            private_endpoint: text(map.get("privateEndpoint")),
            body: map.clone(),
        })
    }
}
