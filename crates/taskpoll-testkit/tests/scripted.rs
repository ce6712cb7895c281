//! The suite run against the core's in-memory scripted source: it checks the suite
//! itself, and is the smallest example of a harness (under a paused clock, so instant).
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use taskpoll::strategy::Fixed;
use taskpoll::testing::{ScriptError, ScriptFailure, ScriptedSource, Step};
use taskpoll::{PollPolicy, VisibilityGrace};
use taskpoll_testkit::behavior::{
    Capabilities, Case, Fault, Harness, Scenario, Verdict, check, run,
};
use tokio::time::Instant;

struct Scripted {
    lies: bool,
    source: std::sync::Arc<ScriptedSource>,
    refusing: std::sync::Arc<ScriptedSource>,
    next: AtomicU32,
    origin: Instant,
    expected: Mutex<Vec<(String, String)>>,
    /// What [`Harness::secrets`] says the sources send.
    secrets: Vec<String>,
}

impl Scripted {
    fn new(lies: bool) -> Self {
        let refusing = ScriptedSource::new();
        refusing.fail_next((0..1000).map(|_| ScriptError::Permanent {
            message: "401 bad key".into(),
        }));
        Scripted {
            lies,
            source: std::sync::Arc::new(ScriptedSource::new()),
            refusing: std::sync::Arc::new(refusing),
            next: AtomicU32::new(0),
            origin: Instant::now(),
            expected: Mutex::new(Vec::new()),
            secrets: Vec::new(),
        }
    }

    /// A harness whose refused credentials are "bad key": a key its source's errors (and
    /// so the poller's log lines) carry.
    fn leaking() -> Self {
        Scripted {
            secrets: vec!["bad key".into()],
            ..Scripted::new(false)
        }
    }
}

/// A shared handle, so the harness can inspect the source its pollers use. With `lies`
/// set it has a classic bug: it reads a failed task as a success.
#[derive(Clone)]
struct Shared(std::sync::Arc<ScriptedSource>, bool);

#[async_trait]
impl taskpoll::TaskSource for Shared {
    type Id = String;
    type Status = taskpoll::testing::ScriptStatus;
    type Output = String;
    type Partial = String;
    type Failure = ScriptFailure;
    type Error = ScriptError;

    async fn fetch(&self, id: &String) -> Result<Self::Status, ScriptError> {
        self.0.fetch(id).await
    }

    fn classify(&self, status: Self::Status) -> taskpoll::Phase<String, String, ScriptFailure> {
        match self.0.classify(status) {
            taskpoll::Phase::Failed(f) if self.1 => taskpoll::Phase::Succeeded(f.0),
            phase => phase,
        }
    }

    fn error_class(&self, error: &ScriptError) -> taskpoll::ErrorClass {
        self.0.error_class(error)
    }
}

#[async_trait]
impl Harness for Scripted {
    type Source = Shared;

    fn capabilities(&self) -> Capabilities {
        Capabilities::basic()
            .partial_results(true)
            .unknown_status(true)
            .retry_after(true)
    }

    fn source(&self) -> Shared {
        Shared(self.source.clone(), self.lies)
    }

    fn source_with_bad_credentials(&self) -> Shared {
        Shared(self.refusing.clone(), self.lies)
    }

    fn secrets(&self) -> Vec<String> {
        self.secrets.clone()
    }

    fn fast_policy(&self) -> PollPolicy {
        PollPolicy::with_strategy(Fixed::new(Duration::from_millis(20)))
            .deadline(Duration::from_secs(10))
            .visibility(VisibilityGrace::for_duration(Duration::from_millis(200)))
    }

    async fn create(&self, scenario: Scenario) -> String {
        let id = format!("task-{}", self.next.fetch_add(1, Ordering::SeqCst));
        let done = format!("output of {id}");
        // `polls` non-terminal polls first (none when zero), then the end.
        let running = |polls: u32| (polls > 0).then(|| Step::running().times(polls));
        let steps: Vec<Step> = match scenario {
            Scenario::Succeeds { polls } => running(polls)
                .into_iter()
                .chain([Step::succeed(done.clone())])
                .collect(),
            Scenario::Fails { polls } => running(polls)
                .into_iter()
                .chain([Step::fail(format!("{id} failed"))])
                .collect(),
            Scenario::UnknownStatusThenSucceeds { polls } => {
                vec![
                    Step::unrecognized("rebalancing").times(polls),
                    Step::succeed(done.clone()),
                ]
            }
            Scenario::PartialResults { results } => (0..results)
                .map(|n| Step::running_with(None, (0..n).map(|i| format!("result {i}"))))
                .chain([Step::succeed(done.clone())])
                .collect(),
            _ => vec![Step::running()],
        };
        self.source.script(id.clone(), steps);
        self.expected.lock().unwrap().push((id.clone(), done));
        id
    }

    fn unknown_id(&self) -> String {
        "no-such-task".into()
    }

    async fn inject(&self, fault: Fault) {
        let errors: Vec<ScriptError> = match fault {
            Fault::Transient { count } => (0..count)
                .map(|_| ScriptError::Transient {
                    message: "503".into(),
                    retry_after: None,
                })
                .collect(),
            Fault::RateLimited { retry_after } => vec![ScriptError::RateLimited {
                retry_after: Some(retry_after),
            }],
            _ => Vec::new(),
        };
        self.source.fail_next(errors);
    }

    async fn clear_faults(&self) {
        self.source.clear_injected();
    }

    async fn requests_for(&self, id: &String) -> u64 {
        self.source.polls(id).len() as u64
    }

    async fn request_times_for(&self, id: &String) -> Vec<Duration> {
        self.source.poll_offsets(id, self.origin)
    }

    fn check_output(&self, id: &String, output: &String) -> Result<(), String> {
        let expected = self.expected.lock().unwrap();
        match expected.iter().find(|(i, _)| i == id) {
            Some((_, want)) if want == output => Ok(()),
            Some((_, want)) => Err(format!("output {output:?}, expected {want:?}")),
            None => Err(format!("no task {id}")),
        }
    }

    fn check_failure(&self, id: &String, failure: &ScriptFailure) -> Result<(), String> {
        if failure.0 == format!("{id} failed") {
            Ok(())
        } else {
            Err(format!("failure {failure}"))
        }
    }
}

// The whole suite, one test per case, on a paused clock.
taskpoll_testkit::behavior_suite!(paused scripted, Scripted::new(false));

#[tokio::test(start_paused = true)]
async fn run_reports_every_case() {
    let report = run(&Scripted::new(false)).await;
    println!("{report}");
    report.assert_all_passed();
    // The scripted source has no HTTP server (the five size-cap cases, the user's
    // client, the user agent) and no credentials (the log case): those are skipped, and say so.
    assert_eq!(report.passed(), 11);
    assert_eq!(report.skipped().len(), 8);
}

#[tokio::test(start_paused = true)]
async fn the_suite_catches_a_source_that_reads_failures_as_success() {
    let report = run(&Scripted::new(true)).await;
    let failed: Vec<&str> = report.failures().iter().map(|(name, _)| *name).collect();
    assert_eq!(failed, ["failure with the vendor's fields"]);
}

#[tokio::test(start_paused = true)]
async fn the_log_case_catches_a_credential_in_a_log_line() {
    match check(&Scripted::leaking(), Case::NoCredentialInLogs).await {
        Verdict::Failed(why) => {
            assert!(why.contains("carries a credential"), "{why}");
            assert!(
                !why.contains("bad key"),
                "the failure shows the credential: {why}"
            );
        }
        other => panic!("{other:?}"),
    }
}
