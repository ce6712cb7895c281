//! The cases, and [`run`].

use std::time::Duration;

use futures_util::StreamExt;
use taskpoll::{ErrorKind, FetchGiveUp, PhaseKind, Poller, Update, WaitError};

use crate::{Fault, Harness, Report, Scenario, Verdict};

type CaseResult = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

fn poller<H: Harness>(h: &H) -> Poller<H::Source> {
    let policy = h.fast_policy();
    h.poller().configure(|_| policy)
}

fn describe<F: std::fmt::Debug + std::fmt::Display, E: std::error::Error>(
    e: &WaitError<F, E>,
) -> String {
    format!("[{}] {e}", e.kind())
}

async fn success<H: Harness>(h: &H) -> CaseResult {
    let id = h.create(Scenario::Succeeds { polls: 2 }).await;
    let outcome = poller(h).watch(id.clone()).outcome().await;
    let output = outcome
        .result
        .map_err(|e| format!("expected success, got {}", describe(&e)))?;
    h.check_output(&id, &output)?;
    ensure!(
        outcome.polls == 3,
        "expected 3 polls (2 non-terminal, then success), made {}",
        outcome.polls
    );
    let requests = h.requests_for(&id).await;
    ensure!(
        requests == 3,
        "expected 3 requests for the task, the server saw {requests}"
    );
    Ok(())
}

async fn failure<H: Harness>(h: &H) -> CaseResult {
    let id = h.create(Scenario::Fails { polls: 1 }).await;
    match poller(h).wait(id.clone()).await {
        Err(WaitError::Failed { failure, polls, .. }) => {
            ensure!(
                polls == 2,
                "expected the failure on poll 2, got it on poll {polls}"
            );
            h.check_failure(&id, &failure)
        }
        Err(e) => Err(format!("expected a task failure, got {}", describe(&e))),
        Ok(_) => Err("expected a task failure, got success".into()),
    }
}

async fn timeout<H: Harness>(h: &H) -> CaseResult {
    let id = h.create(Scenario::RunsForever).await;
    let deadline = Duration::from_millis(400);
    let policy = h.fast_policy().deadline(deadline);
    let p = h.poller().configure(|_| policy);
    match p.wait(id).await {
        Err(WaitError::TimedOut {
            elapsed,
            last_phase,
            polls,
            ..
        }) => {
            ensure!(elapsed >= deadline, "timed out early, after {elapsed:?}");
            ensure!(
                polls >= 2,
                "expected several polls before the deadline, made {polls}"
            );
            let last = last_phase.ok_or("the timeout reports no last phase")?;
            ensure!(
                !last.kind.is_terminal(),
                "the last phase of a running task is {}",
                last.kind
            );
            Ok(())
        }
        Err(e) => Err(format!("expected a timeout, got {}", describe(&e))),
        Ok(_) => Err("expected a timeout, got success".into()),
    }
}

async fn transient_faults<H: Harness>(h: &H) -> CaseResult {
    let id = h.create(Scenario::Succeeds { polls: 1 }).await;
    h.inject(Fault::Transient { count: 3 }).await;
    let outcome = poller(h).watch(id.clone()).outcome().await;
    h.clear_faults().await;
    let output = outcome.result.map_err(|e| {
        format!(
            "expected success through transient faults, got {}",
            describe(&e)
        )
    })?;
    h.check_output(&id, &output)?;
    ensure!(
        outcome.polls >= 5,
        "3 faulted polls and 2 answered ones expected, made {}",
        outcome.polls
    );
    Ok(())
}

async fn permanent_error<H: Harness>(h: &H) -> CaseResult {
    let id = h.create(Scenario::Succeeds { polls: 1 }).await;
    let policy = h.fast_policy();
    let p = h.poller_with_bad_credentials().configure(|_| policy);
    let before = h.requests_for(&id).await;
    match p.wait(id.clone()).await {
        Err(WaitError::Fetch { give_up, polls, .. }) => {
            ensure!(
                give_up == FetchGiveUp::Permanent,
                "bad credentials should be permanent, got {give_up:?}"
            );
            ensure!(polls == 1, "expected exactly one request, made {polls}");
            let seen = h.requests_for(&id).await - before;
            ensure!(seen <= 1, "the server saw {seen} requests for the task");
            Ok(())
        }
        Err(e) => Err(format!(
            "expected a permanent fetch error, got {}",
            describe(&e)
        )),
        Ok(_) => Err("bad credentials were accepted".into()),
    }
}

async fn retry_after<H: Harness>(h: &H) -> CaseResult {
    let id = h.create(Scenario::Succeeds { polls: 1 }).await;
    let asked = Duration::from_secs(1);
    h.inject(Fault::RateLimited { retry_after: asked }).await;
    let result = poller(h).wait(id.clone()).await;
    h.clear_faults().await;
    let output =
        result.map_err(|e| format!("expected success after a 429, got {}", describe(&e)))?;
    h.check_output(&id, &output)?;
    let times = h.request_times_for(&id).await;
    let (first, second) = match (times.first(), times.get(1)) {
        (Some(a), Some(b)) => (*a, *b),
        _ => {
            return Err(format!(
                "expected at least two requests, the server saw {}",
                times.len()
            ));
        }
    };
    ensure!(
        second - first >= asked,
        "the retry came {:?} after the 429, before Retry-After {asked:?}",
        second - first
    );
    Ok(())
}

async fn cancellation<H: Harness>(h: &H) -> CaseResult {
    let id = h.create(Scenario::RunsForever).await;
    let p = poller(h);
    let cut = tokio::time::timeout(Duration::from_millis(300), p.wait(id.clone())).await;
    ensure!(cut.is_err(), "the wait on a task that never ends finished");
    // A request already sent when the wait was dropped still reaches the server (and
    // its log) a moment later; only requests after that count against the drop.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let made = h.requests_for(&id).await;
    ensure!(
        made >= 2,
        "expected several polls before the drop, the server saw {made}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later = h.requests_for(&id).await;
    ensure!(
        later == made,
        "{} requests after the wait was dropped",
        later - made
    );
    Ok(())
}

async fn unknown_status<H: Harness>(h: &H) -> CaseResult {
    let id = h
        .create(Scenario::UnknownStatusThenSucceeds { polls: 2 })
        .await;
    let updates: Vec<Update<H::Source>> = poller(h).watch(id.clone()).collect().await;
    let unknown = updates
        .iter()
        .filter(|u| matches!(u, Update::Polled { phase, .. } if !phase.recognized && !phase.kind.is_terminal()))
        .count();
    ensure!(unknown >= 1, "no update showed the unrecognized status");
    match updates.last() {
        Some(Update::Finished(o)) => match &o.result {
            Ok(output) => h.check_output(&id, output),
            Err(e) => Err(format!(
                "expected success after the unknown status, got {}",
                describe(e)
            )),
        },
        _ => Err("the watch did not end with the outcome".into()),
    }
}

async fn unknown_task<H: Harness>(h: &H) -> CaseResult {
    let outcome = poller(h).watch(h.unknown_id()).outcome().await;
    match outcome.result {
        Err(e) if matches!(e.kind(), ErrorKind::Fetch | ErrorKind::Failed) => Ok(()),
        Err(e) => Err(format!(
            "expected a clear not-found error, got {}",
            describe(&e)
        )),
        Ok(_) => Err("an unknown task succeeded".into()),
    }
}

async fn many_tasks<H: Harness>(h: &H) -> CaseResult {
    let mut ids = Vec::new();
    for i in 0..30u32 {
        ids.push(h.create(Scenario::Succeeds { polls: i % 3 }).await);
    }
    let before = h.status_requests().await;
    let outcomes = h.wait_many(&poller(h), ids.clone()).await;
    let after = h.status_requests().await;
    ensure!(
        outcomes.len() == ids.len(),
        "{} outcomes for {} tasks",
        outcomes.len(),
        ids.len()
    );
    for o in &outcomes {
        match &o.result {
            Ok(output) => h.check_output(&o.id, output)?,
            Err(e) => return Err(format!("task {} did not succeed: {}", o.id, describe(e))),
        }
    }
    if h.capabilities().batch {
        let (Some(before), Some(after)) = (before, after) else {
            return Err("the harness declares batch but status_requests() says nothing".into());
        };
        let requests = after.saturating_sub(before);
        let polls: u64 = outcomes.iter().map(|o| u64::from(o.polls)).sum();
        ensure!(
            requests < polls,
            "not batched: {requests} status requests for {polls} polls"
        );
    }
    Ok(())
}

async fn partial_results<H: Harness>(h: &H) -> CaseResult {
    let results = 3u32;
    let id = h.create(Scenario::PartialResults { results }).await;
    let updates: Vec<Update<H::Source>> = poller(h).watch(id.clone()).collect().await;
    let indices: Vec<usize> = updates
        .iter()
        .filter_map(|u| match u {
            Update::Partial { index, .. } => Some(*index),
            _ => None,
        })
        .collect();
    // The last result may arrive together with success: then it is in the output only.
    let expected: Vec<usize> = (0..indices.len()).collect();
    ensure!(
        indices == expected,
        "partial results out of order or repeated: {indices:?}"
    );
    ensure!(
        indices.len() + 1 >= results as usize,
        "expected each result but the last as a partial result, saw {}",
        indices.len()
    );
    let polled_partials: Vec<usize> = updates
        .iter()
        .filter_map(|u| match u {
            Update::Polled { phase, .. }
                if phase.kind == PhaseKind::Running || phase.kind == PhaseKind::Pending =>
            {
                Some(phase.partials)
            }
            _ => None,
        })
        .collect();
    ensure!(
        polled_partials.windows(2).all(|w| w[0] <= w[1]),
        "partial counts went down: {polled_partials:?}"
    );
    match updates.last() {
        Some(Update::Finished(o)) => match &o.result {
            Ok(output) => h.check_output(&id, output),
            Err(e) => Err(format!("expected success, got {}", describe(e))),
        },
        _ => Err("the watch did not end with the outcome".into()),
    }
}

/// Runs every case that applies to the harness's capabilities.
pub async fn run<H: Harness>(h: &H) -> Report {
    let caps = h.capabilities();
    let mut report = Report::default();
    macro_rules! case {
        ($name:literal, $run:expr) => {{
            let verdict = match $run.await {
                Ok(()) => Verdict::Passed,
                Err(why) => Verdict::Failed(why),
            };
            h.clear_faults().await;
            report.cases.push(($name, verdict));
        }};
        ($name:literal, $cap:expr, $needs:literal, $run:expr) => {{
            if $cap {
                case!($name, $run);
            } else {
                report.cases.push(($name, Verdict::Skipped($needs)));
            }
        }};
    }
    case!("success", success(h));
    case!("failure with the vendor's fields", failure(h));
    case!("timeout with the last phase", timeout(h));
    case!("transient faults then success", transient_faults(h));
    case!("permanent error after one request", permanent_error(h));
    case!(
        "Retry-After respected",
        caps.retry_after,
        "retry_after",
        retry_after(h)
    );
    case!("cancellation stops polling", cancellation(h));
    case!(
        "unknown status stays non-terminal",
        caps.unknown_status,
        "unknown_status",
        unknown_status(h)
    );
    case!("unknown task ends clearly", unknown_task(h));
    case!("many tasks at once", many_tasks(h));
    case!(
        "partial results in order",
        caps.partial_results,
        "partial_results",
        partial_results(h)
    );
    report
}
