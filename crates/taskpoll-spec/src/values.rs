//! The values a spec's fields hold: JSON pointers, durations, request rates, and the
//! rate-limit reset headers of an answer.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde_json::Value;

/// An RFC 6901 JSON pointer (`/status`, `/response/error`, `/a~1b` for the key `a/b`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pointer(String);

impl Pointer {
    /// Checks a pointer: it starts with `/`, and every `~` is followed by `0` or `1`.
    pub fn parse(text: &str) -> Result<Pointer, String> {
        if !text.starts_with('/') {
            return Err(format!(
                "{text:?} is not a JSON pointer: it must start with / (RFC 6901), e.g. \"/status\" or \"/data/0/state\""
            ));
        }
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                return Err(format!(
                    "{text:?} is not a JSON pointer: ~ must be followed by 0 (for ~) or 1 (for /)"
                ));
            }
        }
        Ok(Pointer(text.to_owned()))
    }

    /// The value it points at in `value`.
    pub fn get<'a>(&self, value: &'a Value) -> Option<&'a Value> {
        value.pointer(&self.0)
    }

    /// The value it points at, taken out of `value` (left `null`).
    pub fn take(&self, value: &mut Value) -> Option<Value> {
        value.pointer_mut(&self.0).map(Value::take)
    }

    /// The pointer's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A human duration: `500ms`, `30s`, `5min`, `1h 30m`, `2d`; a bare number is seconds.
/// The syntax of a spec's durations, and of the `taskpoll` command's duration flags.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(secs)
            .map_err(|e| format!("invalid duration {text:?}: {e}"));
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("invalid duration {text:?}: {e} (examples: 500ms, 30s, 5min, 1h 30m)"))
}

/// A backoff range, `MIN..MAX` (e.g. `1s..30s`): a spec's `backoff`, and the command's
/// `--backoff`.
pub fn parse_backoff(text: &str) -> Result<(Duration, Duration), String> {
    let (min, max) = text
        .split_once("..")
        .ok_or_else(|| format!("invalid backoff {text:?}: expected MIN..MAX, e.g. \"1s..30s\""))?;
    let (min, max) = (parse_duration(min)?, parse_duration(max)?);
    if min > max || max.is_zero() {
        return Err(format!(
            "invalid backoff {text:?}: MIN must not exceed MAX, and MAX must be positive"
        ));
    }
    Ok((min, max))
}

/// A request rate, `N/PERIOD` (`400/1m`, `60/10s`, `5/s`): at most N requests in any
/// window of PERIOD. A spec's `rate`, and the command's `--rate`.
pub fn parse_rate(text: &str) -> Result<(u32, Duration), String> {
    let usage =
        || format!("invalid rate {text:?}: expected N/PERIOD, e.g. \"400/1m\" or \"60/10s\"");
    let (n, period) = text.trim().split_once('/').ok_or_else(usage)?;
    let requests: u32 = n.trim().parse().map_err(|_| usage())?;
    let period = period.trim();
    let period = if period.starts_with(|c: char| c.is_ascii_digit()) {
        parse_duration(period)?
    } else {
        parse_duration(&format!("1{period}"))?
    };
    if requests == 0 || period.is_zero() {
        return Err(format!(
            "invalid rate {text:?}: N and PERIOD must be greater than zero"
        ));
    }
    Ok((requests, period))
}

/// Values of a rate-limit reset header at or above this are Unix epoch seconds; below it,
/// seconds from now (no API resets a window 30 years away).
const EPOCH_THRESHOLD: u64 = 1_000_000_000;

/// The time until a rate-limit window resets, from a reset header's value (the first
/// item of a comma-separated list): Unix epoch seconds (`1767225600`), seconds from now
/// (`30`, `1.5`), or a duration (`1s`, `6m0s`, `12ms`, as OpenAI sends). `None` when
/// unreadable.
pub(crate) fn parse_reset(raw: &str, now: SystemTime) -> Option<Duration> {
    let raw = raw.split(',').map(str::trim).find(|s| !s.is_empty())?;
    if let Ok(n) = raw.parse::<u64>() {
        if n >= EPOCH_THRESHOLD {
            let since = now.duration_since(SystemTime::UNIX_EPOCH).ok()?;
            return Some(Duration::from_secs(n).saturating_sub(since));
        }
        return Some(Duration::from_secs(n));
    }
    if let Ok(secs) = raw.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    humantime::parse_duration(raw).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers() {
        assert!(Pointer::parse("/status").is_ok());
        assert!(Pointer::parse("/a~1b/~0c").is_ok());
        assert!(Pointer::parse("status").is_err());
        assert!(Pointer::parse("").is_err());
        assert!(Pointer::parse("/a~2").is_err());
        let v = serde_json::json!({"a/b": {"~c": 1}});
        assert_eq!(
            Pointer::parse("/a~1b/~0c").unwrap().get(&v),
            Some(&serde_json::json!(1))
        );
    }

    #[test]
    fn durations_rates_backoffs() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_rate("400/1m"), Ok((400, Duration::from_secs(60))));
        assert_eq!(parse_rate("5/s"), Ok((5, Duration::from_secs(1))));
        assert!(parse_rate("0/1m").is_err());
        assert!(parse_rate("400").is_err());
        assert_eq!(
            parse_backoff("1s..30s"),
            Ok((Duration::from_secs(1), Duration::from_secs(30)))
        );
        assert!(parse_backoff("30s..1s").is_err());
    }

    #[test]
    fn reset_headers() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let secs = Duration::from_secs;
        assert_eq!(parse_reset("1767225630", now), Some(secs(30)));
        assert_eq!(parse_reset("1767225000", now), Some(Duration::ZERO));
        assert_eq!(parse_reset("20", now), Some(secs(20)));
        assert_eq!(parse_reset("1.5", now), Some(Duration::from_millis(1500)));
        assert_eq!(parse_reset("6m0s", now), Some(secs(360)));
        assert_eq!(parse_reset("12ms", now), Some(Duration::from_millis(12)));
        assert_eq!(parse_reset(" , 7", now), Some(secs(7)));
        assert_eq!(parse_reset("soon", now), None);
    }
}
