//! Every error message, pinned: each says what happened and what to do.

mod common;

use common::{poller, secs};
use taskpoll::strategy::Schedule;
use taskpoll::testing::Step;
use taskpoll::{ErrorKind, PollPolicy, RetryPolicy, VisibilityGrace};

type Configure = Box<dyn FnOnce(PollPolicy) -> PollPolicy>;

/// The `[kind] message` of a wait on task `task-42` following `steps`.
async fn message(steps: Vec<Step>, configure: Configure) -> String {
    let p = poller([]).configure(configure);
    p.source().script("task-42", steps);
    match p.wait("task-42".into()).await {
        Ok(out) => format!("unexpected success: {out}"),
        Err(err) => format!("[{}] {}", err.kind(), err),
    }
}

#[tokio::test(start_paused = true)]
async fn every_error_message() {
    let cases: Vec<(&str, Vec<Step>, Configure)> = vec![
        (
            "failed",
            vec![
                Step::running(),
                Step::fail("export failed: channel messaging:missing does not exist"),
            ],
            Box::new(|p| p),
        ),
        (
            "timed out while running",
            vec![Step::running_with(Some(40.0), ["part-1"])],
            Box::new(|p| p.deadline(secs(3))),
        ),
        (
            "timed out before any status",
            vec![Step::transient("connection reset")],
            Box::new(|p| p.deadline(secs(2))),
        ),
        (
            "unrecognized status at the deadline",
            vec![Step::unrecognized("error")],
            Box::new(|p| p.deadline(secs(1))),
        ),
        (
            "attempt limit",
            vec![Step::pending()],
            Box::new(|p| p.max_attempts(2)),
        ),
        (
            "strategy ran out",
            vec![Step::running()],
            Box::new(|p| p.interval(Schedule::new([secs(1)]))),
        ),
        (
            "permanent fetch error",
            vec![Step::permanent("401 api_key not valid")],
            Box::new(|p| p),
        ),
        (
            "transient errors past the policy",
            vec![Step::transient("503 service unavailable")],
            Box::new(|p| p.transient(RetryPolicy::consecutive(1))),
        ),
        (
            "not visible after the grace",
            vec![Step::not_found()],
            Box::new(|p| p.visibility(VisibilityGrace::count(2))),
        ),
    ];
    let mut out = Vec::new();
    for (name, steps, configure) in cases {
        out.push(format!("{name}:\n  {}", message(steps, configure).await));
    }
    insta::assert_snapshot!(out.join("\n\n"));
}

#[test]
fn kinds_have_stable_names() {
    let names: Vec<&str> = [
        ErrorKind::Failed,
        ErrorKind::TimedOut,
        ErrorKind::Exhausted,
        ErrorKind::Fetch,
    ]
    .iter()
    .map(|k| k.as_str())
    .collect();
    assert_eq!(names, ["failed", "timed_out", "exhausted", "fetch"]);
}

#[tokio::test(start_paused = true)]
async fn the_fetch_error_is_the_source() {
    let p = poller([Step::permanent("bad key")]);
    let err = p.wait("t".into()).await.unwrap_err();
    let source = std::error::Error::source(&err).map(|s| s.to_string());
    assert_eq!(source.as_deref(), Some("permanent error: bad key"));
    assert!(err.fetch_error().is_some());
    assert_eq!(err.task_id(), "t");
}
