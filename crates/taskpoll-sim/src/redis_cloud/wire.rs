//! Redis Cloud's JSON bodies: `TaskStateUpdate`, the task list, Spring Boot error
//! bodies, the gateway's nginx page, subscriptions, default results and failures.

use std::time::SystemTime;

use crate::clock::Timestamp;

use serde_json::{Map, Value, json};

/// `description` of a `received` task.
pub(crate) const RECEIVED: &str = "Task request received and is being queued for processing.";
/// `description` of a `processing-completed` task.
pub(crate) const COMPLETED: &str = "Request processing completed successfully and its resources are now being provisioned / de-provisioned.";
/// `description` of a `processing-error` task.
pub(crate) const FAILED: &str =
    "Task request failed during processing. See error information for failure details.";

/// The `description` Redis Cloud sends with a status word, if it sends one.
pub(crate) fn description(status: &str) -> Option<&'static str> {
    match status {
        "received" => Some(RECEIVED),
        "processing-completed" => Some(COMPLETED),
        "processing-error" => Some(FAILED),
        _ => None,
    }
}

/// A link object of the `links` array (`type` is the HTTP method).
pub(crate) fn link(rel: &str, href: &str, title: Option<&str>) -> Value {
    let mut l = json!({"rel": rel, "type": "GET", "href": href});
    if let (Some(t), Some(obj)) = (title, l.as_object_mut()) {
        obj.insert("title".into(), Value::String(t.to_owned()));
    }
    l
}

/// What a task body needs to know about its task.
pub(crate) struct TaskView<'a> {
    pub(crate) base: &'a str,
    pub(crate) id: &'a str,
    pub(crate) command_type: &'a str,
    pub(crate) status: &'a str,
    pub(crate) timestamp: String,
    /// The `response` object once terminal (with `error` on failure).
    pub(crate) response: Option<Value>,
    /// Path below the base of the resource a completed task made (`subscriptions/7`).
    pub(crate) resource: Option<(&'a str, Option<&'a str>)>,
    /// The start reply (`links[rel=task]` with its title, no `response`).
    pub(crate) start_reply: bool,
}

/// A `TaskStateUpdate` body, keyed as the wire captures show for each status.
pub(crate) fn task_body(v: &TaskView<'_>) -> Value {
    let task_href = format!("{}/tasks/{}", v.base, v.id);
    let mut body = Map::new();
    body.insert("taskId".into(), json!(v.id));
    body.insert("commandType".into(), json!(v.command_type));
    body.insert("status".into(), json!(v.status));
    if let Some(d) = description(v.status) {
        body.insert("description".into(), json!(d));
    }
    body.insert("timestamp".into(), json!(v.timestamp));
    match v.status {
        "received" => {
            // The start reply and later `received` polls: no `response` key.
            let title = v.start_reply.then_some("getTaskStatusUpdates");
            body.insert("links".into(), json!([link("task", &task_href, title)]));
        }
        "processing-completed" | "processing-error" => {
            body.insert(
                "response".into(),
                v.response.clone().unwrap_or_else(|| json!({})),
            );
            let mut links = Vec::new();
            if v.status == "processing-completed"
                && let Some((path, title)) = v.resource
            {
                links.push(link("resource", &format!("{}/{path}", v.base), title));
            }
            links.push(link("self", &task_href, None));
            body.insert("links".into(), Value::Array(links));
        }
        // `initialized`, `processing-in-progress` and any scripted word: `response: {}`.
        _ => {
            body.insert("response".into(), json!({}));
        }
    }
    Value::Object(body)
}

/// The `response` of a failed task: `error` (object or string) and, when the scripted
/// error object carries `additionalInfo`, that key beside it. With `string_errors` an
/// object error is sent as its `type` string.
pub(crate) fn failure_response(error: &Value, string_errors: bool) -> Value {
    let mut error = error.clone();
    let mut response = Map::new();
    if let Some(obj) = error.as_object_mut()
        && let Some(info) = obj.remove("additionalInfo")
    {
        response.insert("additionalInfo".into(), info);
    }
    if string_errors && let Some(kind) = error.get("type").and_then(Value::as_str) {
        error = Value::String(kind.to_owned());
    }
    response.insert("error".into(), error);
    Value::Object(response)
}

/// A Spring Boot default error body (`message` left out when `None`).
pub(crate) fn spring_error(
    at: SystemTime,
    status: u16,
    message: Option<&str>,
    path: &str,
) -> Value {
    let reason = axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let mut body = json!({
        "timestamp": spring_timestamp(at),
        "status": status,
        "error": reason,
    });
    if let Some(obj) = body.as_object_mut() {
        if let Some(m) = message {
            obj.insert("message".into(), json!(m));
        }
        obj.insert("path".into(), json!(path));
    }
    body
}

/// The page the API gateway sends for a request without valid keys.
pub(crate) fn nginx_401() -> String {
    "<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n<center><h1>401 Authorization Required</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n".to_owned()
}

/// A subscription as `GET /v1/subscriptions/{id}` shows it (a subset of the real body).
pub(crate) fn subscription_body(
    base: &str,
    id: i64,
    name: &str,
    status: &str,
    databases: usize,
) -> Value {
    json!({
        "id": id,
        "name": name,
        "status": status,
        "deploymentType": "single-region",
        "paymentMethodType": "credit-card",
        "memoryStorage": "ram",
        "numberOfDatabases": databases,
        "links": [link("self", &format!("{base}/subscriptions/{id}"), Some("getSubscriptionInformation"))],
    })
}

/// An Essentials subscription as `GET /v1/fixed/subscriptions/{id}` shows it (a
/// subset of the Go client's `FixedSubscriptionResponse`).
pub(crate) fn fixed_subscription_body(base: &str, id: i64, name: &str, status: &str) -> Value {
    json!({
        "id": id,
        "name": name,
        "status": status,
        "planId": 98_183,
        "paymentMethod": "credit-card",
        "links": [link("self", &format!("{base}/fixed/subscriptions/{id}"), None)],
    })
}

/// A database as `GET .../subscriptions/{id}/databases/{databaseId}` shows it (a subset
/// of the real body; the endpoints' hosts are illustrative).
pub(crate) fn database_body(base: &str, path: &str, id: i64, name: &str, status: &str) -> Value {
    let port = 10_000 + id.rem_euclid(50_000);
    json!({
        "databaseId": id,
        "name": name,
        "protocol": "redis",
        "provider": "AWS",
        "region": "us-east-1",
        "status": status,
        "memoryStorage": "ram",
        "publicEndpoint": format!("redis-{port}.c1.us-east-1-2.ec2.redns.redis-cloud.com:{port}"),
        "privateEndpoint": format!("redis-{port}.internal.c1.us-east-1-2.ec2.redns.redis-cloud.com:{port}"),
        "links": [link("self", &format!("{base}/{path}"), None)],
    })
}

/// The opaque server-side failure (`GENERAL_ERROR`).
pub(crate) fn general_error() -> Value {
    json!({
        "type": "GENERAL_ERROR",
        "status": "500 INTERNAL_SERVER_ERROR",
        "description": "General error occurred. Please contact Redis Labs support with your task ID",
    })
}

/// The error a failing subscription create ends with (TF#83: `GENERAL_ERROR` with
/// `additionalInfo`).
pub(crate) fn subscription_create_failure() -> Value {
    let mut e = general_error();
    if let Some(obj) = e.as_object_mut() {
        obj.insert(
            "additionalInfo".into(),
            json!("rcp-cannot-provision-without-plan"),
        );
    }
    e
}

/// The error of a task on a subscription that is not active.
pub(crate) fn subscription_not_active() -> Value {
    json!({
        "type": "SUBSCRIPTION_NOT_ACTIVE",
        "status": "403 FORBIDDEN",
        "description": "Cannot preform any actions for subscription that is not in an active state",
    })
}

/// RFC 3339 UTC with `digits` fractional digits (0 to 9), trailing zeros dropped, as
/// Redis Cloud's task timestamps vary (`.87Z`, `.96463Z`, `.929904847Z`).
pub(crate) fn task_timestamp(at: SystemTime, digits: u32) -> String {
    Timestamp::from_system_time(at).format(digits, true, "Z")
}

/// Spring's timestamp: milliseconds and a `+00:00` offset.
pub(crate) fn spring_timestamp(at: SystemTime) -> String {
    Timestamp::from_system_time(at).format(3, false, "+00:00")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, nanos: u32) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::new(secs, nanos)
    }

    #[test]
    fn timestamps_vary_in_fractional_digits() {
        let t = at(1_767_261_942, 870_000_000);
        assert_eq!(task_timestamp(t, 9), "2026-01-01T10:05:42.87Z");
        let t = at(1_767_261_942, 929_904_847);
        assert_eq!(task_timestamp(t, 9), "2026-01-01T10:05:42.929904847Z");
        assert_eq!(task_timestamp(t, 6), "2026-01-01T10:05:42.929904Z");
        assert_eq!(task_timestamp(t, 3), "2026-01-01T10:05:42.929Z");
        assert_eq!(task_timestamp(at(0, 0), 3), "1970-01-01T00:00:00Z");
        assert_eq!(spring_timestamp(t), "2026-01-01T10:05:42.929+00:00");
    }

    #[test]
    fn string_errors_keep_additional_info_beside() {
        let r = failure_response(&subscription_create_failure(), true);
        assert_eq!(
            r,
            json!({"error": "GENERAL_ERROR", "additionalInfo": "rcp-cannot-provision-without-plan"})
        );
        let r = failure_response(&json!("SUBSCRIPTION_NOT_FOUND"), false);
        assert_eq!(r, json!({"error": "SUBSCRIPTION_NOT_FOUND"}));
    }
}
