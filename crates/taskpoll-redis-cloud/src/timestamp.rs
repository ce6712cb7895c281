//! [`Timestamp`]: Redis Cloud's RFC 3339 timestamps, with 0 to 9 fractional digits.

use std::fmt;
use std::time::{Duration, SystemTime};

/// An instant as Redis Cloud writes it: `2024-05-10T14:14:14.736763484Z`,
/// `2026-01-01T10:05:42.87Z`, or Spring's `2023-06-21T13:51:50.571+0000`.
///
/// ```
/// use taskpoll_redis_cloud::Timestamp;
///
/// let t = Timestamp::parse("2024-05-10T14:14:14.736763484Z")?;
/// assert_eq!(t.unix_seconds(), 1_715_350_454);
/// assert_eq!(t.subsec_nanos(), 736_763_484);
/// let short = Timestamp::parse("2026-01-01T10:05:42.87Z")?;
/// assert_eq!(short.subsec_nanos(), 870_000_000);
/// assert_eq!(Timestamp::parse("2023-06-21T13:51:50.571+0000")?.to_string(), "2023-06-21T13:51:50.571Z");
/// # Ok::<(), taskpoll_redis_cloud::TimestampError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

/// A timestamp that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid timestamp {input:?}: {reason}")]
pub struct TimestampError {
    /// The text.
    pub input: String,
    /// What is wrong.
    pub reason: &'static str,
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.f…]` followed by `Z` or an offset (`+00:00`,
    /// `+0000`). Any number of fractional digits is accepted; past 9 they are dropped.
    pub fn parse(input: &str) -> Result<Self, TimestampError> {
        let err = |reason| TimestampError {
            input: input.to_owned(),
            reason,
        };
        let s = input.trim().as_bytes();
        let num = |range: std::ops::Range<usize>| -> Result<i64, TimestampError> {
            let part = s.get(range).ok_or_else(|| err("too short"))?;
            if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
                return Err(err("expected digits"));
            }
            Ok(part
                .iter()
                .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0')))
        };
        let sep = |i: usize, allowed: &[u8]| -> Result<(), TimestampError> {
            match s.get(i) {
                Some(b) if allowed.contains(b) => Ok(()),
                _ => Err(err("unexpected separator")),
            }
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        sep(4, b"-")?;
        sep(7, b"-")?;
        sep(10, b"Tt ")?;
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        sep(13, b":")?;
        sep(16, b":")?;
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return Err(err("date out of range"));
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err(err("time out of range"));
        }
        let mut i = 19;
        let mut nanos: u32 = 0;
        if s.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while let Some(b) = s.get(i).filter(|b| b.is_ascii_digit()) {
                let digit = i - start;
                if digit < 9 {
                    nanos += u32::from(b - b'0') * 10u32.pow(8 - digit as u32);
                }
                i += 1;
            }
            if i == start {
                return Err(err("expected fractional digits after '.'"));
            }
        }
        let offset_secs = match s.get(i) {
            Some(b'Z' | b'z') if i + 1 == s.len() => 0,
            Some(sign @ (b'+' | b'-')) => {
                let rest = s.get(i + 1..).unwrap_or_default();
                let (h, m) = match rest.len() {
                    5 if rest.get(2) == Some(&b':') => (num(i + 1..i + 3)?, num(i + 4..i + 6)?),
                    4 => (num(i + 1..i + 3)?, num(i + 3..i + 5)?),
                    2 => (num(i + 1..i + 3)?, 0),
                    _ => return Err(err("malformed offset")),
                };
                let secs = h * 3600 + m * 60;
                if *sign == b'+' { secs } else { -secs }
            }
            None => return Err(err("missing offset (Z or +HH:MM)")),
            _ => return Err(err("unexpected characters after the time")),
        };
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset_secs;
        Ok(Timestamp { secs, nanos })
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> i64 {
        self.secs
    }

    /// Nanoseconds past the second.
    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// As a `SystemTime` (`None` before the epoch).
    pub fn to_system_time(&self) -> Option<SystemTime> {
        let secs = u64::try_from(self.secs).ok()?;
        SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs, self.nanos))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, with as many fractional digits as needed (none for whole
    /// seconds).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60
        )?;
        if self.nanos > 0 {
            let frac = format!("{:09}", self.nanos);
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fraction_width() {
        let cases = [
            ("2019-08-08T09:07:39Z", 0),
            ("2019-08-08T09:07:39.8Z", 800_000_000),
            ("2019-08-08T09:07:39.82Z", 820_000_000),
            ("2019-08-08T09:07:39.826Z", 826_000_000),
            ("2023-06-21T13:21:03.96463Z", 964_630_000),
            ("2024-04-15T10:19:07.331898Z", 331_898_000),
            ("2024-07-16T09:26:40.929904847Z", 929_904_847),
            ("2024-07-16T09:26:40.9299048471234Z", 929_904_847),
        ];
        for (s, nanos) in cases {
            let t = Timestamp::parse(s).unwrap();
            assert_eq!(t.subsec_nanos(), nanos, "{s}");
        }
    }

    #[test]
    fn offsets() {
        let z = Timestamp::parse("2023-06-21T13:51:50.571Z").unwrap();
        for s in [
            "2023-06-21T13:51:50.571+0000",
            "2023-06-21T13:51:50.571+00:00",
            "2023-06-21T15:51:50.571+02:00",
            "2023-06-21T11:51:50.571-02",
        ] {
            assert_eq!(Timestamp::parse(s).unwrap(), z, "{s}");
        }
        assert_eq!(z.unix_seconds(), 1_687_355_510);
        assert_eq!(z.to_string(), "2023-06-21T13:51:50.571Z");
    }

    #[test]
    fn refusals() {
        for s in [
            "",
            "2023-06-21",
            "2023-06-21T13:51:50",
            "2023-06-21T13:51:50.Z",
            "2023-13-21T13:51:50Z",
            "2023-06-21T13:51:50Zjunk",
            "2023-06-21T13:51:50+1",
            "yesterday",
        ] {
            assert!(Timestamp::parse(s).is_err(), "{s}");
        }
    }
}
