//! The cases of the suite, their names and what each needs.

use super::{Capabilities, Harness};

/// One case of the behavior suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Case {
    /// A task that succeeds after two non-terminal polls: its output, three polls, three
    /// requests.
    Success,
    /// A task that fails: the failure on the second poll, with the vendor's fields.
    Failure,
    /// A task that never ends: a timeout after the deadline, with the last phase.
    Timeout,
    /// Three transient faults (5xx, a reset, a non-JSON body), then success.
    TransientFaults,
    /// Refused credentials: a permanent error after exactly one request.
    PermanentError,
    /// A 429 with `Retry-After`: the next request no earlier than asked.
    RetryAfter,
    /// A dropped wait stops polling.
    Cancellation,
    /// A status word the adapter does not know stays non-terminal and is reported as
    /// unrecognized.
    UnknownStatus,
    /// A task the server does not know ends with a clear error.
    UnknownTask,
    /// Thirty tasks at once, batched when the harness declares batching.
    ManyTasks,
    /// Partial results arrive in order, each once.
    PartialResults,
    /// A `Content-Length` over the cap is refused before the body is read.
    AnnouncedBodyOverTheCap,
    /// A body without `Content-Length` is cut off at the cap while streaming.
    StreamedBodyOverTheCap,
    /// The default cap refuses a body one byte over 16 MiB.
    DefaultCap,
    /// A body of exactly the default cap is read.
    BodyOfExactlyTheCap,
    /// A 503 whose body is over the cap is still a transient error.
    ErrorStatusOverTheCap,
    /// No span or event, at any level, carries a credential.
    NoCredentialInLogs,
    /// A source built on the user's own HTTP client sends with it.
    UsersHttpClient,
    /// The builder's user agent is sent, on the user's own client too.
    UserAgent,
}

/// The URL a harness's sources are asked for when the suite only wants to know whether
/// it can give one (nothing is sent to it).
const PROBE: &str = "http://127.0.0.1:9";

impl Case {
    /// Every case, in the order [`run`](super::run) runs them.
    pub const ALL: &'static [Case] = &[
        Case::Success,
        Case::Failure,
        Case::Timeout,
        Case::TransientFaults,
        Case::PermanentError,
        Case::RetryAfter,
        Case::Cancellation,
        Case::UnknownStatus,
        Case::UnknownTask,
        Case::ManyTasks,
        Case::PartialResults,
        Case::AnnouncedBodyOverTheCap,
        Case::StreamedBodyOverTheCap,
        Case::DefaultCap,
        Case::BodyOfExactlyTheCap,
        Case::ErrorStatusOverTheCap,
        Case::NoCredentialInLogs,
        Case::UsersHttpClient,
        Case::UserAgent,
    ];

    /// What the case checks, in a few words.
    pub fn name(self) -> &'static str {
        match self {
            Case::Success => "success",
            Case::Failure => "failure with the vendor's fields",
            Case::Timeout => "timeout with the last phase",
            Case::TransientFaults => "transient faults then success",
            Case::PermanentError => "permanent error after one request",
            Case::RetryAfter => "Retry-After respected",
            Case::Cancellation => "cancellation stops polling",
            Case::UnknownStatus => "unknown status stays non-terminal",
            Case::UnknownTask => "unknown task ends clearly",
            Case::ManyTasks => "many tasks at once",
            Case::PartialResults => "partial results in order",
            Case::AnnouncedBodyOverTheCap => "a Content-Length over the cap is refused unread",
            Case::StreamedBodyOverTheCap => "a streamed body over the cap is cut off",
            Case::DefaultCap => "the default cap is 16 MiB",
            Case::BodyOfExactlyTheCap => "a body of exactly the cap is read",
            Case::ErrorStatusOverTheCap => "an error status over the cap keeps its class",
            Case::NoCredentialInLogs => "no credential in any log line",
            Case::UsersHttpClient => "the user's HTTP client is the one used",
            Case::UserAgent => "the builder's user agent is sent",
        }
    }

    /// What the harness must declare or give for the case to run, if it is not
    /// declared: `Some(what)` means the case is skipped.
    pub fn missing<H: Harness>(self, h: &H) -> Option<&'static str> {
        let caps: Capabilities = h.capabilities();
        let (has, what) = match self {
            Case::RetryAfter => (caps.retry_after, "Capabilities::retry_after"),
            Case::UnknownStatus => (caps.unknown_status, "Capabilities::unknown_status"),
            Case::PartialResults => (caps.partial_results, "Capabilities::partial_results"),
            Case::AnnouncedBodyOverTheCap
            | Case::StreamedBodyOverTheCap
            | Case::DefaultCap
            | Case::ErrorStatusOverTheCap => {
                (h.source_at(PROBE, None).is_some(), "Harness::source_at")
            }
            Case::BodyOfExactlyTheCap => (
                h.source_at(PROBE, None).is_some() && h.running_answer(&h.unknown_id()).is_some(),
                "Harness::source_at and Harness::running_answer",
            ),
            Case::NoCredentialInLogs => (!h.secrets().is_empty(), "Harness::secrets"),
            Case::UserAgent => (
                h.source_with_user_agent(PROBE, "probe/1").is_some(),
                "Harness::source_with_user_agent",
            ),
            Case::UsersHttpClient => (
                h.source_on_users_https_only_client().is_some(),
                "Harness::source_on_users_https_only_client",
            ),
            // Every harness can run these.
            Case::Success
            | Case::Failure
            | Case::Timeout
            | Case::TransientFaults
            | Case::PermanentError
            | Case::Cancellation
            | Case::UnknownTask
            | Case::ManyTasks => (true, ""),
        };
        (!has).then_some(what)
    }
}
