//! The behavior suite every taskpoll adapter runs.
//!
//! An adapter (ours or a third party's) implements [`Harness`] for its source and a
//! server it controls (a simulator), declares its [`Capabilities`], and calls [`run`]:
//! every case that applies runs against real requests, and the [`Report`] says which
//! passed, failed or were skipped. `docs/writing-an-adapter.md` shows a whole harness.
//!
//! Cases: success; failure with the vendor's fields; timeout with the last phase;
//! transient faults then success; a permanent error after one request; `Retry-After`
//! respected; cancellation; unknown statuses; an unknown task; many tasks at once; partial
//! results. Each needs only what its capability flags say the harness can do.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cases;
pub mod support;

/// The README's examples, compiled as doctests so they stay right.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use taskpoll::{Outcome, PollPolicy, Poller, TaskSource};

pub use cases::run;

/// What an adapter and its test server can do; cases needing more are skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Tasks can produce partial results ([`Scenario::PartialResults`]).
    pub partial_results: bool,
    /// The server can show a status word the adapter does not know
    /// ([`Scenario::UnknownStatusThenSucceeds`]).
    pub unknown_status: bool,
    /// The server can answer 429 with `Retry-After` ([`Fault::RateLimited`]).
    pub retry_after: bool,
    /// The source batches ([`Harness::wait_many`] fetches several tasks per request,
    /// checked with [`Harness::status_requests`]).
    pub batch: bool,
}

impl Capabilities {
    /// Nothing beyond the basics.
    pub fn basic() -> Self {
        Capabilities::default()
    }

    /// Sets [`partial_results`](Capabilities::partial_results).
    pub fn partial_results(mut self, yes: bool) -> Self {
        self.partial_results = yes;
        self
    }

    /// Sets [`unknown_status`](Capabilities::unknown_status).
    pub fn unknown_status(mut self, yes: bool) -> Self {
        self.unknown_status = yes;
        self
    }

    /// Sets [`retry_after`](Capabilities::retry_after).
    pub fn retry_after(mut self, yes: bool) -> Self {
        self.retry_after = yes;
        self
    }

    /// Sets [`batch`](Capabilities::batch).
    pub fn batch(mut self, yes: bool) -> Self {
        self.batch = yes;
        self
    }
}

/// A task the harness creates on its server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scenario {
    /// Non-terminal for `polls` polls, then succeeds.
    Succeeds {
        /// Non-terminal polls first.
        polls: u32,
    },
    /// Non-terminal for `polls` polls, then fails with the vendor's failure fields.
    Fails {
        /// Non-terminal polls first.
        polls: u32,
    },
    /// Never finishes.
    RunsForever,
    /// Shows a status word the adapter does not know for `polls` polls, then succeeds.
    UnknownStatusThenSucceeds {
        /// Polls showing the unknown status.
        polls: u32,
    },
    /// Produces `results` partial results, one more finished on each poll, then succeeds.
    PartialResults {
        /// How many results.
        results: u32,
    },
}

/// A fault the harness injects into its server's next status requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The next `count` status requests fail with transient errors (5xx, resets).
    Transient {
        /// How many.
        count: u32,
    },
    /// The next status request answers 429 with this `Retry-After`.
    RateLimited {
        /// The delay asked for (whole seconds).
        retry_after: Duration,
    },
}

/// An adapter and the server it is tested against.
#[async_trait]
pub trait Harness: Send + Sync {
    /// The adapter's source.
    type Source: TaskSource;

    /// What the adapter and server can do.
    fn capabilities(&self) -> Capabilities;

    /// A source with working credentials, pointed at the server.
    fn source(&self) -> Self::Source;

    /// A source whose credentials the server refuses.
    fn source_with_bad_credentials(&self) -> Self::Source;

    /// A poller over [`source`](Harness::source), the way the adapter's users get one
    /// (a vendor client's `poller()`, on the client's shared scheduler). The default
    /// puts the source on a scheduler of its own.
    fn poller(&self) -> Poller<Self::Source> {
        Poller::new(self.source())
    }

    /// A poller over [`source_with_bad_credentials`](Harness::source_with_bad_credentials).
    fn poller_with_bad_credentials(&self) -> Poller<Self::Source> {
        Poller::new(self.source_with_bad_credentials())
    }

    /// A policy that keeps the suite fast (short intervals, a short deadline, short
    /// grace windows); cases adjust its deadline.
    fn fast_policy(&self) -> PollPolicy;

    /// Creates a task following `scenario`; returns its id.
    async fn create(&self, scenario: Scenario) -> <Self::Source as TaskSource>::Id;

    /// An id the server does not know.
    fn unknown_id(&self) -> <Self::Source as TaskSource>::Id;

    /// Injects a fault into the next status requests (replacing any earlier one).
    ///
    /// This and the other server-side methods are `async` so that a harness can drive a
    /// server it reaches over HTTP (a simulator's control API, a mock server whose API
    /// is async, a process of its own).
    async fn inject(&self, fault: Fault);

    /// Clears injected faults.
    async fn clear_faults(&self);

    /// Requests the server has received that named task `id` (a batched request
    /// naming several tasks counts once for each).
    async fn requests_for(&self, id: &<Self::Source as TaskSource>::Id) -> u64;

    /// When the server received each request naming task `id`, oldest first, as
    /// offsets from any fixed origin.
    async fn request_times_for(&self, id: &<Self::Source as TaskSource>::Id) -> Vec<Duration>;

    /// Status requests the server has received in all, a batched request counting
    /// once, if the server can tell (`None` by default). Harnesses that declare
    /// [`Capabilities::batch`] must give it: the many-tasks case checks with it that
    /// [`wait_many`](Harness::wait_many) made fewer requests than the waits made polls.
    async fn status_requests(&self) -> Option<u64> {
        None
    }

    /// Checks the output of task `id` is the one the server was set to produce for it
    /// (the harness remembers what [`create`](Harness::create) scripted).
    fn check_output(
        &self,
        id: &<Self::Source as TaskSource>::Id,
        output: &<Self::Source as TaskSource>::Output,
    ) -> Result<(), String>;

    /// Checks a failure carries the vendor's fields as the server set them.
    fn check_failure(
        &self,
        id: &<Self::Source as TaskSource>::Id,
        failure: &<Self::Source as TaskSource>::Failure,
    ) -> Result<(), String>;

    /// Waits on many tasks at once, with [`Poller::wait_all`] (a batch source's
    /// poller batches by itself, through its scheduler).
    async fn wait_many(
        &self,
        poller: &Poller<Self::Source>,
        ids: Vec<<Self::Source as TaskSource>::Id>,
    ) -> Vec<Outcome<Self::Source>> {
        use futures_util::StreamExt;
        poller.wait_all(ids).outcomes().collect().await
    }
}

/// How one case went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It held.
    Passed,
    /// It did not; why.
    Failed(String),
    /// It needs a capability the harness does not declare.
    Skipped(&'static str),
}

/// The result of [`run`]: each case with its verdict.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// `(case, verdict)` in the order run.
    pub cases: Vec<(&'static str, Verdict)>,
}

impl Report {
    /// Cases that failed.
    pub fn failures(&self) -> Vec<(&'static str, &str)> {
        self.cases
            .iter()
            .filter_map(|(name, v)| match v {
                Verdict::Failed(why) => Some((*name, why.as_str())),
                _ => None,
            })
            .collect()
    }

    /// Cases that passed.
    pub fn passed(&self) -> usize {
        self.cases
            .iter()
            .filter(|(_, v)| *v == Verdict::Passed)
            .count()
    }

    /// Cases that were skipped for a capability the harness does not declare.
    pub fn skipped(&self) -> Vec<&'static str> {
        self.cases
            .iter()
            .filter(|(_, v)| matches!(v, Verdict::Skipped(_)))
            .map(|(name, _)| *name)
            .collect()
    }

    /// Panics with every failure listed, if any case failed (for use in `#[test]`s).
    #[allow(clippy::panic)]
    pub fn assert_all_passed(&self) {
        let failures = self.failures();
        if !failures.is_empty() {
            panic!(
                "{} of {} behavior cases failed:\n{self}",
                failures.len(),
                self.cases.len()
            );
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, verdict) in &self.cases {
            match verdict {
                Verdict::Passed => writeln!(f, "  ok      {name}")?,
                Verdict::Failed(why) => writeln!(f, "  FAILED  {name}: {why}")?,
                Verdict::Skipped(needs) => writeln!(f, "  skipped {name} (needs {needs})")?,
            }
        }
        Ok(())
    }
}
