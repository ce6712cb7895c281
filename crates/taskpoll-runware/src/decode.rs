//! Reading Runware's answers, apart from the HTTP exchange (pure: no I/O).
//!
//! [`RunwareClient`](crate::RunwareClient) and [`RunwareSource`](crate::RunwareSource)
//! read every response through these functions; they are public so that a body
//! captured elsewhere can be read the same way.
//!
//! ```
//! use taskpoll_runware::decode::{read_body, read_poll};
//! use taskpoll_runware::{RunwareError, RunwareTaskId};
//!
//! let body = br#"{"errors":[{"code":"taskFailedOrNotFound","message":"gone","taskType":"getResponse",
//!     "taskUUID":"00000000-0000-4000-8000-000000000000"}]}"#;
//! let answer = read_body(200, None, body).unwrap();
//! let id = RunwareTaskId::video("00000000-0000-4000-8000-000000000000", 2);
//! let err = read_poll(&answer, &id, true).unwrap().unwrap_err();
//! assert!(matches!(err, RunwareError::TaskNotFound { .. }));
//! ```

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use crate::error::{ApiError, RunwareError};
use crate::models::{DataItem, Envelope, ErrorItem, ItemState};
use crate::source::RunwareResult;
use crate::task::{RunwareStatus, RunwareTaskId};

/// A response read as Runware's envelope: a 2xx, or a 4xx other than 401, 403, 408
/// and 429 that carries error items (task failures may come under 4xx).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub envelope: Envelope,
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Reads a body as Runware's envelope, or says why it is not one.
pub fn parse_envelope(bytes: &[u8]) -> Result<Envelope, String> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the body is not JSON ({e})"))?;
    if !Envelope::is_envelope(&value) {
        return Err("the body is JSON but has neither data nor errors".into());
    }
    serde_json::from_value(value).map_err(|e| format!("the body is not Runware's envelope ({e})"))
}

/// Reads one response: an [`Answer`], or the error it amounts to.
///
/// - 2xx with an envelope: an answer; 2xx with anything else:
///   [`RunwareError::Decode`] (transient).
/// - 4xx (but 401, 403, 408, 429) with error items: an answer (the errors may be the
///   task's failure).
/// - Anything else (401, 403, 408, 429, 5xx, a 4xx without error items):
///   [`RunwareError::Api`] with the first error item's code and message, or an
///   excerpt of the body, and `retry_after`.
pub fn read_body(
    status: u16,
    retry_after: Option<Duration>,
    bytes: &[u8],
) -> Result<Answer, RunwareError> {
    let parsed = parse_envelope(bytes);
    match parsed {
        Ok(envelope) if is_success(status) => Ok(Answer { status, envelope }),
        Err(reason) if is_success(status) => Err(RunwareError::Decode {
            status,
            reason,
            excerpt: taskpoll_http::excerpt(bytes),
        }),
        Ok(envelope)
            if (400..500).contains(&status)
                && !matches!(status, 401 | 403 | 408 | 429)
                && !envelope.all_errors().is_empty() =>
        {
            Ok(Answer { status, envelope })
        }
        parsed => {
            let errors = parsed.map(|e| e.all_errors()).unwrap_or_default();
            let mut e = ApiError::from_item(status, errors.first(), taskpoll_http::excerpt(bytes));
            e.retry_after = retry_after;
            Err(RunwareError::api(e))
        }
    }
}

/// Whether a submission's answer accepts task `uuid` of `task_type`: a success with
/// no error for it, or `conflictTaskUUID` for it (a task with this UUID exists: an
/// earlier attempt went through), unless the conflict names another task type.
pub fn read_submission(answer: &Answer, uuid: &str, task_type: &str) -> Result<(), RunwareError> {
    let errors: Vec<ErrorItem> = answer
        .envelope
        .all_errors()
        .into_iter()
        .filter(|e| e.belongs_to(uuid))
        .collect();
    let conflict_of_ours = |e: &ErrorItem| {
        e.code.as_deref() == Some("conflictTaskUUID")
            && e.extra
                .get("context")
                .and_then(|c| c.get("taskType"))
                .and_then(Value::as_str)
                .is_none_or(|t| t == task_type)
    };
    if !errors.is_empty() && errors.iter().all(conflict_of_ours) {
        return Ok(());
    }
    if errors.is_empty() && is_success(answer.status) {
        return Ok(());
    }
    let first = errors
        .iter()
        .find(|e| !conflict_of_ours(e))
        .or(errors.first())
        .cloned()
        .or_else(|| answer.envelope.all_errors().into_iter().next());
    let e = ApiError::from_item(
        answer.status,
        first.as_ref(),
        format!("the submission of task {uuid} was not accepted"),
    );
    Err(RunwareError::api(e))
}

/// The part of a `getResponse` answer about task `id`, or the error it amounts to;
/// `None` when the answer does not mention the task (poll it again). `single` says
/// the request named only this task (items and errors without a `taskUUID` are then
/// its own).
///
/// - Items and errors for the task: a [`RunwareStatus`] holding only them.
/// - No items, and only not-found errors (`taskFailedOrNotFound`, `*NotFound`,
///   `*Expired`): [`RunwareError::TaskNotFound`].
/// - No items, and only errors about the poll itself (`taskType: "getResponse"`
///   with an `invalid*`/`missing*` code or a `parameter`): [`RunwareError::Api`].
/// - Nothing about the task, but a request-level error (no `taskUUID`) or an error
///   status: [`RunwareError::Api`].
pub fn read_poll(
    answer: &Answer,
    id: &RunwareTaskId,
    single: bool,
) -> Option<Result<RunwareStatus, RunwareError>> {
    let mine = |uuid: Option<&str>| match uuid {
        Some(u) => u.eq_ignore_ascii_case(&id.uuid),
        None => single,
    };
    let data: Vec<_> = answer
        .envelope
        .data
        .iter()
        .filter(|i| mine(i.task_uuid.as_deref()))
        .cloned()
        .collect();
    let all_errors = answer.envelope.all_errors();
    let errors: Vec<ErrorItem> = all_errors
        .iter()
        .filter(|e| mine(e.task_uuid.as_deref()))
        .cloned()
        .collect();
    if data.is_empty() && errors.is_empty() {
        // Errors naming no task in a batch apply to the whole request.
        let request_error = all_errors.iter().find(|e| e.task_uuid.is_none());
        if request_error.is_some() || !is_success(answer.status) {
            let e = ApiError::from_item(
                answer.status,
                request_error,
                "no answer for the task".into(),
            );
            return Some(Err(RunwareError::api(e)));
        }
        return None;
    }
    if data.is_empty() && errors.iter().all(ErrorItem::is_not_found) {
        let first = errors.first();
        return Some(Err(RunwareError::TaskNotFound {
            task_uuid: id.uuid.clone(),
            code: first.map(ErrorItem::code).unwrap_or_default(),
            message: first.map(|e| e.message().to_owned()).unwrap_or_default(),
            status: answer.status,
            seen: false,
        }));
    }
    let about_the_poll =
        |e: &ErrorItem| e.task_type.as_deref() == Some("getResponse") && e.is_request_error();
    if data.is_empty() && errors.iter().all(about_the_poll) {
        let e = ApiError::from_item(answer.status, errors.first(), String::new());
        return Some(Err(RunwareError::api(e)));
    }
    let envelope = Envelope {
        data,
        errors,
        ..Envelope::default()
    };
    Some(Ok(
        RunwareStatus::new(id.clone(), envelope).with_http_status(answer.status)
    ))
}

/// What one answer says about one task.
pub(crate) struct Reading {
    /// Finished results, deduplicated, in the answer's order.
    pub(crate) results: Vec<RunwareResult>,
    /// Its errors.
    pub(crate) errors: Vec<ErrorItem>,
    /// Status words of unfinished items, with whether each is a known one.
    pub(crate) in_progress: Vec<(String, bool)>,
    /// Progress figures of unfinished items.
    pub(crate) progress: Vec<f64>,
}

impl Reading {
    /// Whether the reading ends the wait.
    pub(crate) fn is_terminal(&self, id: &RunwareTaskId) -> bool {
        !self.errors.is_empty() || self.results.len() >= id.expected()
    }
}

fn belongs(item: &DataItem, uuid: &str) -> bool {
    item.task_uuid
        .as_deref()
        .is_none_or(|u| u.eq_ignore_ascii_case(uuid))
}

/// Reads the task's items and errors from `envelope`.
pub(crate) fn read(envelope: &Envelope, id: &RunwareTaskId) -> Reading {
    let mut reading = Reading {
        results: Vec::new(),
        errors: envelope
            .all_errors()
            .into_iter()
            .filter(|e| e.belongs_to(&id.uuid))
            .collect(),
        in_progress: Vec::new(),
        progress: Vec::new(),
    };
    let mut keys = HashSet::new();
    for (position, item) in envelope
        .data
        .iter()
        .filter(|i| belongs(i, &id.uuid))
        .enumerate()
    {
        match item.state() {
            ItemState::Failed => reading.errors.push(item.failure()),
            ItemState::Finished => {
                let key = item.result_key(position);
                if keys.insert(key.clone()) {
                    reading.results.push(RunwareResult::new(key, item.clone()));
                }
            }
            ItemState::InProgress { status, recognized } => {
                reading.in_progress.push((status.to_owned(), recognized));
                if let Some(p) = item.progress {
                    reading.progress.push(p);
                }
            }
        }
    }
    reading
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const A: &str = "6f1c2a3e-0b7d-4e0a-9a51-2f3c4d5e6f70";
    const B: &str = "3c7d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f";

    fn answer(status: u16, body: Value) -> Result<Answer, RunwareError> {
        read_body(
            status,
            Some(Duration::from_secs(2)),
            &serde_json::to_vec(&body).unwrap(),
        )
    }

    #[test]
    fn bodies_by_status() {
        assert!(answer(200, json!({"data": []})).is_ok());
        let e = read_body(200, None, b"<html>").unwrap_err();
        assert!(matches!(e, RunwareError::Decode { status: 200, .. }));
        assert!(e.is_transient());
        assert!(matches!(
            answer(200, json!([1])),
            Err(RunwareError::Decode { .. })
        ));
        assert!(matches!(
            answer(200, json!({"ok": true})),
            Err(RunwareError::Decode { .. })
        ));
        let e = answer(429, json!({"errors": [{"code": "rateLimitExceeded"}]})).unwrap_err();
        assert_eq!(
            e.class(),
            taskpoll::ErrorClass::RateLimited {
                retry_after: Some(Duration::from_secs(2))
            }
        );
        for (status, transient) in [
            (408, true),
            (500, true),
            (502, true),
            (503, true),
            (504, true),
            (401, false),
            (402, false),
            (403, false),
            (404, false),
        ] {
            let e = read_body(status, None, b"nope").unwrap_err();
            assert_eq!(e.is_transient(), transient, "{status}");
            assert_eq!(e.status(), Some(status));
        }
        assert!(answer(400, json!({"errors": [{"code": "invalidWidth"}]})).is_ok());
        let e = answer(404, json!({"data": []})).unwrap_err();
        assert!(!e.is_transient());
    }

    #[test]
    fn batch_answers_split_by_task() {
        let a = RunwareTaskId::video(A, 1);
        let b = RunwareTaskId::video(B, 1);
        let only_a = answer(
            200,
            json!({"data": [{"taskUUID": A, "status": "processing"}]}),
        )
        .unwrap();
        assert!(read_poll(&only_a, &a, false).unwrap().is_ok());
        assert!(
            read_poll(&only_a, &b, false).is_none(),
            "not answered: polled again"
        );
        // Items without a taskUUID are the task's only when it was asked alone.
        let anonymous = answer(200, json!({"data": [{"status": "processing"}]})).unwrap();
        assert!(read_poll(&anonymous, &a, true).unwrap().is_ok());
        assert!(read_poll(&anonymous, &a, false).is_none());
        // A request-level error applies to every task of the batch.
        let refused = answer(
            200,
            json!({"errors": [{"code": "serverBusy", "message": "busy"}]}),
        )
        .unwrap();
        let e = read_poll(&refused, &b, false).unwrap().unwrap_err();
        assert_eq!(e.code(), Some("serverBusy"));
    }

    #[test]
    fn errors_about_the_poll_are_not_task_failures() {
        let a = RunwareTaskId::video(A, 1);
        let bad = answer(400, json!({"errors": [{"code": "invalidTaskUUID", "parameter": "taskUUID", "taskType": "getResponse", "taskUUID": A}]})).unwrap();
        let e = read_poll(&bad, &a, true).unwrap().unwrap_err();
        assert_eq!(
            (e.code(), e.is_transient()),
            (Some("invalidTaskUUID"), false)
        );
        // A cancelled task is a failure of the task.
        let cancelled = answer(200, json!({"errors": [{"code": "taskCancelled", "taskType": "getResponse", "taskUUID": A}]})).unwrap();
        assert!(read_poll(&cancelled, &a, true).unwrap().is_ok());
        // A not-found code next to data is a failure of a known task, not an unknown one.
        let mixed = answer(
            200,
            json!({"data": [{"taskUUID": A, "status": "processing"}],
            "errors": [{"code": "taskFailedOrNotFound", "taskUUID": A}]}),
        )
        .unwrap();
        assert!(read_poll(&mixed, &a, true).unwrap().is_ok());
    }

    #[test]
    fn submissions() {
        let ack = answer(
            200,
            json!({"data": [{"taskType": "videoInference", "taskUUID": A}]}),
        )
        .unwrap();
        assert!(read_submission(&ack, A, "videoInference").is_ok());
        let conflict = json!({"errors": [{"code": "conflictTaskUUID", "taskUUID": A}]});
        assert!(
            read_submission(&answer(409, conflict.clone()).unwrap(), A, "videoInference").is_ok()
        );
        assert!(
            read_submission(&answer(200, conflict).unwrap(), A, "imageInference").is_ok(),
            "no context: accepted"
        );
        let refused = answer(
            200,
            json!({"data": [], "errors": [{"code": "timeoutProvider", "taskUUID": A}]}),
        )
        .unwrap();
        let e = read_submission(&refused, A, "videoInference").unwrap_err();
        assert!(e.is_transient(), "a temporary code under 200 is retried");
        let other = answer(
            400,
            json!({"errors": [{"code": "invalidModel", "taskUUID": B}]}),
        )
        .unwrap();
        assert_eq!(
            read_submission(&other, A, "videoInference")
                .unwrap_err()
                .code(),
            Some("invalidModel")
        );
    }
}
