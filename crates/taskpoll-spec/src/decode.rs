//! Reading an answer the way a spec says, apart from the exchange (pure: no I/O).
//!
//! [`SpecClient`](crate::SpecClient) reads every answer through these functions; they are
//! public so that an answer captured elsewhere (a log, a vendor's documentation, a
//! fuzzer) is read exactly the same way, whatever the bytes.
//!
//! ```
//! use reqwest::header::HeaderMap;
//! use taskpoll::PhaseKind;
//! use taskpoll_spec::{Spec, decode};
//!
//! let spec = Spec::parse(r#"
//!     [request]
//!     url = "{base_url}/jobs/{id}"
//!     base_url = "https://api.example.com"
//!     [status]
//!     pointer = "/state"
//!     running = ["busy"]
//!     succeeded = ["done"]
//! "#, "jobs.toml")?;
//! let body = decode::answer(&spec, 200, &HeaderMap::new(), br#"{"state":"DONE"}"#)?;
//! assert_eq!(decode::classify(&spec, body).kind(), PhaseKind::Succeeded);
//! let err = decode::answer(&spec, 503, &HeaderMap::new(), b"busy").unwrap_err();
//! assert!(err.class().is_transient());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::SystemTime;

use reqwest::header::HeaderMap;
use serde_json::Value;
use taskpoll::{ErrorClass, Phase, PhaseKind, Progress};
use taskpoll_http::excerpt;

use crate::config::Spec;
use crate::error::SpecError;
use crate::source::{SpecFailure, SpecOutput, SpecPhase};
use crate::values::parse_reset;

/// How a status that is not 2xx is treated: the spec's `[http]` lists first, then the
/// defaults (429 rate limited; 408, 425 and 5xx transient; anything else permanent).
pub fn class_of(spec: &Spec, status: u16, retry_after: Option<std::time::Duration>) -> ErrorClass {
    let rules = &spec.http;
    if rules.not_yet_visible.contains(&status) {
        ErrorClass::NotYetVisible
    } else if rules.permanent.contains(&status) {
        ErrorClass::Permanent
    } else if status != 429 && (rules.transient.contains(&status) || status == 425) {
        ErrorClass::Transient { retry_after }
    } else {
        taskpoll_http::exchange::status_class(status, retry_after)
    }
}

/// Reads one answer: a 2xx body as JSON, any other status as a [`SpecError`] classified
/// by the spec, with the delay the API asked for (`Retry-After`; for a 429 without it,
/// the spec's rate-limit reset header).
pub fn answer(
    spec: &Spec,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, SpecError> {
    if (200..300).contains(&status) {
        return serde_json::from_slice(body).map_err(|e| SpecError::Malformed {
            status,
            reason: e.to_string(),
            excerpt: excerpt(body),
        });
    }
    if (300..400).contains(&status) && !spec.http.transient.contains(&status) {
        let to = headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(|l| format!(" to {}", excerpt(l.as_bytes())))
            .unwrap_or_default();
        return Err(SpecError::Redirect { status, to });
    }
    let now = SystemTime::now();
    let mut retry_after = taskpoll_http::retry_after(headers, now);
    if retry_after.is_none()
        && status == 429
        && let Some(name) = &spec.http.reset
    {
        retry_after = headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_reset(v, now));
    }
    Err(SpecError::Http {
        status,
        class: class_of(spec, status, retry_after),
        retry_after,
        excerpt: excerpt(body),
    })
}

/// The status word of a body: a string as it is, a number or a boolean as its text;
/// `None` when the pointer finds nothing, `null`, an object or an array.
fn word_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The completion in percent at the spec's progress pointer: a number, or a numeric
/// string (`"45"`, `"45%"`); a fraction scaled to percent when the spec says so.
fn percent(spec: &Spec, body: &Value) -> Option<f64> {
    let rule = spec.progress.as_ref()?;
    let n = match rule.pointer.get(body)? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().trim_end_matches('%').trim().parse().ok()?,
        _ => return None,
    };
    let n = if rule.fraction { n * 100.0 } else { n };
    n.is_finite().then_some(n)
}

/// Classifies a body as the spec says.
///
/// | Body | Phase |
/// |---|---|
/// | `failure.when_present` and a non-null value at `failure.pointer` | `Failed` |
/// | a word of `status.pending` / `status.running` (any case) | `Pending` / `Running`, with progress |
/// | a word of `status.succeeded` | `Succeeded`: the value at `result.pointer` (the whole body without one) |
/// | a word of `status.failed` | `Failed`: the value at `failure.pointer` (the whole body without one) |
/// | any other word, or no status | `Running`, marked unrecognized (the poller logs it once per change and the deadline bounds it) |
pub fn classify(spec: &Spec, mut body: Value) -> SpecPhase {
    let word = word_of(spec.status.pointer.get(&body));
    let fail = |status: String, mut body: Value| {
        let error = match &spec.failure.pointer {
            Some(p) => p.take(&mut body).unwrap_or(Value::Null),
            None => body,
        };
        Phase::Failed(SpecFailure { status, error })
    };
    if spec.failure.when_present
        && let Some(p) = &spec.failure.pointer
        && p.get(&body).is_some_and(|v| !v.is_null())
    {
        return fail(word.unwrap_or_else(|| "(no status)".into()), body);
    }
    let progress = |status: String| {
        let p = Progress::new(status);
        match percent(spec, &body) {
            Some(n) => p.with_percent(n),
            None => p,
        }
    };
    let Some(word) = word else {
        let what = match spec.status.pointer.get(&body) {
            None | Some(Value::Null) => "(no status)",
            Some(_) => "(status is not a word)",
        };
        return Phase::Running(progress(what.to_owned()).unrecognized());
    };
    match spec.status.kind_of(&word) {
        Some(PhaseKind::Pending) => Phase::Pending(progress(word)),
        Some(PhaseKind::Running) => Phase::Running(progress(word)),
        Some(PhaseKind::Succeeded) => {
            let result = match &spec.result {
                Some(p) => p.take(&mut body).unwrap_or(Value::Null),
                None => body,
            };
            Phase::Succeeded(SpecOutput {
                status: word,
                result,
            })
        }
        Some(PhaseKind::Failed) => fail(word, body),
        None => Phase::Running(progress(word).unrecognized()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(extra: &str) -> Spec {
        let text = format!(
            r#"
            [request]
            url = "{{base_url}}/t/{{id}}"
            base_url = "https://api.example.com"
            [status]
            pointer = "/status"
            pending = ["queued"]
            running = ["Processing"]
            succeeded = ["done"]
            failed = ["error"]
            {extra}
            "#
        );
        Spec::parse(&text, "t.toml").unwrap()
    }

    #[test]
    fn words_are_compared_ignoring_case_and_kept_as_sent() {
        let s = spec("");
        match classify(&s, json!({"status": "PROCESSING"})) {
            Phase::Running(p) => {
                assert_eq!(p.status, "PROCESSING");
                assert!(p.recognized);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            classify(&s, json!({"status": "queued"})).kind(),
            PhaseKind::Pending
        );
    }

    #[test]
    fn unknown_words_and_missing_statuses_are_unrecognized_running() {
        let s = spec("");
        for (body, word) in [
            (json!({"status": "paused"}), "paused"),
            (json!({}), "(no status)"),
            (json!({"status": null}), "(no status)"),
            (json!({"status": {"a": 1}}), "(status is not a word)"),
            (json!("done"), "(no status)"),
        ] {
            match classify(&s, body) {
                Phase::Running(p) => {
                    assert_eq!(p.status, word);
                    assert!(!p.recognized);
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn result_and_failure_pointers() {
        let s = spec("[result]\npointer = \"/output\"\n[failure]\npointer = \"/error\"");
        match classify(&s, json!({"status": "done", "output": [1, 2]})) {
            Phase::Succeeded(o) => assert_eq!(o.result, json!([1, 2])),
            other => panic!("{other:?}"),
        }
        match classify(&s, json!({"status": "error", "error": "boom"})) {
            Phase::Failed(f) => {
                assert_eq!(f.error, json!("boom"));
                assert_eq!(f.status, "error");
            }
            other => panic!("{other:?}"),
        }
        // Without pointers: the whole body.
        match classify(&spec(""), json!({"status": "done", "x": 1})) {
            Phase::Succeeded(o) => assert_eq!(o.result, json!({"status": "done", "x": 1})),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_present_failure_fails_whatever_the_status() {
        let s = spec("[failure]\npointer = \"/error\"\nwhen_present = true");
        assert_eq!(
            classify(&s, json!({"status": "queued", "error": {"type": "X"}})).kind(),
            PhaseKind::Failed
        );
        assert_eq!(
            classify(&s, json!({"status": "queued", "error": null})).kind(),
            PhaseKind::Pending
        );
    }

    #[test]
    fn progress_as_percent_or_fraction() {
        let p = |extra: &str, body: Value| match classify(&spec(extra), body) {
            Phase::Running(p) | Phase::Pending(p) => p.percent,
            other => panic!("{other:?}"),
        };
        let percent = "[progress]\npointer = \"/p\"";
        let fraction = "[progress]\npointer = \"/p\"\nscale = \"fraction\"";
        assert_eq!(
            p(percent, json!({"status": "Processing", "p": 42})),
            Some(42.0)
        );
        assert_eq!(
            p(percent, json!({"status": "queued", "p": "42%"})),
            Some(42.0)
        );
        assert_eq!(
            p(fraction, json!({"status": "queued", "p": 0.25})),
            Some(25.0)
        );
        assert_eq!(
            p(percent, json!({"status": "queued", "p": 250})),
            Some(100.0)
        );
        assert_eq!(p(percent, json!({"status": "queued", "p": "lots"})), None);
    }

    #[test]
    fn statuses_by_default_and_by_spec() {
        let s = spec("[http]\nnot_yet_visible = [404]\ntransient = [409]\npermanent = [503]");
        assert_eq!(class_of(&s, 404, None), ErrorClass::NotYetVisible);
        assert_eq!(class_of(&s, 409, None), ErrorClass::TRANSIENT);
        assert_eq!(class_of(&s, 503, None), ErrorClass::Permanent);
        let d = spec("");
        assert_eq!(class_of(&d, 404, None), ErrorClass::Permanent);
        assert_eq!(
            class_of(&d, 429, None),
            ErrorClass::RateLimited { retry_after: None }
        );
        for code in [408, 425, 500, 502, 503, 504] {
            assert!(class_of(&d, code, None).is_transient(), "{code}");
        }
        for code in [400, 401, 403, 410, 422] {
            assert_eq!(class_of(&d, code, None), ErrorClass::Permanent, "{code}");
        }
    }

    #[test]
    fn a_429_waits_for_the_reset_header_without_retry_after() {
        let s = spec("[http]\nrate_limit_reset = \"x-ratelimit-reset-requests\"");
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset-requests", "6m0s".parse().unwrap());
        let err = answer(&s, 429, &h, b"{}").unwrap_err();
        assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(360)));
        h.insert("retry-after", "2".parse().unwrap());
        let err = answer(&s, 429, &h, b"{}").unwrap_err();
        assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(2)));
    }

    #[test]
    fn redirects_and_malformed_bodies() {
        let s = spec("");
        let mut h = HeaderMap::new();
        h.insert("location", "https://elsewhere.example/x".parse().unwrap());
        let err = answer(&s, 302, &h, b"").unwrap_err();
        assert!(matches!(err, SpecError::Redirect { .. }), "{err}");
        assert!(err.to_string().contains("elsewhere.example"));
        let err = answer(&s, 200, &HeaderMap::new(), b"<html>").unwrap_err();
        assert!(err.class().is_transient());
    }
}
