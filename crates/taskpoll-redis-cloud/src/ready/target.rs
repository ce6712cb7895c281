//! [`ReadyTarget`]: what a completed task leaves to wait for.

use crate::models::{DatabaseRef, Plan, SubscriptionRef};
use crate::source::TaskCompleted;

/// What a completed task leaves to wait for.
///
/// | `commandType` | Waits for |
/// |---|---|
/// | `subscriptionCreateRequest`, `subscriptionUpdateRequest` | the subscription `resourceId` |
/// | `databaseCreateRequest`, `databaseUpdateRequest` | the database `resourceId` of subscription `additionalResourceId`, then that subscription |
/// | the same with the `fixed` prefix (`fixedDatabaseCreateRequest`, ...) | the same, under `/v1/fixed/subscriptions` |
/// | anything else (deletes, backups, imports, ACLs, networking, ...) | nothing |
///
/// When the task's `response` lacks an id, the ids are read from the path of its
/// `resource` link (`.../subscriptions/{id}/databases/{id}`), when it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReadyTarget {
    /// A subscription, until `active`.
    Subscription(SubscriptionRef),
    /// A database, until `active`; then its subscription, until `active` (creating or
    /// changing a database can move its subscription back to `pending`).
    Database(DatabaseRef),
}

impl ReadyTarget {
    /// What to wait for after `task` (see the table above); `None` when nothing is
    /// provisioned after it, or the task does not say which resource it changed.
    pub fn of(task: &TaskCompleted) -> Option<ReadyTarget> {
        let command = task.command_type.as_deref()?.trim();
        let (plan, rest) = match command.get(..5) {
            Some(p) if p.eq_ignore_ascii_case("fixed") => (Plan::Essentials, &command[5..]),
            _ => (Plan::Pro, command),
        };
        let link = task
            .resource_link
            .as_deref()
            .map(link_ids)
            .unwrap_or_default();
        let rest = rest.to_ascii_lowercase();
        match rest.as_str() {
            "subscriptioncreaterequest" | "subscriptionupdaterequest" => {
                let id = task.resource_id.or(link.0)?;
                Some(ReadyTarget::Subscription(SubscriptionRef { id, plan }))
            }
            "databasecreaterequest" | "databaseupdaterequest" => {
                let (database_id, subscription_id) = match (link.0, link.1) {
                    // The link names both: only trust it whole.
                    (Some(s), Some(d)) => (
                        task.resource_id.unwrap_or(d),
                        task.additional_resource_id.unwrap_or(s),
                    ),
                    _ => (task.resource_id?, task.additional_resource_id?),
                };
                Some(ReadyTarget::Database(DatabaseRef {
                    subscription_id,
                    database_id,
                    plan,
                }))
            }
            _ => None,
        }
    }

    /// The subscription the wait ends on.
    pub fn subscription(&self) -> SubscriptionRef {
        match self {
            ReadyTarget::Subscription(s) => *s,
            ReadyTarget::Database(d) => d.subscription(),
        }
    }
}

/// The ids in a resource link's path: (subscription, database).
fn link_ids(href: &str) -> (Option<i64>, Option<i64>) {
    let path = href.split(['?', '#']).next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').collect();
    let after = |name: &str| -> Option<i64> {
        let i = segments.iter().rposition(|s| *s == name)?;
        segments.get(i + 1)?.parse().ok()
    };
    (after("subscriptions"), after("databases"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completed(command: &str, resource: Option<i64>, additional: Option<i64>) -> TaskCompleted {
        TaskCompleted {
            task_id: "t".into(),
            command_type: Some(command.into()),
            resource_id: resource,
            additional_resource_id: additional,
            resource: None,
            resource_link: None,
        }
    }

    #[test]
    fn targets_from_the_command_type() {
        let t = |c, r, a| ReadyTarget::of(&completed(c, r, a));
        assert_eq!(
            t("subscriptionCreateRequest", Some(7), None),
            Some(ReadyTarget::Subscription(SubscriptionRef::pro(7)))
        );
        assert_eq!(
            t("subscriptionUpdateRequest", Some(7), None),
            Some(ReadyTarget::Subscription(SubscriptionRef::pro(7)))
        );
        assert_eq!(
            t("fixedSubscriptionCreateRequest", Some(7), None),
            Some(ReadyTarget::Subscription(SubscriptionRef::essentials(7)))
        );
        assert_eq!(
            t("databaseCreateRequest", Some(51), Some(7)),
            Some(ReadyTarget::Database(DatabaseRef::pro(7, 51)))
        );
        assert_eq!(
            t("fixedDatabaseUpdateRequest", Some(51), Some(7)),
            Some(ReadyTarget::Database(DatabaseRef::essentials(7, 51)))
        );
        for (command, r, a) in [
            ("subscriptionDeleteRequest", Some(7), None),
            ("fixedDatabaseDeleteRequest", Some(51), Some(7)),
            ("databaseImportStatusRequest", Some(51), Some(7)),
            ("aclUserCreateRequest", Some(3), None),
            ("subscriptionCreateRequest", None, None),
            ("databaseCreateRequest", Some(51), None),
        ] {
            assert_eq!(t(command, r, a), None, "{command}");
        }
        assert_eq!(
            ReadyTarget::of(&TaskCompleted {
                command_type: None,
                ..completed("x", Some(1), None)
            }),
            None
        );
    }

    #[test]
    fn ids_from_the_resource_link_when_the_response_lacks_them() {
        let mut task = completed("databaseCreateRequest", None, None);
        task.resource_link =
            Some("https://api.redislabs.com/v1/subscriptions/111728/databases/51055029".into());
        assert_eq!(
            ReadyTarget::of(&task),
            Some(ReadyTarget::Database(DatabaseRef::pro(111_728, 51_055_029)))
        );
        let mut task = completed("subscriptionCreateRequest", None, None);
        task.resource_link = Some("https://api.redislabs.com/v1/subscriptions/77899".into());
        assert_eq!(
            ReadyTarget::of(&task),
            Some(ReadyTarget::Subscription(SubscriptionRef::pro(77_899)))
        );
        assert_eq!(link_ids("https://h/v1/tasks/abc"), (None, None));
    }
}
