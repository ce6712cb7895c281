//! Runware's error items: `errors[]`, the singular `error`, an item's nested `error`,
//! and the [`Parameter`] an error is about.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use taskpoll_http::lenient::Fields;

/// The request parameter an error is about: one name, or a list for cross-field
/// errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parameter {
    /// One parameter.
    One(String),
    /// Several parameters.
    Many(Vec<String>),
}

impl Parameter {
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::String(s) => Some(Parameter::One(s)),
            Value::Array(items) => Some(Parameter::Many(
                items
                    .into_iter()
                    .map(|i| match i {
                        Value::String(s) => s,
                        other => other.to_string(),
                    })
                    .collect(),
            )),
            _ => None,
        }
    }
}

impl fmt::Display for Parameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Parameter::One(p) => f.write_str(p),
            Parameter::Many(ps) => f.write_str(&ps.join(", ")),
        }
    }
}

impl Serialize for Parameter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Parameter::One(p) => p.serialize(s),
            Parameter::Many(ps) => ps.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Parameter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Parameter::from_value(v)
            .ok_or_else(|| serde::de::Error::custom("parameter must be a string or a list"))
    }
}

/// One error item (`errors[]`, `error`, or a nested item-level `error`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ErrorItem {
    /// Short id (`invalidApiKey`, `timeoutProvider`, ...). Runware says the codes are
    /// still being standardised: classify by pattern and keep the raw code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Human text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The request parameter involved (a string, or a list for cross-field errors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<Parameter>,
    /// The task type of the failed request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_type: Option<String>,
    /// The failed task's UUID.
    #[serde(rename = "taskUUID", skip_serializing_if = "Option::is_none")]
    pub task_uuid: Option<String>,
    /// A link to the documentation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documentation: Option<String>,
    /// `"error"` in `getResponse` failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Legacy numeric error id (`19` = invalid key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_id: Option<Value>,
    /// Legacy error message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Every other key (`type`, `allowedValues`, `min`, `max`, `context`,
    /// `responseContent`, ...), kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl<'de> Deserialize<'de> for ErrorItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut f = Fields::deserialize(d)?;
        Ok(ErrorItem {
            code: f.text("code"),
            message: f.text("message"),
            parameter: f.take("parameter").and_then(Parameter::from_value),
            task_type: f.text("taskType"),
            task_uuid: f.text("taskUUID"),
            documentation: f.text("documentation"),
            status: f.text("status"),
            error_id: f.take("errorId"),
            error_message: f.text("errorMessage"),
            extra: f.rest(),
        })
    }
}

impl ErrorItem {
    /// An error item with `code` and `message` (for a failure built in code; every
    /// other field empty). [`Envelope`](super::Envelope) and
    /// [`DataItem`](super::DataItem) start from `Default`.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorItem {
            code: Some(code.into()),
            message: Some(message.into()),
            ..ErrorItem::default()
        }
    }

    /// Reads one error item: an object, or a bare string (taken as the message).
    pub fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Object(_) => serde_json::from_value(v).ok(),
            Value::String(message) => Some(ErrorItem {
                message: Some(message),
                ..ErrorItem::default()
            }),
            _ => None,
        }
    }

    /// The code: `code`, else `errorId <n>` for legacy errors, else `unknown`.
    pub fn code(&self) -> String {
        match (&self.code, &self.error_id) {
            (Some(c), _) if !c.is_empty() => c.clone(),
            (_, Some(Value::Number(n))) => format!("errorId {n}"),
            (_, Some(Value::String(s))) => format!("errorId {s}"),
            _ => "unknown".to_owned(),
        }
    }

    /// The message: `message`, else the legacy `errorMessage`, else empty.
    pub fn message(&self) -> &str {
        self.message
            .as_deref()
            .or(self.error_message.as_deref())
            .unwrap_or_default()
    }

    /// Whether the code says the task is unknown or gone: `taskFailedOrNotFound`, or
    /// any code ending in `NotFound` or `Expired`.
    pub fn is_not_found(&self) -> bool {
        self.code.as_deref().is_some_and(|c| {
            c.eq_ignore_ascii_case("taskFailedOrNotFound")
                || c.ends_with("NotFound")
                || c.ends_with("Expired")
        })
    }

    /// Whether the error is about the request itself (a missing or invalid parameter)
    /// rather than the task: the code starts with `invalid`, `missing` or `unknown`,
    /// or the item names a `parameter`.
    pub fn is_request_error(&self) -> bool {
        self.parameter.is_some()
            || self.code.as_deref().is_some_and(|c| {
                c.starts_with("invalid")
                    || c.starts_with("missing")
                    || c.starts_with("unknownParameter")
            })
    }

    /// Whether it belongs to task `uuid` (an item without `taskUUID` belongs to any).
    pub fn belongs_to(&self, uuid: &str) -> bool {
        self.task_uuid
            .as_deref()
            .is_none_or(|u| u.eq_ignore_ascii_case(uuid))
    }
}

impl fmt::Display for ErrorItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())?;
        write_detail(f, self.message(), self.parameter.as_ref())
    }
}

/// Writes what follows an error's code: `: <message>` (unless it is empty) and
/// ` (parameter <p>)` (when there is one).
pub(crate) fn write_detail(
    f: &mut fmt::Formatter<'_>,
    message: &str,
    parameter: Option<&Parameter>,
) -> fmt::Result {
    if !message.is_empty() {
        write!(f, ": {message}")?;
    }
    match parameter {
        Some(p) => write!(f, " (parameter {p})"),
        None => Ok(()),
    }
}
