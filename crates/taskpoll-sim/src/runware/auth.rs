//! Runware's auth: `Authorization: Bearer <key>`, or a leading
//! `{"taskType":"authentication","apiKey":...}` element of the body array.

use axum::http::HeaderMap;
use serde_json::{Map, Value};

/// The keys the authentication schema allows (`additionalProperties: false`).
const AUTH_KEYS: [&str; 3] = ["taskType", "apiKey", "connectionSessionUUID"];

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refused {
    /// No key, or the wrong one: 401 `invalidApiKey`.
    InvalidKey,
    /// The authentication element has a key its schema forbids: 400.
    UnknownParameter(String),
}

/// Whether `task` is an authentication element.
pub(crate) fn is_auth_element(task: &Map<String, Value>) -> bool {
    task.get("taskType").and_then(Value::as_str) == Some("authentication")
}

/// Checks a request: the leading authentication element when there is one (it
/// decides alone), else the bearer header.
pub(crate) fn check(
    api_key: &str,
    headers: &HeaderMap,
    first: Option<&Map<String, Value>>,
) -> Result<(), Refused> {
    if let Some(element) = first.filter(|t| is_auth_element(t)) {
        if let Some(extra) = element.keys().find(|k| !AUTH_KEYS.contains(&k.as_str())) {
            return Err(Refused::UnknownParameter(extra.clone()));
        }
        return match element.get("apiKey").and_then(Value::as_str) {
            Some(k) if !k.is_empty() && k == api_key => Ok(()),
            _ => Err(Refused::InvalidKey),
        };
    }
    let header = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim();
    let (scheme, key) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("bearer") && !key.trim().is_empty() && key.trim() == api_key {
        Ok(())
    } else {
        Err(Refused::InvalidKey)
    }
}
