//! The behavior suite every taskpoll adapter runs.
//!
//! An adapter (ours or a third party's) implements [`Harness`] for its source and a
//! server it controls (a simulator) and declares its [`Capabilities`]; then one line,
//! [`behavior_suite!`](crate::behavior_suite), registers one `#[test]` per [`Case`], so
//! `cargo test -- --list` names every case and each can be run alone. A case needing a
//! capability the harness does not declare passes as skipped and says so on standard
//! error, whatever the test runner captures. [`run`] runs every case in one call and
//! returns a [`Report`], for runners of one's own.
//!
//! Cases: success; failure with the vendor's fields; timeout with the last phase;
//! transient faults then success; a permanent error after one request; `Retry-After`
//! respected; cancellation; unknown statuses; an unknown task; many tasks at once; partial
//! results; a body over the size cap (announced, streamed, and the 16 MiB default); no
//! credential in any log line. Each needs only what its capability flags say the harness
//! can do. No case synchronises by sleeping: each waits on the server's request log, on
//! a wait's updates or on another wait's outcome.

/// Returns the message as the case's failure when the condition does not hold.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

mod case;
mod cases;
mod checks;
mod report;
mod suite;

pub use case::Case;
pub use report::{Report, Verdict};
pub use suite::{Flavor, run_case};

use std::time::Duration;

use async_trait::async_trait;
use taskpoll::{Outcome, PollPolicy, Poller, TaskSource};

pub use cases::{check, run};

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
    /// naming several tasks counts once for each). By default, how many
    /// [`request_times_for`](Harness::request_times_for) gives.
    async fn requests_for(&self, id: &<Self::Source as TaskSource>::Id) -> u64 {
        self.request_times_for(id).await.len() as u64
    }

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

    /// A source like [`source`](Harness::source) but pointed at `base_url`, a server of
    /// the suite's own that answers every request with the same raw bytes, with this
    /// response size cap (the adapter's default when `None`). `None`, the default, skips
    /// the size-cap cases.
    fn source_at(&self, base_url: &str, max_response_bytes: Option<usize>) -> Option<Self::Source> {
        let _ = (base_url, max_response_bytes);
        None
    }

    /// The body the vendor answers a status request for task `id` with while the task
    /// runs, as raw bytes: the size-cap cases pad it with whitespace to exactly the cap
    /// and expect it read. `None`, the default, skips that case.
    fn running_answer(&self, id: &<Self::Source as TaskSource>::Id) -> Option<Vec<u8>> {
        let _ = id;
        None
    }

    /// A source like [`source`](Harness::source), built on an HTTP client of the user's
    /// own that refuses plain `http` (reqwest's `https_only(true)`) handed to the
    /// adapter's builder: if the adapter sends with the user's client, no request reaches
    /// the (plain-HTTP) server. `None`, the default, skips the case.
    fn source_on_users_https_only_client(&self) -> Option<Self::Source> {
        None
    }

    /// A source like [`source_at`](Harness::source_at) (the adapter's default cap),
    /// built on an HTTP client of the user's own (a plain `reqwest::Client::new()`)
    /// with `user_agent` set on the adapter's builder: the case checks the request
    /// carries it. `None`, the default, skips the case.
    fn source_with_user_agent(&self, base_url: &str, user_agent: &str) -> Option<Self::Source> {
        let _ = (base_url, user_agent);
        None
    }

    /// The credentials the harness's sources send (keys, secrets, tokens): the log case
    /// checks that no span or event, at any level, carries one. Empty, the default,
    /// skips the log case.
    fn secrets(&self) -> Vec<String> {
        Vec::new()
    }

    /// Checks the server after each case that passed, for what no one case looks at
    /// (our simulators: that no request came before a `Retry-After` allowed). `Ok` by
    /// default.
    async fn server_check(&self) -> Result<(), String> {
        Ok(())
    }

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
