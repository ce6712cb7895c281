//! What the harnesses share: every simulator takes the same `FaultPlan` and keeps the
//! same request log.

use std::time::Duration;

use serde_json::Value;
use taskpoll::strategy::Fixed;
use taskpoll::{PollPolicy, VisibilityGrace};
use taskpoll_sim::accounting::RequestRecord;
use taskpoll_sim::faults::{self, FaultPlan};
use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};
use taskpoll_testkit::behavior::Fault;
use taskpoll_testkit::behavior::Scenario;

/// A fast policy for the suite: 25 ms polls from the start, 5 s deadline, short grace
/// (a zero initial delay also overrides Runware's per-kind first delay).
pub fn fast_policy() -> PollPolicy {
    PollPolicy::with_strategy(Fixed::new(Duration::from_millis(25)))
        .initial_delay(Duration::ZERO)
        .deadline(Duration::from_secs(5))
        .final_poll_timeout(Duration::from_secs(2))
        .visibility(VisibilityGrace::for_duration(Duration::from_millis(200)))
}

/// When the simulator received each request naming the task `matches` accepts.
pub fn request_times(log: &[RequestRecord], matches: impl Fn(&str) -> bool) -> Vec<Duration> {
    log.iter()
        .filter(|r| r.task_ids.iter().any(|t| matches(t)))
        .map(|r| Duration::from_millis(r.at_ms))
        .collect()
}

/// The simulator's fault plan for a suite's fault: transient faults of four kinds in
/// turn, or a 429 with `Retry-After` in whole seconds.
pub fn plan(fault: Fault) -> FaultPlan {
    match fault {
        Fault::Transient { count } => {
            let kinds = [
                faults::Fault::ServerError { status: 503 },
                faults::Fault::Reset,
                faults::Fault::NonJson { status: 502 },
                faults::Fault::ServerError { status: 500 },
            ];
            (1..=u64::from(count)).fold(FaultPlan::default(), |plan, n| {
                plan.at(n, kinds[(n as usize - 1) % kinds.len()])
            })
        }
        Fault::RateLimited { retry_after } => {
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            FaultPlan::default().at(
                1,
                faults::Fault::RateLimited {
                    retry_after_secs: Some(secs),
                },
            )
        }
        other => panic!("no simulator fault for {other:?}"),
    }
}

/// `polls` non-terminal polls: one showing `waiting`, the rest `working` (none when zero).
pub fn progress(polls: u32, waiting: &str, working: &str) -> Vec<ScriptStep> {
    match polls {
        0 => Vec::new(),
        1 => vec![ScriptStep::for_polls(working, 1)],
        n => vec![
            ScriptStep::for_polls(waiting, 1),
            ScriptStep::for_polls(working, n - 1),
        ],
    }
}

/// An HTTP client of a user's own that refuses plain `http`, as the simulators speak.
pub fn https_only() -> reqwest::Client {
    reqwest::Client::builder().https_only(true).build().unwrap()
}

/// `Err` when a simulator counted requests that came before a `Retry-After` allowed.
pub fn no_early_retry(violations: u64) -> Result<(), String> {
    if violations == 0 {
        Ok(())
    } else {
        Err(format!(
            "{violations} requests came before the Retry-After the server had sent"
        ))
    }
}

/// The harness methods each simulator harness here writes the same way: the sources
/// and pollers of its two clients (fields `client`, accepted by the simulator, and
/// `refused`), the suite's fast policy, a source of `$size_cap` (a builder) pointed at the
/// suite's raw server (under `$prefix`) for the size-cap cases, a source of `$good` (a
/// function of the harness giving a builder with accepted credentials) on the user's
/// https-only client, and the simulator's fault plan (field `sim`).
///
/// `inject` and `clear_faults` are written as `#[async_trait]` writes them, since the
/// attribute does not reach into a macro.
macro_rules! sim_harness_methods {
    ($source:ty, $size_cap:expr, $prefix:literal, $good:expr) => {
        fn source(&self) -> $source {
            self.client.source()
        }

        fn source_with_bad_credentials(&self) -> $source {
            self.refused.source()
        }

        fn poller(&self) -> taskpoll::Poller<$source> {
            self.client.poller()
        }

        fn poller_with_bad_credentials(&self) -> taskpoll::Poller<$source> {
            self.refused.poller()
        }

        fn fast_policy(&self) -> taskpoll::PollPolicy {
            crate::sims::fast_policy()
        }

        fn source_at(&self, base_url: &str, max_response_bytes: Option<usize>) -> Option<$source> {
            let b = $size_cap
                .base_url(&format!("{base_url}{}", $prefix))
                .request_timeout(std::time::Duration::from_secs(5));
            let b = match max_response_bytes {
                Some(cap) => b.max_response_bytes(cap),
                None => b,
            };
            Some(b.build().unwrap().source())
        }

        fn source_with_user_agent(&self, base_url: &str, user_agent: &str) -> Option<$source> {
            let client = $size_cap
                .base_url(&format!("{base_url}{}", $prefix))
                .http_client(reqwest::Client::new())
                .user_agent(user_agent)
                .build()
                .unwrap();
            Some(client.source())
        }

        fn source_on_users_https_only_client(&self) -> Option<$source> {
            let good = $good;
            let client = good(self)
                .base_url(&self.sim.base_url())
                .http_client(crate::sims::https_only())
                .build()
                .unwrap();
            Some(client.source())
        }

        fn inject<'life0, 'async_trait>(
            &'life0 self,
            fault: taskpoll_testkit::behavior::Fault,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'async_trait>>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            Box::pin(async move { self.sim.set_faults(crate::sims::plan(fault)) })
        }

        fn clear_faults<'life0, 'async_trait>(
            &'life0 self,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'async_trait>>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            Box::pin(async move {
                self.sim
                    .set_faults(taskpoll_sim::faults::FaultPlan::default())
            })
        }
    };
}
pub(crate) use sim_harness_methods;

/// The script of a suite scenario for a task that shows one status word at a time: the
/// vendor's `waiting` and `working` words, a `result` to succeed with and an `error` to
/// fail with. A task that runs for ever works for an hour; the unknown word is
/// `rebalancing`. Panics on a scenario such a task cannot follow (partial results).
pub fn script(
    scenario: Scenario,
    (waiting, working): (&str, &str),
    result: Value,
    error: Value,
) -> TaskScript {
    let success = ScriptOutcome::Success { result };
    let (steps, outcome) = match scenario {
        Scenario::Succeeds { polls } => (progress(polls, waiting, working), success),
        Scenario::Fails { polls } => (
            progress(polls, waiting, working),
            ScriptOutcome::Failure { error },
        ),
        Scenario::RunsForever => (
            vec![ScriptStep::for_time(working, Duration::from_secs(3600))],
            success,
        ),
        Scenario::UnknownStatusThenSucceeds { polls } => {
            (vec![ScriptStep::for_polls("rebalancing", polls)], success)
        }
        other => panic!("a task of one status word cannot follow {other:?}"),
    };
    TaskScript { steps, outcome }
}
