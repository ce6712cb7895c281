//! Wait on any JSON task API from a small spec file, with all of taskpoll's guarantees
//! (a deadline with a final poll, `Retry-After`, transient retries, request budgets, one
//! scheduler per client).
//!
//! Most task APIs have the same shape: GET a URL with the task id in it, read a status
//! word in the JSON answer, map it to pending, running, succeeded or failed, and take the
//! result or the error from elsewhere in the answer. A [`Spec`] says exactly that, in
//! TOML (the format, field by field: `docs/specs.md`; ready-made specs for OpenAI
//! batches, Replicate predictions, AssemblyAI transcripts and Redis Cloud tasks:
//! `specs/`):
//!
//! ```toml
//! [request]
//! url = "{base_url}/v1/predictions/{id}"        # {id}: one percent-encoded path segment
//! base_url = "https://api.replicate.com"
//! [request.headers]
//! authorization = "Bearer {env.REPLICATE_API_TOKEN}"   # secrets only from the environment
//! [status]
//! pointer = "/status"                            # RFC 6901 JSON pointer
//! pending = ["starting"]
//! running = ["processing"]
//! succeeded = ["succeeded"]
//! failed = ["failed", "canceled", "aborted"]
//! [result]
//! pointer = "/output"
//! [failure]
//! pointer = "/error"
//! [poll]
//! interval = "1s"
//! deadline = "30m"
//! rate = "2400/1m"
//! ```
//!
//! A mistake fails to load with the file, the line and the field ([`LoadError`]). A
//! [`SpecClient`] built over a spec is a [`TaskSource`](taskpoll::TaskSource) like any
//! vendor adapter ([`SpecSource`]):
//!
//! ```
//! use taskpoll::{Phase, PhaseKind};
//! use taskpoll_spec::{Spec, SpecClient, decode};
//!
//! let text = r#"
//!     name = "jobs"
//!     [request]
//!     url = "{base_url}/v1/jobs/{id}"
//!     base_url = "https://api.example.com"
//!     [request.headers]
//!     x-api-key = "{env.JOBS_KEY}"
//!     [status]
//!     pointer = "/job/state"
//!     pending = ["queued"]
//!     running = ["working"]
//!     succeeded = ["done"]
//!     failed = ["error"]
//!     [result]
//!     pointer = "/job/output"
//!     [progress]
//!     pointer = "/job/progress"
//!     scale = "fraction"
//!     [poll]
//!     backoff = "500ms..10s"
//!     deadline = "15m"
//!     rate = "300/1m"
//! "#;
//! // Secrets come from the environment (here a stand-in for it).
//! let env = |name: &str| (name == "JOBS_KEY").then(|| "k-123456".to_owned());
//! let spec = Spec::parse_with(text, "jobs.toml", std::path::Path::new("."), &env)?;
//! assert_eq!(spec.name(), "jobs");
//! assert!(!format!("{spec:?}").contains("k-123456"));
//!
//! // Reading an answer is pure: what the poller does with every fetched body.
//! let body = serde_json::json!({"job": {"state": "WORKING", "progress": 0.4}});
//! match decode::classify(&spec, body) {
//!     Phase::Running(p) => assert_eq!(p.percent, Some(40.0)),
//!     other => panic!("{other:?}"),
//! }
//! let body = serde_json::json!({"job": {"state": "done", "output": {"url": "https://x"}}});
//! assert_eq!(decode::classify(&spec, body).kind(), PhaseKind::Succeeded);
//!
//! // The client: every wait through one scheduler, under the spec's budget.
//! let client = SpecClient::new(spec)?;
//! assert_eq!(client.url("a/b")?.as_str(), "https://api.example.com/v1/jobs/a%2Fb");
//! let _poller = client.poller(); // poller.wait(id).await, watch, wait_all
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Secrets: a header value may take `{env.NAME}` or `{file.PATH}`; the value of a header
//! whose name is `authorization`, `proxy-authorization` or `cookie`, or contains `key`,
//! `token`, `secret`, `auth`, `password`, `signature` or `credential`, must come from one
//! of them, never be written in the spec. Secret values never show in `Debug`,
//! `Display`, errors or logs, and are scrubbed from answers before they are read.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
mod config;
pub mod decode;
mod error;
mod source;
mod summary;
mod template;
mod validate;
mod values;

pub use client::{SpecClient, SpecClientBuilder};
pub use config::{DEFAULT_REQUEST_TIMEOUT, DEFAULT_VISIBILITY_GRACE, Spec};
pub use error::{LoadError, SpecError};
pub use source::{SpecFailure, SpecOutput, SpecPhase, SpecSource};
pub use taskpoll_http::Secret;
pub use values::{Pointer, parse_backoff, parse_duration, parse_rate};
