//! How a finished wait is reported: a JSON line, a human line, an exit status.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use taskpoll::{ErrorKind, Outcome, TaskSource, WaitError};

/// The outcomes the command reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Verdict {
    /// The task completed (exit 0).
    Completed,
    /// The task failed (exit 1).
    Failed,
    /// The wait timed out (exit 3).
    TimedOut,
    /// The status could not be fetched (exit 4).
    Error,
    /// The command was interrupted before the wait ended (exit 130).
    Interrupted,
}

impl Verdict {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Verdict::Completed => "completed",
            Verdict::Failed => "failed",
            Verdict::TimedOut => "timed_out",
            Verdict::Error => "error",
            Verdict::Interrupted => "interrupted",
        }
    }

    /// 0, 1, 3, 4 or 130. With several tasks the worst wins, in the order
    /// 130 > 4 > 3 > 1 > 0, which is also this type's order.
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            Verdict::Completed => 0,
            Verdict::Failed => 1,
            Verdict::TimedOut => 3,
            Verdict::Error => 4,
            Verdict::Interrupted => 130,
        }
    }
}

/// One finished (or interrupted) wait, ready to print.
#[derive(Debug, Clone)]
pub(crate) struct TaskReport {
    pub(crate) vendor: &'static str,
    pub(crate) task_id: String,
    pub(crate) verdict: Verdict,
    pub(crate) polls: u32,
    pub(crate) elapsed: Duration,
    /// The vendor's result (completed) or failure fields (failed), or what is known.
    pub(crate) detail: Value,
    /// The error message (every outcome but completed).
    pub(crate) message: Option<String>,
}

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| json!({ "unserializable": e.to_string() }))
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl TaskReport {
    /// The report of a wait that ended; `last_error` is the last fetch error seen, if any
    /// (it says why a wait that never saw a status did not).
    pub(crate) fn of<S>(vendor: &'static str, outcome: Outcome<S>, last_error: Option<&str>) -> Self
    where
        S: TaskSource,
        S::Output: Serialize,
        S::Failure: Serialize,
    {
        let task_id = outcome.id.to_string();
        let (verdict, detail, message) = match &outcome.result {
            Ok(output) => (Verdict::Completed, to_json(output), None),
            Err(e) => {
                let detail = match e {
                    WaitError::Failed { failure, .. } => to_json(failure),
                    WaitError::TimedOut { last_phase, .. }
                    | WaitError::Exhausted { last_phase, .. } => json!({
                        "kind": e.kind().as_str(),
                        "message": e.to_string(),
                        "last_status": last_phase.as_ref().map(|p| p.status.clone()),
                        "last_error": last_error,
                    }),
                    _ => json!({ "kind": e.kind().as_str(), "message": e.to_string() }),
                };
                let verdict = match e.kind() {
                    ErrorKind::Failed => Verdict::Failed,
                    ErrorKind::TimedOut | ErrorKind::Exhausted => Verdict::TimedOut,
                    _ => Verdict::Error,
                };
                let never_fetched = matches!(
                    e,
                    WaitError::TimedOut {
                        last_phase: None,
                        ..
                    } | WaitError::Exhausted {
                        last_phase: None,
                        ..
                    }
                );
                let message = match last_error {
                    Some(err) if never_fetched => format!(
                        "no status was ever fetched in {} ({}): the last error was: {err}",
                        human_duration(e.elapsed()),
                        polls(e.polls())
                    ),
                    _ => e.to_string(),
                };
                (verdict, detail, Some(message))
            }
        };
        TaskReport {
            vendor,
            task_id,
            verdict,
            polls: outcome.polls,
            elapsed: outcome.elapsed,
            detail,
            message,
        }
    }

    /// The report of a wait the command stopped before it ended.
    pub(crate) fn interrupted(
        vendor: &'static str,
        task_id: String,
        polls: u32,
        elapsed: Duration,
        last_status: Option<&str>,
        last_error: Option<&str>,
    ) -> Self {
        // A wait that never saw a status says why: the error it was retrying, such as
        // the 404 of a task the vendor does not show yet.
        let seen = match (last_status, last_error) {
            (Some(s), _) => format!("last seen: {s}"),
            (None, Some(e)) => format!(
                "no status fetched yet (last error: {})",
                e.lines().next().unwrap_or_default()
            ),
            (None, None) => "no status fetched yet".to_owned(),
        };
        TaskReport {
            vendor,
            task_id,
            verdict: Verdict::Interrupted,
            polls,
            elapsed,
            detail: json!({
                "kind": "interrupted",
                "message": format!("interrupted before the task ended; {seen}; the task may still be running"),
                "last_status": last_status,
                "last_error": last_error,
            }),
            message: Some(format!(
                "interrupted; {seen}; the task may still be running"
            )),
        }
    }

    /// The `--json` line: `vendor`, `task_id`, `outcome`, `polls`, `elapsed_ms`, and
    /// `result` or `error`.
    pub(crate) fn json_line(&self) -> String {
        let key = if self.verdict == Verdict::Completed {
            "result"
        } else {
            "error"
        };
        let mut line = json!({
            "vendor": self.vendor,
            "task_id": self.task_id,
            "outcome": self.verdict.as_str(),
            "polls": self.polls,
            "elapsed_ms": ms(self.elapsed),
        });
        if let Some(obj) = line.as_object_mut() {
            obj.insert(key.to_owned(), self.detail.clone());
        }
        line.to_string()
    }

    /// The human line: outcome, vendor, id, polls, time, then a short summary of the
    /// result or the error.
    pub(crate) fn human_line(&self) -> String {
        format!(
            "{:<11} {:<11} {}  {}  {}  {}",
            self.verdict.as_str(),
            self.vendor,
            self.task_id,
            polls(self.polls),
            human_duration(self.elapsed),
            self.summary()
        )
    }

    /// A short summary of the result or the failure: a URL, "2 of 2 deleted", a
    /// resource id, a vendor's error code and description.
    pub(crate) fn summary(&self) -> String {
        let d = &self.detail;
        let text = |v: &Value| v.as_str().map(str::to_owned);
        match self.verdict {
            Verdict::Completed => {
                if let Some(url) = d.pointer("/result/url").and_then(text) {
                    return url;
                }
                if let Some(obj) = d.get("result").and_then(Value::as_object)
                    && !obj.is_empty()
                    && obj.values().all(|v| v.get("status").is_some())
                {
                    let ok = obj
                        .values()
                        .filter(|v| v.get("status").and_then(Value::as_str) == Some("ok"))
                        .count();
                    return format!("{ok} of {} deleted", obj.len());
                }
                if let Some(results) = d.get("results").and_then(Value::as_array) {
                    let first = results
                        .first()
                        .and_then(|r| {
                            ["videoURL", "imageURL", "audioURL", "url"]
                                .iter()
                                .find_map(|k| r.get(*k).and_then(text))
                        })
                        .unwrap_or_default();
                    let n = results.len();
                    return format!("{}, first {first}", plural(n, "result"));
                }
                if let Some(id) = d.get("resourceId").and_then(Value::as_i64) {
                    let what = d
                        .get("commandType")
                        .and_then(text)
                        .unwrap_or_else(|| "resource".into());
                    return format!("{what} {id}");
                }
                if d.is_null() || d.as_object().is_some_and(|o| o.is_empty()) {
                    return "done".to_owned();
                }
                clip(&d.to_string(), 120)
            }
            Verdict::Failed => {
                let kind = ["error_type", "type", "code", "kind"]
                    .iter()
                    .find_map(|k| d.get(*k).and_then(text));
                let what = ["description", "message"]
                    .iter()
                    .find_map(|k| d.get(*k).and_then(text));
                match (kind, what) {
                    (Some(k), Some(w)) => format!("{k}: {w}"),
                    (Some(k), None) => k,
                    (None, Some(w)) => w,
                    (None, None) => self.message.clone().unwrap_or_default(),
                }
            }
            _ => self.message.clone().unwrap_or_default(),
        }
    }
}

/// "1 poll", "2 polls".
pub(crate) fn polls(n: u32) -> String {
    plural(n as usize, "poll")
}

/// "1 result", "4 results".
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// At most `max` characters, with `…` where it was cut.
pub(crate) fn clip(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        let head: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{head}…")
    } else {
        text.to_owned()
    }
}

/// `850ms`, `4.2s`, `2m05s`, `1h02m`.
pub(crate) fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", d.as_secs_f64())
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, (ms % 3_600_000) / 60_000)
    }
}

/// The exit status of several verdicts: the worst one's.
pub(crate) fn exit_code(verdicts: impl IntoIterator<Item = Verdict>) -> u8 {
    verdicts.into_iter().max().map_or(0, Verdict::exit_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_verdict_wins() {
        use Verdict::*;
        assert_eq!(exit_code([]), 0);
        assert_eq!(exit_code([Completed, Failed]), 1);
        assert_eq!(exit_code([Failed, TimedOut]), 3);
        assert_eq!(exit_code([Error, TimedOut, Failed]), 4);
        assert_eq!(exit_code([Error, Interrupted]), 130);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_millis(850)), "850ms");
        assert_eq!(human_duration(Duration::from_millis(4200)), "4.2s");
        assert_eq!(human_duration(Duration::from_secs(125)), "2m05s");
        assert_eq!(human_duration(Duration::from_secs(3720)), "1h02m");
    }

    #[test]
    fn an_interrupted_wait_without_a_status_names_its_last_error() {
        let report = |status, error| {
            TaskReport::interrupted("stream", "t".into(), 2, Duration::ZERO, status, error)
                .message
                .unwrap_or_default()
        };
        assert_eq!(
            report(None, Some("task t is unknown (HTTP 404)\nmore")),
            "interrupted; no status fetched yet (last error: task t is unknown (HTTP 404)); the task may still be running"
        );
        assert_eq!(
            report(Some("running"), Some("HTTP 503")),
            "interrupted; last seen: running; the task may still be running"
        );
        assert_eq!(
            report(None, None),
            "interrupted; no status fetched yet; the task may still be running"
        );
    }

    #[test]
    fn counts_read_well() {
        assert_eq!(polls(1), "1 poll");
        assert_eq!(polls(3), "3 polls");
        assert_eq!(plural(1, "result"), "1 result");
        assert_eq!(plural(0, "result"), "0 results");
    }
}
