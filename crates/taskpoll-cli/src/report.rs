//! How a finished wait is reported: a JSON line, a human line, an exit status.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use taskpoll::{ErrorKind, Outcome, TaskSource, WaitError};

/// The four outcomes the command reports, with their exit statuses.
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
}

impl Verdict {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Verdict::Completed => "completed",
            Verdict::Failed => "failed",
            Verdict::TimedOut => "timed_out",
            Verdict::Error => "error",
        }
    }

    /// 0, 1, 3 or 4. With several tasks the worst wins, in the order 4 > 3 > 1 > 0,
    /// which is also this type's order.
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            Verdict::Completed => 0,
            Verdict::Failed => 1,
            Verdict::TimedOut => 3,
            Verdict::Error => 4,
        }
    }
}

/// One finished wait, ready to print.
#[derive(Debug, Clone)]
pub(crate) struct TaskReport {
    pub(crate) vendor: &'static str,
    pub(crate) task_id: String,
    pub(crate) verdict: Verdict,
    pub(crate) polls: u32,
    pub(crate) elapsed: Duration,
    /// The vendor's result (completed) or failure fields (failed).
    pub(crate) detail: Value,
    /// The error message (every outcome but completed).
    pub(crate) message: Option<String>,
}

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| json!({ "unserializable": e.to_string() }))
}

impl TaskReport {
    pub(crate) fn of<S>(vendor: &'static str, outcome: Outcome<S>) -> Self
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
                    }),
                    _ => json!({ "kind": e.kind().as_str(), "message": e.to_string() }),
                };
                let verdict = match e.kind() {
                    ErrorKind::Failed => Verdict::Failed,
                    ErrorKind::Timeout | ErrorKind::Exhausted => Verdict::TimedOut,
                    _ => Verdict::Error,
                };
                (verdict, detail, Some(e.to_string()))
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
            "elapsed_ms": u64::try_from(self.elapsed.as_millis()).unwrap_or(u64::MAX),
        });
        if let Some(obj) = line.as_object_mut() {
            obj.insert(key.to_owned(), self.detail.clone());
        }
        line.to_string()
    }

    /// The human line: outcome, vendor, id, polls, time, then the result or the error.
    pub(crate) fn human_line(&self) -> String {
        let tail = match &self.message {
            None => self.detail.to_string(),
            Some(m) => m.clone(),
        };
        format!(
            "{:<10} {:<12} {}  {} polls  {}  {}",
            self.verdict.as_str(),
            self.vendor,
            self.task_id,
            self.polls,
            human_duration(self.elapsed),
            tail
        )
    }
}

/// `850ms`, `4.2s`, `2m05s`.
pub(crate) fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

/// The exit status of several reports: the worst verdict's.
pub(crate) fn exit_code(reports: &[TaskReport]) -> u8 {
    reports
        .iter()
        .map(|r| r.verdict)
        .max()
        .map_or(0, Verdict::exit_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_verdict_wins() {
        let r = |verdict| TaskReport {
            vendor: "stream",
            task_id: "t".into(),
            verdict,
            polls: 1,
            elapsed: Duration::ZERO,
            detail: Value::Null,
            message: None,
        };
        assert_eq!(exit_code(&[]), 0);
        assert_eq!(exit_code(&[r(Verdict::Completed), r(Verdict::Failed)]), 1);
        assert_eq!(exit_code(&[r(Verdict::Failed), r(Verdict::TimedOut)]), 3);
        assert_eq!(
            exit_code(&[r(Verdict::Error), r(Verdict::TimedOut), r(Verdict::Failed)]),
            4
        );
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_millis(850)), "850ms");
        assert_eq!(human_duration(Duration::from_millis(4200)), "4.2s");
        assert_eq!(human_duration(Duration::from_secs(125)), "2m05s");
    }
}
