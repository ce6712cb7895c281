//! The cases against the harness's server, [`check`] to run one and [`run`] to run them
//! all.

use std::time::Duration;

use futures_util::StreamExt;
use taskpoll::{ErrorKind, PhaseKind, Poller, Update, WaitError};

use super::checks;
use super::{Case, Fault, Harness, Report, Scenario, Verdict};
pub(super) use crate::expect::describe;
use crate::expect::permanent_at_first_poll;

/// What a case found wrong, if anything.
pub(super) type CaseResult = Result<(), String>;

pub(super) fn poller<H: Harness>(h: &H) -> Poller<H::Source> {
    let policy = h.fast_policy();
    h.poller().configure(|_| policy)
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
    permanent_at_first_poll(p.wait(id.clone()).await)
        .map_err(|why| format!("bad credentials: {why}"))?;
    let seen = h.requests_for(&id).await - before;
    ensure!(seen <= 1, "the server saw {seen} requests for the task");
    Ok(())
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
    // Two answered polls, then the watch is dropped.
    let mut watch = p.watch(id.clone());
    let mut polled = 0;
    while polled < 2 {
        match watch.next().await {
            Some(Update::Polled { .. }) => polled += 1,
            Some(Update::Finished(o)) => {
                return Err(format!("a task that never ends finished: {:?}", o.polls));
            }
            Some(_) => {}
            None => return Err("the watch ended without an outcome".into()),
        }
    }
    drop(watch);
    // A request already sent when the wait was dropped may still reach the server (and
    // its log) a moment later. Another task's wait on the same poller lets that moment
    // pass without a clock: its answered polls come after any such request.
    settle(h, &p, 2).await?;
    let made = h.requests_for(&id).await;
    ensure!(
        made >= 2,
        "expected several polls before the drop, the server saw {made}"
    );
    // Five more polls of another task: the dropped wait, had it gone on, would have
    // polled again meanwhile.
    settle(h, &p, 4).await?;
    let later = h.requests_for(&id).await;
    ensure!(
        later == made,
        "{} requests after the wait was dropped",
        later - made
    );
    Ok(())
}

/// Waits, on `p`, on a new task that succeeds after `polls` non-terminal polls.
async fn settle<H: Harness>(h: &H, p: &Poller<H::Source>, polls: u32) -> CaseResult {
    let other = h.create(Scenario::Succeeds { polls }).await;
    p.wait(other)
        .await
        .map(|_| ())
        .map_err(|e| format!("a second task did not succeed: {}", describe(&e)))
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

async fn users_http_client<H: Harness>(h: &H) -> CaseResult {
    let source = h
        .source_on_users_https_only_client()
        .ok_or("source_on_users_https_only_client gave no source")?;
    let id = h.create(Scenario::Succeeds { polls: 0 }).await;
    let before = h.requests_for(&id).await;
    // Refused before it is sent, whether read as transient or permanent: a short deadline.
    let policy = h.fast_policy().deadline(Duration::from_millis(500));
    let p = Poller::new(source).configure(|_| policy);
    ensure!(
        p.wait(id.clone()).await.is_err(),
        "a client that refuses plain http reached the server: not the user's client"
    );
    let sent = h.requests_for(&id).await - before;
    ensure!(
        sent == 0,
        "the server saw {sent} requests: the adapter sent with a client of its own"
    );
    Ok(())
}

/// Runs one case against the harness: skipped when the harness lacks what it needs
/// ([`Case::missing`]); faults are cleared after it.
pub async fn check<H: Harness>(h: &H, case: Case) -> Verdict {
    if let Some(needs) = case.missing(h) {
        return Verdict::Skipped(needs);
    }
    let result = match case {
        Case::Success => success(h).await,
        Case::Failure => failure(h).await,
        Case::Timeout => timeout(h).await,
        Case::TransientFaults => transient_faults(h).await,
        Case::PermanentError => permanent_error(h).await,
        Case::RetryAfter => retry_after(h).await,
        Case::Cancellation => cancellation(h).await,
        Case::UnknownStatus => unknown_status(h).await,
        Case::UnknownTask => unknown_task(h).await,
        Case::ManyTasks => many_tasks(h).await,
        Case::PartialResults => partial_results(h).await,
        Case::AnnouncedBodyOverTheCap => checks::announced_body_over_the_cap(h).await,
        Case::StreamedBodyOverTheCap => checks::streamed_body_over_the_cap(h).await,
        Case::DefaultCap => checks::default_cap(h).await,
        Case::BodyOfExactlyTheCap => checks::body_of_exactly_the_cap(h).await,
        Case::ErrorStatusOverTheCap => checks::error_status_over_the_cap(h).await,
        Case::NoCredentialInLogs => checks::no_credential_in_logs(h).await,
        Case::UsersHttpClient => users_http_client(h).await,
        Case::UserAgent => checks::user_agent(h).await,
    };
    h.clear_faults().await;
    let result = match result {
        Ok(()) => h.server_check().await,
        failed => failed,
    };
    match result {
        Ok(()) => Verdict::Passed,
        Err(why) => Verdict::Failed(why),
    }
}

/// Runs every case against one harness, in [`Case::ALL`]'s order.
pub async fn run<H: Harness>(h: &H) -> Report {
    let mut report = Report::default();
    for &case in Case::ALL {
        report.cases.push((case.name(), check(h, case).await));
    }
    report
}
