//! The delays a server asks for: `Retry-After` (seconds or an HTTP date) and integer
//! headers.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// The delay a response asks for in `Retry-After`: whole seconds or an HTTP date (a
/// past date is zero). With a comma-separated value the first non-empty item counts.
/// `None` when absent or unparsable.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(raw, now)
}

/// Parses a `Retry-After` value (see [`retry_after`]).
pub fn parse_retry_after(raw: &str, now: SystemTime) -> Option<Duration> {
    let raw = raw.trim();
    // An HTTP date has commas of its own ("Thu, 01 Jan 2026 ..."): try it whole first.
    if let Ok(at) = httpdate::parse_http_date(raw) {
        return Some(at.duration_since(now).unwrap_or(Duration::ZERO));
    }
    let first = raw.split(',').map(str::trim).find(|s| !s.is_empty())?;
    first.parse::<u64>().ok().map(Duration::from_secs)
}

/// The first non-empty item of a possibly comma-separated header, as an integer.
pub fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    let raw = headers.get(name)?.to_str().ok()?;
    raw.split(',')
        .map(str::trim)
        .find(|s| !s.is_empty())?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after(" , 7, 9", now),
            Some(Duration::from_secs(7))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
