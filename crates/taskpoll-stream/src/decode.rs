//! Reading Stream's HTTP answers (pure: no I/O): a 2xx body as the call's type,
//! anything else as the matching [`StreamError`], with the delay Stream asked for.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use taskpoll_http::exchange::{Answer, until_epoch_header};
use taskpoll_http::{BodyError, Secret, excerpt, header_u64, retry_after};

use crate::error::{ApiFailure, RateLimit, StreamError};
use crate::models::ApiError;

/// Stream's operation name of the task status call.
pub(crate) const GET_TASK: &str = "GetTask";

/// When Stream's rate-limit window resets, in Unix epoch seconds.
const RESET: &str = "x-ratelimit-reset";

/// Replaces every occurrence of a credential in text that came from the network.
pub(crate) fn scrub(text: &str, secrets: &[&Secret]) -> String {
    secrets
        .iter()
        .fold(text.to_owned(), |t, s| s.redact_text(&t))
}

/// The three `X-RateLimit-*` headers, when all came.
pub(crate) fn rate_limit(headers: &HeaderMap) -> Option<RateLimit> {
    Some(RateLimit {
        limit: header_u64(headers, "x-ratelimit-limit")?,
        remaining: header_u64(headers, "x-ratelimit-remaining")?,
        reset: header_u64(headers, RESET)?,
    })
}

/// The time from `now` to `X-RateLimit-Reset` (Unix epoch seconds); zero when it has
/// passed.
pub(crate) fn until_reset(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    until_epoch_header(headers, RESET, now)
}

/// Reads an answer to `operation`: a 2xx body as `T` (`expected` names it in errors),
/// anything else as an error. `secrets` are scrubbed from every text taken from the
/// answer.
pub(crate) fn decode<T: DeserializeOwned>(
    operation: &'static str,
    answer: &Answer,
    expected: &'static str,
    secrets: &[&Secret],
) -> Result<T, StreamError> {
    let code = answer.code();
    let body = &answer.body;
    if answer.is_success() {
        return parse(body, expected, secrets).map_err(|what| StreamError::Malformed {
            operation,
            status: code,
            expected,
            what,
            excerpt: scrub(&excerpt(body), secrets),
        });
    }
    let unread = answer
        .unread_over
        .map(|cap| format!("({})", BodyError::TooLarge { cap }));
    let failure = Box::new(failure(
        operation,
        code,
        &answer.headers,
        body,
        unread,
        secrets,
        SystemTime::now(),
    ));
    Err(match code {
        429 => StreamError::RateLimited(failure),
        401 => StreamError::Unauthorized(failure),
        403 => StreamError::Forbidden(failure),
        404 => StreamError::NotFound(failure),
        500..=599 => StreamError::Server(failure),
        _ => StreamError::Rejected(failure),
    })
}

/// Parses a JSON body; on failure, says what was wrong, where (line, column) and at
/// which JSON path.
fn parse<T: DeserializeOwned>(
    body: &[u8],
    expected: &str,
    secrets: &[&Secret],
) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let what = if inner.is_syntax() || inner.is_eof() {
            format!("it is not valid JSON ({inner})")
        } else if path == "." {
            format!("{inner}")
        } else {
            format!("{inner} (at `{path}`)")
        };
        scrub(&what, secrets)
    })?;
    de.end()
        .map_err(|e| format!("{expected} followed by more data ({e})"))?;
    Ok(value)
}

/// An error answer: its `APIError` body or an excerpt, and the delay asked for.
fn failure(
    operation: &'static str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    unread: Option<String>,
    secrets: &[&Secret],
    now: SystemTime,
) -> ApiFailure {
    let error = serde_json::from_slice::<ApiError>(body).ok().map(|mut e| {
        e.message = scrub(&e.message, secrets);
        for v in e.exception_fields.values_mut() {
            *v = scrub(v, secrets);
        }
        e
    });
    let body_excerpt = match (&error, unread) {
        (Some(_), _) => None,
        (None, Some(unread)) => Some(unread),
        (None, None) => Some(scrub(&excerpt(body), secrets)),
    };
    let mut delay = retry_after(headers, now);
    if delay.is_none() && status == 429 {
        delay = until_reset(headers, now);
    }
    ApiFailure {
        operation,
        status,
        error,
        body_excerpt,
        retry_after: delay,
        rate_limit: rate_limit(headers),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{StartResponse, TaskResponse};
    use reqwest::StatusCode;
    use reqwest::header::HeaderValue;

    fn answer(status: u16, headers: &HeaderMap, body: &[u8]) -> Answer {
        Answer::new(
            StatusCode::from_u16(status).unwrap(),
            headers.clone(),
            body.to_vec(),
        )
    }

    fn task(status: u16, headers: &HeaderMap, body: &[u8]) -> Result<TaskResponse, StreamError> {
        let (key, secret) = (Secret::new("KEY-123"), Secret::new("SECRET-456"));
        decode(
            GET_TASK,
            &answer(status, headers, body),
            "a task response",
            &[&key, &secret],
        )
    }

    #[test]
    fn malformed_bodies_say_what_and_where() {
        let h = HeaderMap::new();
        let cases: [(&[u8], &str); 6] = [
            (
                b"<<garbage>> not json {",
                "it is not valid JSON (expected value at line 1 column 1)",
            ),
            (
                b"{\"task_id\":\"t\",\"sta",
                "it is not valid JSON (EOF while parsing a string at line 1 column 19)",
            ),
            (
                b"",
                "it is not valid JSON (EOF while parsing a value at line 1 column 0)",
            ),
            (
                b"{\"task_id\":\"t\"}",
                "missing field `status` at line 1 column 15",
            ),
            (
                b"{\"status\":\"running\",\"created_at\":1.5e18}",
                "invalid type: floating point `1.5e+18`, expected integer Unix nanoseconds or an RFC 3339 string at line 1 column 39 (at `created_at`)",
            ),
            (
                b"{\"status\":\"running\"} {}",
                "a task response followed by more data (trailing characters at line 1 column 22)",
            ),
        ];
        for (body, what) in cases {
            let err = task(200, &h, body).unwrap_err();
            match &err {
                StreamError::Malformed { what: w, .. } => assert_eq!(w, what),
                other => panic!("{other:?}"),
            }
            assert!(err.is_transient());
        }
    }

    #[test]
    fn error_bodies_that_are_not_api_errors_are_kept_as_excerpts() {
        let h = HeaderMap::new();
        let err = task(502, &h, b"<html><body>502 Bad Gateway</body></html>").unwrap_err();
        let f = err.api_failure().unwrap();
        assert_eq!(f.error, None);
        assert_eq!(
            f.body_excerpt.as_deref(),
            Some("<html><body>502 Bad Gateway</body></html>")
        );
        assert!(err.is_transient());
        let err = task(500, &h, b"").unwrap_err();
        assert!(
            err.to_string().contains("HTTP 500 with an empty body"),
            "{err}"
        );
        // JSON that is not an APIError.
        let err = task(400, &h, b"{\"error\":\"nope\"}").unwrap_err();
        assert!(matches!(err, StreamError::Rejected(_)));
        assert_eq!(err.code(), None);
    }

    #[test]
    fn credentials_are_scrubbed_from_answers() {
        let h = HeaderMap::new();
        let err = task(
            401,
            &h,
            br#"{"code":2,"message":"api_key KEY-123 not valid","StatusCode":401,"duration":"1ms","more_info":"","details":[],"exception_fields":{"api_key":"KEY-123"}}"#,
        )
        .unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains("KEY-123"), "{text}");
        let err = task(403, &h, b"secret SECRET-456 leaked").unwrap_err();
        assert!(!format!("{err} {err:?}").contains("SECRET-456"));
        let err = task(200, &h, b"SECRET-456").unwrap_err();
        assert!(!format!("{err} {err:?}").contains("SECRET-456"));
    }

    #[test]
    fn only_credentials_of_a_real_length_are_scrubbed() {
        let secret = |s: &str| Secret::new(s);
        assert_eq!(
            scrub("a key abc123 here", &[&secret("abc123")]),
            "a key *** here"
        );
        let short = [secret("s"), secret("k"), secret("")];
        assert_eq!(
            scrub("it is ok", &short.iter().collect::<Vec<_>>()),
            "it is ok"
        );
    }

    #[test]
    fn rate_limit_delay_prefers_retry_after_then_the_window_reset() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit", HeaderValue::from_static("60, 60"));
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_static("1767225630, 1767225690"),
        );
        let f = failure(GET_TASK, 429, &h, b"{}", None, &[], now);
        assert_eq!(f.retry_after, Some(Duration::from_secs(30)));
        assert_eq!(
            f.rate_limit,
            Some(RateLimit {
                limit: 60,
                remaining: 0,
                reset: 1_767_225_630
            })
        );
        h.insert("retry-after", HeaderValue::from_static("2"));
        let f = failure(GET_TASK, 429, &h, b"{}", None, &[], now);
        assert_eq!(f.retry_after, Some(Duration::from_secs(2)));
        // A reset in the past is no delay.
        h.remove("retry-after");
        h.insert("x-ratelimit-reset", HeaderValue::from_static("1767225000"));
        let f = failure(GET_TASK, 429, &h, b"{}", None, &[], now);
        assert_eq!(f.retry_after, Some(Duration::ZERO));
        // The window reset only counts for 429s.
        h.insert("x-ratelimit-reset", HeaderValue::from_static("1767225630"));
        let f = failure(GET_TASK, 503, &h, b"{}", None, &[], now);
        assert_eq!(f.retry_after, None);
    }

    #[test]
    fn unrecoverable_makes_any_error_permanent() {
        let h = HeaderMap::new();
        for status in [429, 500, 503] {
            let body = format!(
                r#"{{"code":9,"message":"m","StatusCode":{status},"duration":"1ms","more_info":"","details":[],"unrecoverable":true}}"#
            );
            let err = task(status, &h, body.as_bytes()).unwrap_err();
            assert_eq!(err.class(), taskpoll::ErrorClass::Permanent, "{status}");
        }
    }

    #[test]
    fn start_replies_need_a_task_id() {
        let h = HeaderMap::new();
        for body in [
            &b"{\"task_id\":\"t-1\",\"duration\":\"1ms\"}"[..],
            b"{\"task_id\":null}",
            b"{\"duration\":\"1ms\"}",
        ] {
            let r: StartResponse =
                decode("StartCall", &answer(201, &h, body), "a start response", &[]).unwrap();
            assert_eq!(r.task_id.is_some(), body.starts_with(b"{\"task_id\":\"t"));
        }
    }
}
