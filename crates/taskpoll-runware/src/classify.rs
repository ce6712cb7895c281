//! Reading one task's part of a `getResponse` answer (pure: no I/O, no clock).
//!
//! - Items and errors for other `taskUUID`s are ignored (an item without one counts
//!   as the task's).
//! - Finished items are told apart by [`DataItem::result_key`] and counted once.
//! - Any error for the task (top-level, singular, legacy, or an item with
//!   `status: "error"`) fails it, keeping the results that had finished.
//! - All expected results finished: succeeded. Otherwise running (or pending while
//!   nothing has started), with the finished results as partials.

use std::collections::HashSet;

use taskpoll::{Phase, Progress};

use crate::models::{DataItem, Envelope, ErrorItem, ItemState};
use crate::task::{RunwareFailure, RunwareOutput, RunwareResult, RunwareStatus, RunwareTaskId};

/// The phase of a task: what [`RunwareSource`](crate::RunwareSource) classifies into.
pub type RunwarePhase = Phase<RunwareOutput, RunwareResult, RunwareFailure>;

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

/// Puts results first seen in earlier polls first, in the order they were seen.
fn in_seen_order(mut results: Vec<RunwareResult>, order: &[String]) -> Vec<RunwareResult> {
    if order.is_empty() {
        return results;
    }
    let rank = |r: &RunwareResult| {
        order
            .iter()
            .position(|k| k == r.key())
            .unwrap_or(usize::MAX)
    };
    // A stable sort keeps the answer's order among results not seen before.
    results.sort_by_key(rank);
    results
}

const PENDING_WORDS: [&str; 4] = ["pending", "queued", "scheduled", "waiting"];

/// Classifies a fetched status.
pub(crate) fn classify(status: RunwareStatus) -> RunwarePhase {
    let id = &status.id;
    let reading = read(&status.envelope, id);
    let results = in_seen_order(reading.results, &status.order);
    if let Some(first) = reading.errors.first() {
        return Phase::Failed(RunwareFailure {
            task_uuid: id.uuid.clone(),
            code: first.code(),
            message: first.message().to_owned(),
            parameter: first.parameter.clone(),
            documentation: first.documentation.clone(),
            results,
            expected_results: id.expected_results,
            errors: reading.errors,
        });
    }
    let expected = id.expected();
    if results.len() >= expected {
        return Phase::Succeeded(RunwareOutput {
            task_uuid: id.uuid.clone(),
            results,
        });
    }
    // The first word that is not plain `processing` says the most (an unknown word,
    // or a queueing word); otherwise `processing`.
    let (word, recognized) = reading
        .in_progress
        .iter()
        .find(|(w, known)| !known || !w.eq_ignore_ascii_case("processing"))
        .or(reading.in_progress.first())
        .cloned()
        .unwrap_or_else(|| ("processing".to_owned(), true));
    let nothing_started = results.is_empty()
        && (reading.in_progress.is_empty()
            || reading
                .in_progress
                .iter()
                .all(|(w, _)| PENDING_WORDS.iter().any(|p| p.eq_ignore_ascii_case(w))));
    let word = if reading.in_progress.is_empty() && results.is_empty() {
        "pending".to_owned()
    } else {
        word
    };
    let finished = results.len();
    let mut progress = Progress::new(word).with_partials(results);
    if !reading.progress.is_empty() {
        let total = expected.max(finished + reading.in_progress.len()) as f64;
        let sum: f64 = reading.progress.iter().sum::<f64>() + 100.0 * finished as f64;
        progress = progress.with_percent(sum / total);
    }
    if !recognized {
        progress = progress.unrecognized();
    }
    if nothing_started {
        Phase::Pending(progress)
    } else {
        Phase::Running(progress)
    }
}

/// The results a terminal phase carries (reported as the last partials).
pub(crate) fn terminal_results(phase: &RunwarePhase) -> Vec<RunwareResult> {
    match phase {
        Phase::Succeeded(output) => output.results.clone(),
        Phase::Failed(failure) => failure.results.clone(),
        Phase::Pending(_) | Phase::Running(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use taskpoll::PhaseKind;

    const T: &str = "6f1c2a3e-0b7d-4e0a-9a51-2f3c4d5e6f70";

    fn phase(n: u32, body: Value) -> RunwarePhase {
        let envelope = serde_json::from_value(body).unwrap();
        classify(RunwareStatus::new(RunwareTaskId::video(T, n), envelope))
    }

    fn ok(uuid: &str) -> Value {
        json!({"taskUUID": T, "status": "success", "videoUUID": uuid, "videoURL": format!("https://v/{uuid}.mp4")})
    }

    #[test]
    fn repeated_results_count_once() {
        let p = phase(
            2,
            json!({"data": [ok("a"), ok("a"), {"taskUUID": T, "status": "processing"}]}),
        );
        let Phase::Running(progress) = p else {
            panic!("{:?}", p.kind())
        };
        assert_eq!(progress.partials.len(), 1);
        assert!(matches!(
            phase(2, json!({"data": [ok("a"), ok("b")]})),
            Phase::Succeeded(_)
        ));
    }

    #[test]
    fn other_tasks_are_ignored() {
        let other = json!({"taskUUID": "00000000-0000-4000-8000-000000000000", "status": "success", "videoUUID": "z"});
        let err =
            json!({"taskUUID": "00000000-0000-4000-8000-000000000000", "code": "timeoutProvider"});
        let p = phase(2, json!({"data": [ok("a"), other], "errors": [err]}));
        let Phase::Running(progress) = p else {
            panic!("{:?}", p.kind())
        };
        assert_eq!(progress.partials.len(), 1);
    }

    #[test]
    fn an_error_fails_the_task_whatever_else_finished() {
        let p = phase(
            2,
            json!({"data": [ok("a"), ok("b")], "errors": [{"taskUUID": T, "code": "nsfwContentDetected"}]}),
        );
        let Phase::Failed(f) = p else {
            panic!("{:?}", p.kind())
        };
        assert_eq!(
            (f.code.as_str(), f.results.len()),
            ("nsfwContentDetected", 2)
        );
        // A request-level error (no taskUUID) counts for the task too.
        let p = phase(
            1,
            json!({"errors": [{"code": "insufficientCredits", "message": "Top up."}]}),
        );
        assert_eq!(p.kind(), PhaseKind::Failed);
        // `errors: []` is no error.
        assert_eq!(
            phase(1, json!({"data": [ok("a")], "errors": []})).kind(),
            PhaseKind::Succeeded
        );
    }

    #[test]
    fn words_and_progress() {
        let p = phase(2, json!({"data": []}));
        let Phase::Pending(progress) = p else {
            panic!("{:?}", p.kind())
        };
        assert_eq!(progress.status, "pending");
        let p = phase(
            2,
            json!({"data": [{"taskUUID": T, "status": "queued"}, {"taskUUID": T, "status": "queued"}]}),
        );
        assert_eq!(p.kind(), PhaseKind::Pending);
        let p = phase(
            2,
            json!({"data": [ok("a"), {"taskUUID": T, "status": "rendering", "progress": 50}]}),
        );
        let Phase::Running(progress) = p else {
            panic!("{:?}", p.kind())
        };
        assert_eq!(progress.status, "rendering");
        assert!(!progress.recognized);
        assert_eq!(progress.percent, Some(75.0));
    }

    #[test]
    fn earlier_results_keep_their_place() {
        let body = json!({"data": [ok("a"), ok("b"), {"taskUUID": T, "status": "processing"}]});
        let envelope: Envelope = serde_json::from_value(body).unwrap();
        let mut status = RunwareStatus::new(RunwareTaskId::video(T, 3), envelope);
        status.order = vec!["videoUUID:b".into()];
        let Phase::Running(progress) = classify(status) else {
            panic!()
        };
        let keys: Vec<&str> = progress.partials.iter().map(RunwareResult::key).collect();
        assert_eq!(keys, ["videoUUID:b", "videoUUID:a"]);
    }
}
