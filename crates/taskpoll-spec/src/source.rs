//! [`SpecSource`]: a spec's task API as a [`TaskSource`], and what its waits end with.

use std::fmt;

use async_trait::async_trait;
use serde::{Serialize, Serializer};
use serde_json::Value;
use taskpoll::{ErrorClass, Phase, PollPolicy, RateLimitHint, TaskSource};

use crate::client::SpecClient;
use crate::decode;
use crate::error::SpecError;

/// The phase a spec reads from one answer.
pub type SpecPhase = Phase<SpecOutput, (), SpecFailure>;

/// What a task that succeeded produced: the value at the spec's `result.pointer` (the
/// whole body without one). Serializes as that value alone.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SpecOutput {
    /// The status word, as the API spelled it.
    pub status: String,
    /// The result (`null` when the pointer found nothing).
    pub result: Value,
}

impl Serialize for SpecOutput {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.result.serialize(serializer)
    }
}

/// Why a task failed: its status word and the value at the spec's `failure.pointer` (the
/// whole body without one). Serializes as `{"status": ..., "error": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SpecFailure {
    /// The status word, as the API spelled it (`(no status)` when a failure came without
    /// one).
    pub status: String,
    /// The failure (`null` when the pointer found nothing).
    pub error: Value,
}

/// The longest failure text shown.
const SHOWN: usize = 300;

fn clip(text: &str) -> String {
    let mut out: String = text.chars().take(SHOWN).collect();
    if text.chars().count() > SHOWN {
        out.push('…');
    }
    out
}

impl SpecFailure {
    /// A one-line summary of the failure: a string as it is; an object's `message`,
    /// `detail` or `description` (after its `code` or `type` when it has one); anything
    /// else as compact JSON; at most 300 characters.
    pub fn summary(&self) -> String {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        match &self.error {
            Value::Null => "no error details".to_owned(),
            Value::String(s) => clip(s),
            Value::Object(map) => {
                let message = ["message", "detail", "description", "error"]
                    .iter()
                    .find_map(|k| text(map.get(*k)));
                let code = ["code", "type"].iter().find_map(|k| text(map.get(*k)));
                match (code, message) {
                    (Some(c), Some(m)) => clip(&format!("{c}: {m}")),
                    (None, Some(m)) => clip(&m),
                    _ => clip(&self.error.to_string()),
                }
            }
            other => clip(&other.to_string()),
        }
    }
}

impl fmt::Display for SpecFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "status {:?}: {}", self.status, self.summary())
    }
}

/// A spec's task API as a [`TaskSource`]: one request per poll, read as the spec says
/// (see [`decode::classify`]).
#[derive(Debug, Clone)]
pub struct SpecSource {
    client: SpecClient,
}

impl SpecSource {
    /// A source over `client`.
    pub fn new(client: SpecClient) -> Self {
        SpecSource { client }
    }

    /// The client.
    pub fn client(&self) -> &SpecClient {
        &self.client
    }
}

#[async_trait]
impl TaskSource for SpecSource {
    type Id = String;
    type Status = Value;
    type Output = SpecOutput;
    type Partial = ();
    type Failure = SpecFailure;
    type Error = SpecError;

    async fn fetch(&self, id: &String) -> Result<Value, SpecError> {
        self.client.get(id).await
    }

    fn classify(&self, status: Value) -> SpecPhase {
        decode::classify(self.client.spec(), status)
    }

    fn error_class(&self, error: &SpecError) -> ErrorClass {
        error.class()
    }

    fn name(&self) -> &str {
        self.client.spec().name()
    }

    /// The spec's `[poll]` settings on the core's defaults (see
    /// [`Spec::policy`](crate::Spec::policy)).
    fn default_policy(&self) -> PollPolicy {
        self.client.spec().policy()
    }

    fn rate_limit(&self) -> Option<RateLimitHint> {
        self.client.rate_limit_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn failure_summaries() {
        let f = |error: Value| SpecFailure {
            status: "failed".into(),
            error,
        };
        assert_eq!(f(json!("boom")).summary(), "boom");
        assert_eq!(
            f(json!({"code": "E1", "message": "bad input"})).summary(),
            "E1: bad input"
        );
        assert_eq!(f(json!({"detail": "throttled"})).summary(), "throttled");
        assert_eq!(f(json!([1])).summary(), "[1]");
        assert_eq!(f(Value::Null).summary(), "no error details");
        assert_eq!(f(json!("x".repeat(400))).summary().chars().count(), 301);
        assert_eq!(f(json!("boom")).to_string(), "status \"failed\": boom");
    }

    #[test]
    fn outputs_serialize_as_their_result() {
        let o = SpecOutput {
            status: "done".into(),
            result: json!({"url": "x"}),
        };
        assert_eq!(serde_json::to_value(&o).unwrap(), json!({"url": "x"}));
    }
}
