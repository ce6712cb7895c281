//! One `#[test]` per case: [`run_case`], and the [`behavior_suite!`](crate::behavior_suite)
//! macro that registers every case for a harness.

use std::future::Future;
use std::io::Write;

use super::{Case, Harness, Verdict, check};

/// The runtime a case runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Flavor {
    /// Two worker threads and the real clock: for harnesses with a real server.
    MultiThread,
    /// One thread and a paused clock that jumps to the next timer when every task is
    /// idle: for in-memory sources, where a case's seconds take no time.
    Paused,
}

/// Runs one case against the harness `make` builds, on a runtime of its own: returns
/// when the case passed or was skipped (a skip is written to standard error, which the
/// test runner does not capture, naming what the harness lacks), panics with the
/// reason when it failed. This is what each test of
/// [`behavior_suite!`](crate::behavior_suite) calls.
#[allow(clippy::panic)]
pub fn run_case<H, F>(flavor: Flavor, case: Case, make: F)
where
    H: Harness,
    F: Future<Output = H>,
{
    let runtime = match flavor {
        Flavor::MultiThread => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build(),
        Flavor::Paused => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build(),
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(e) => panic!("behavior case {:?}: no runtime: {e}", case.name()),
    };
    let verdict = runtime.block_on(async {
        let harness = make.await;
        check(&harness, case).await
    });
    match verdict {
        Verdict::Passed => {}
        Verdict::Skipped(needs) => {
            // Straight to the process's stderr: `eprintln!` would be captured and hidden.
            let _ = writeln!(
                std::io::stderr(),
                "behavior case {:?} skipped: the harness does not declare {needs}",
                case.name()
            );
        }
        Verdict::Failed(why) => panic!("behavior case {:?} failed: {why}", case.name()),
    }
}

/// Registers the behavior suite for a harness: a module named `$name` with one
/// `#[test]` per [`Case`](crate::behavior::Case), each building its own harness with
/// `$make` (an expression that may `.await`) on a runtime of its own.
///
/// ```ignore
/// // tests/behavior.rs of an adapter crate
/// taskpoll_testkit::behavior_suite!(acme, AcmeHarness::start().await);
/// // An in-memory source: the cases run on a paused clock.
/// taskpoll_testkit::behavior_suite!(paused scripted, Scripted::new());
/// ```
///
/// `cargo test -- --list` then names `acme::success`, `acme::retry_after`, … and
/// `cargo test acme::timeout` runs one case alone.
#[macro_export]
macro_rules! behavior_suite {
    (paused $name:ident, $make:expr) => {
        $crate::behavior_suite!(@module Paused $name, $make);
    };
    ($name:ident, $make:expr) => {
        $crate::behavior_suite!(@module MultiThread $name, $make);
    };
    (@module $flavor:ident $name:ident, $make:expr) => {
        #[allow(unused_imports)]
        mod $name {
            use super::*;
            $crate::behavior_suite!(@case $flavor, $make,
                success => Success,
                failure => Failure,
                timeout => Timeout,
                transient_faults => TransientFaults,
                permanent_error => PermanentError,
                retry_after => RetryAfter,
                cancellation => Cancellation,
                unknown_status => UnknownStatus,
                unknown_task => UnknownTask,
                many_tasks => ManyTasks,
                partial_results => PartialResults,
                announced_body_over_the_cap => AnnouncedBodyOverTheCap,
                streamed_body_over_the_cap => StreamedBodyOverTheCap,
                default_cap => DefaultCap,
                body_of_exactly_the_cap => BodyOfExactlyTheCap,
                error_status_over_the_cap => ErrorStatusOverTheCap,
                no_credential_in_logs => NoCredentialInLogs,
                users_http_client => UsersHttpClient,
                user_agent => UserAgent,
            );
        }
    };
    (@case $flavor:ident, $make:expr, $($test:ident => $case:ident,)+) => {
        // Every case has its test: a case added to the suite and not here fails to build.
        const _: () = assert!(
            [$(stringify!($case)),+].len() == $crate::behavior::Case::ALL.len(),
            "behavior_suite! does not register every case"
        );
        $(
            #[test]
            fn $test() {
                $crate::behavior::run_case(
                    $crate::behavior::Flavor::$flavor,
                    $crate::behavior::Case::$case,
                    async { $make },
                );
            }
        )+
    };
}
