//! The exchange every adapter repeats: send a request, read its answer under the size
//! cap ([`send`]), say what an HTTP status means for a wait ([`status_class`]), and keep
//! what the answers said of the rate limit ([`RateLimitTracker`]).
//!
//! An adapter keeps only its vendor's knowledge: the headers it sends, which statuses
//! mean what for that vendor, and its error bodies.

use std::borrow::Cow;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use taskpoll::{ErrorClass, RateLimitHint};

use crate::{BodyError, Secret, Transport, read_capped};

/// One HTTP answer, its body read under the size cap.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body (empty when it was left unread: see [`unread_over`](Answer::unread_over)).
    pub body: Vec<u8>,
    /// For an error status whose body passed the cap, the cap: the body was left
    /// unread (an error body only words the message, and the status still says what
    /// the answer means: a 503 stays transient). `None` when the body was read.
    pub unread_over: Option<usize>,
    /// How long the request took, from sending to the end of the body.
    pub elapsed: Duration,
}

impl Answer {
    /// An answer as read (for tests, or an answer captured elsewhere).
    pub fn new(status: StatusCode, headers: HeaderMap, body: Vec<u8>) -> Self {
        Answer {
            status,
            headers,
            body,
            unread_over: None,
            elapsed: Duration::ZERO,
        }
    }

    /// The status as a number.
    pub fn code(&self) -> u16 {
        self.status.as_u16()
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The delay the answer asks for in `Retry-After` (see [`retry_after`](crate::retry_after())).
    pub fn retry_after(&self, now: SystemTime) -> Option<Duration> {
        crate::retry_after(&self.headers, now)
    }

    /// The body, or for a body left unread the note `(a body larger than the N-byte
    /// cap, not read)`.
    pub fn body_or_note(&self) -> Cow<'_, [u8]> {
        match self.unread_over {
            Some(cap) => Cow::Owned(
                format!("(a body larger than the {cap}-byte cap, not read)").into_bytes(),
            ),
            None => Cow::Borrowed(&self.body),
        }
    }

    /// The answer with every occurrence of each credential in its body replaced by
    /// `***` (see [`Secret::redact_in`]): nothing read from it can carry a key.
    pub fn redact(mut self, secrets: &[&Secret]) -> Self {
        for secret in secrets {
            self.body = secret.redact_in(std::mem::take(&mut self.body));
        }
        self
    }
}

/// Why an exchange got no answer to read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExchangeError {
    /// The request was not sent, or the connection failed before the answer was read.
    #[error(transparent)]
    Transport(#[from] Transport),
    /// A 2xx answer whose body is larger than the cap.
    #[error(
        "response body larger than the {cap}-byte cap (raise the adapter's max response size if this is expected)"
    )]
    TooLarge {
        /// The HTTP status.
        status: u16,
        /// The cap.
        cap: usize,
    },
}

/// Sends `request` and reads its answer, refusing a body past `cap` bytes: a 2xx one is
/// [`ExchangeError::TooLarge`], an error status's is left unread
/// ([`Answer::unread_over`]). Every `reqwest::Error` becomes a [`Transport`] (without
/// the URL, so without any key in its query).
pub async fn send(request: reqwest::RequestBuilder, cap: usize) -> Result<Answer, ExchangeError> {
    let started = tokio::time::Instant::now();
    let response = request.send().await.map_err(Transport::from)?;
    let status = response.status();
    let headers = response.headers().clone();
    let (body, unread_over) = match read_capped(response, cap).await {
        Ok(body) => (body, None),
        Err(BodyError::TooLarge { cap }) if status.is_success() => {
            return Err(ExchangeError::TooLarge {
                status: status.as_u16(),
                cap,
            });
        }
        Err(BodyError::TooLarge { cap }) => (Vec::new(), Some(cap)),
        Err(BodyError::Transport(t)) => return Err(t.into()),
    };
    Ok(Answer {
        status,
        headers,
        body,
        unread_over,
        elapsed: started.elapsed(),
    })
}

/// What an error status means for a wait, as most APIs use them: 429 rate limited,
/// 408 and 5xx transient (each after `retry_after` when the server asked for one), any
/// other status permanent (401, 403, every other 4xx). An adapter applies its vendor's
/// exceptions first.
pub fn status_class(status: u16, retry_after: Option<Duration>) -> ErrorClass {
    match status {
        429 => ErrorClass::RateLimited { retry_after },
        408 | 500..=599 => ErrorClass::Transient { retry_after },
        _ => ErrorClass::Permanent,
    }
}

/// The rate-limit state the last answers reported, as the [`RateLimitHint`] a source's
/// `rate_limit()` hands the scheduler, with a detail of the adapter's own (`T`: the
/// headers as read, say).
pub struct RateLimitTracker<T = ()> {
    last: Mutex<Option<(T, RateLimitHint)>>,
}

impl<T> Default for RateLimitTracker<T> {
    fn default() -> Self {
        RateLimitTracker {
            last: Mutex::new(None),
        }
    }
}

impl<T> fmt::Debug for RateLimitTracker<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitTracker").finish_non_exhaustive()
    }
}

impl<T: Clone> RateLimitTracker<T> {
    /// Nothing seen yet.
    pub fn new() -> Self {
        RateLimitTracker::default()
    }

    /// Records what `answer` said: `remaining` requests are left in a window that
    /// resets `reset` from now, unless the answer is a 429 with `Retry-After`, which
    /// says when instead. Without either delay nothing is recorded.
    pub fn record(&self, answer: &Answer, detail: T, remaining: u64, reset: Option<Duration>) {
        let retry = (answer.status == StatusCode::TOO_MANY_REQUESTS)
            .then(|| answer.retry_after(SystemTime::now()))
            .flatten();
        if let Some(until) = retry.or(reset) {
            let hint = RateLimitHint::new(remaining, tokio::time::Instant::now() + until);
            *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((detail, hint));
        }
    }

    /// The last hint recorded.
    pub fn hint(&self) -> Option<RateLimitHint> {
        self.last().map(|(_, hint)| hint)
    }

    /// The last detail and hint recorded.
    pub fn last(&self) -> Option<(T, RateLimitHint)> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The time from `now` to the instant in header `name`, read as Unix epoch seconds
/// (`X-RateLimit-Reset`); zero when it has passed.
pub fn until_epoch_header(headers: &HeaderMap, name: &str, now: SystemTime) -> Option<Duration> {
    let reset = crate::header_u64(headers, name)?;
    let now = now.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    Some(Duration::from_secs(reset).saturating_sub(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_by_default() {
        let after = Some(Duration::from_secs(2));
        assert_eq!(
            status_class(429, after),
            ErrorClass::RateLimited { retry_after: after }
        );
        for s in [408, 500, 502, 503, 504, 599] {
            assert_eq!(
                status_class(s, after),
                ErrorClass::Transient { retry_after: after },
                "{s}"
            );
        }
        for s in [400, 401, 403, 404, 409, 422, 302] {
            assert_eq!(status_class(s, after), ErrorClass::Permanent, "{s}");
        }
    }

    #[test]
    fn unread_bodies_read_as_a_note() {
        let mut a = Answer::new(StatusCode::BAD_GATEWAY, HeaderMap::new(), Vec::new());
        a.unread_over = Some(64);
        assert_eq!(
            &*a.body_or_note(),
            b"(a body larger than the 64-byte cap, not read)"
        );
        let a = Answer::new(StatusCode::OK, HeaderMap::new(), b"key-1234 k".to_vec())
            .redact(&[&Secret::new("key-1234")]);
        assert_eq!(a.body, b"*** k");
    }

    #[test]
    fn epoch_resets() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset", "1767225630, 1".parse().unwrap());
        assert_eq!(
            until_epoch_header(&h, "x-ratelimit-reset", now),
            Some(Duration::from_secs(30))
        );
        h.insert("x-ratelimit-reset", "1767225000".parse().unwrap());
        assert_eq!(
            until_epoch_header(&h, "x-ratelimit-reset", now),
            Some(Duration::ZERO)
        );
        assert_eq!(until_epoch_header(&h, "x-other", now), None);
    }
}
