//! Stream's JSON bodies: task responses, `APIError`, default results and failures.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::Operation;

const ERRORS_DOC: &str = "https://getstream.io/chat/docs/api_errors_response";
const RATE_DOC: &str = "https://getstream.io/chat/docs/rate_limits";

/// An `APIError` body with all six required keys (and `unrecoverable` when set).
pub(crate) fn api_error(
    code: i64,
    status: u16,
    operation: &str,
    detail: &str,
    unrecoverable: Option<bool>,
) -> Value {
    let more_info = if code == 9 { RATE_DOC } else { ERRORS_DOC };
    let mut body = json!({
        "code": code,
        "message": format!("{operation} failed with error: \"{detail}\""),
        "exception_fields": {},
        "StatusCode": status,
        "duration": "0.35ms",
        "more_info": more_info,
        "details": [],
    });
    if let (Some(u), Some(obj)) = (unrecoverable, body.as_object_mut()) {
        obj.insert("unrecoverable".into(), Value::Bool(u));
    }
    body
}

/// A per-item `result` map: `{"status": "ok"}`, or `{"status": "error", "error": ...}`
/// for an item given a reason (Stream's `DeleteChannelsResult`).
pub(crate) fn item_results<'a>(
    items: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Value {
    let map: Map<String, Value> = items
        .into_iter()
        .map(|(item, reason)| {
            let entry = match reason {
                None => json!({"status": "ok"}),
                Some(reason) => json!({"status": "error", "error": reason}),
            };
            (item.to_owned(), entry)
        })
        .collect();
    Value::Object(map)
}

/// The result a task started by `op` completes with; deletes report the items in
/// `item_errors` as failed.
pub(crate) fn default_result(
    op: Operation,
    subjects: &[String],
    item_errors: &BTreeMap<String, String>,
) -> Value {
    let id = uuid::Uuid::new_v4();
    match op {
        Operation::ExportChannels => json!({
            "url": format!("https://stream-exports.example/exports/channels/1234/{id}.json?X-Amz-Expires=86400&X-Amz-Signature=3f9a0c"),
            "path": format!("exports/channels/1234/{id}.json"),
            "s3_bucket_name": "stream-chat-exports",
        }),
        Operation::ExportUsers => json!({
            "url": format!("https://stream-exports.example/exports/users/1234/{id}.json?X-Amz-Expires=86400&X-Amz-Signature=a71c2e"),
        }),
        Operation::DeleteChannels | Operation::DeleteUsers | Operation::DeleteCall => item_results(
            subjects
                .iter()
                .map(|s| (s.as_str(), item_errors.get(s).map(String::as_str))),
        ),
        // Stream documents no result for these: an empty object.
        Operation::DeactivateUsers | Operation::ReactivateUsers | Operation::ImportBlockList => {
            json!({})
        }
    }
}

/// The error a failing task started by `op` ends with.
pub(crate) fn default_failure(op: Operation, subjects: &[String]) -> Value {
    let (kind, what) = match op {
        Operation::ExportChannels | Operation::ExportUsers => ("export_failed", "export"),
        Operation::DeleteChannels => ("delete_failed", "channel delete"),
        Operation::DeleteUsers => ("delete_failed", "user delete"),
        Operation::DeleteCall => ("delete_failed", "call delete"),
        Operation::DeactivateUsers => ("deactivate_failed", "user deactivation"),
        Operation::ReactivateUsers => ("reactivate_failed", "user reactivation"),
        Operation::ImportBlockList => ("import_failed", "blocklist import"),
    };
    let first = subjects.first().map(String::as_str).unwrap_or("unknown");
    json!({
        "type": kind,
        "description": format!("{what} failed: {first} does not exist"),
        "stacktrace": "goroutine 42 [running]:\nmain.runTask(...)\n\t/src/tasks.go:118 +0x1a4",
        "version": "v6.112.0",
    })
}

/// RFC 3339 in UTC with microseconds, as Stream's legacy endpoints write it.
pub(crate) fn rfc3339(unix_nanos: i64) -> String {
    crate::clock::Timestamp::from_unix_nanos(unix_nanos).format(6, false, "Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            rfc3339(1_767_225_604_555_000_000),
            "2026-01-01T00:00:04.555000Z"
        );
        assert_eq!(
            rfc3339(951_782_400_000_001_000),
            "2000-02-29T00:00:00.000001Z"
        );
    }

    #[test]
    fn api_error_has_the_six_required_keys_and_no_others_but_two() {
        let e = api_error(16, 404, "GetTask", "Can't find task with id x", Some(false));
        let mut keys: Vec<&str> = e
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        // The six of Stream's schema, and `exception_fields` and `unrecoverable`.
        assert_eq!(
            keys,
            [
                "StatusCode",
                "code",
                "details",
                "duration",
                "exception_fields",
                "message",
                "more_info",
                "unrecoverable"
            ]
        );
    }
}
