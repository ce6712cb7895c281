//! [`Timestamp`]: the vendors' RFC 3339 timestamps, read and written, and the civil
//! calendar under them (proleptic Gregorian, UTC).
//!
//! One parser reads RFC 3339 exactly ([`Timestamp::parse_rfc3339`]: Stream's legacy
//! endpoints) or with the liberties vendors take ([`Timestamp::parse`]: Redis Cloud's
//! Spring offsets `+0000` and `+00`); one formatter writes any number of fractional
//! digits and any offset ([`Timestamp::format`]: the simulators write each vendor's
//! form with it).

use std::fmt;
use std::time::{Duration, SystemTime};

/// An instant: seconds since the Unix epoch (negative before it) and nanoseconds past
/// that second.
///
/// ```
/// use taskpoll_http::timestamp::Timestamp;
///
/// let t = Timestamp::parse("2024-05-10T14:14:14.736763484Z")?;
/// assert_eq!(t.unix_seconds(), 1_715_350_454);
/// assert_eq!(t.subsec_nanos(), 736_763_484);
/// let short = Timestamp::parse("2026-01-01T10:05:42.87Z")?;
/// assert_eq!(short.subsec_nanos(), 870_000_000);
/// assert_eq!(Timestamp::parse("2023-06-21T13:51:50.571+0000")?.to_string(), "2023-06-21T13:51:50.571Z");
/// assert_eq!(short.format(3, false, "+00:00"), "2026-01-01T10:05:42.870+00:00");
/// # Ok::<(), taskpoll_http::timestamp::TimestampError>(())
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

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month, day) `days` after 1970-01-01 (before it when negative).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
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

/// The number of days in `month` (1 to 12) of `year`.
pub fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Timestamp {
    /// `secs` since the Unix epoch and `nanos` past that second (at most 999,999,999).
    pub fn from_unix(secs: i64, nanos: u32) -> Self {
        Timestamp {
            secs: secs + i64::from(nanos / 1_000_000_000),
            nanos: nanos % 1_000_000_000,
        }
    }

    /// Nanoseconds since the Unix epoch.
    pub fn from_unix_nanos(nanos: i64) -> Self {
        Timestamp {
            secs: nanos.div_euclid(1_000_000_000),
            nanos: u32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or_default(),
        }
    }

    /// A `SystemTime` (one before the epoch reads as the epoch).
    pub fn from_system_time(at: SystemTime) -> Self {
        let since = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        Timestamp {
            secs: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            nanos: since.subsec_nanos(),
        }
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.f…]` followed by `Z` or an offset (`+00:00`,
    /// `+0000`, `+00`), around which spaces are ignored. Any number of fractional
    /// digits is accepted; past 9 they are dropped. A leap second reads as :59.
    pub fn parse(input: &str) -> Result<Self, TimestampError> {
        parse(input, false)
    }

    /// Parses RFC 3339 exactly: `YYYY-MM-DDTHH:MM:SS[.f…]` (`T`, `t` or a space between
    /// date and time) followed by `Z` or `±HH:MM`, a day that exists in its month,
    /// nothing around it. Past 9 fractional digits are dropped.
    pub fn parse_rfc3339(input: &str) -> Result<Self, TimestampError> {
        parse(input, true)
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> i64 {
        self.secs
    }

    /// Nanoseconds past the second.
    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// Nanoseconds since the Unix epoch (`None` out of `i64`'s range).
    pub fn unix_nanos(&self) -> Option<i64> {
        self.secs
            .checked_mul(1_000_000_000)?
            .checked_add(i64::from(self.nanos))
    }

    /// As a `SystemTime` (`None` before the epoch).
    pub fn to_system_time(&self) -> Option<SystemTime> {
        let secs = u64::try_from(self.secs).ok()?;
        SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs, self.nanos))
    }

    /// `YYYY-MM-DDTHH:MM:SS` in UTC, then `digits` fractional digits (0 to 9,
    /// truncated), then `suffix` (`"Z"`, `"+00:00"`). With `trim`, trailing zeros are
    /// dropped, and the point too when no digit is left.
    pub fn format(&self, digits: u32, trim: bool, suffix: &str) -> String {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let (hh, mm, ss) = (rem / 3600, (rem % 3600) / 60, rem % 60);
        let mut out = format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}");
        let digits = digits.min(9);
        let scaled = self.nanos / 10u32.pow(9 - digits);
        let mut frac = if digits == 0 {
            String::new()
        } else {
            format!("{scaled:0width$}", width = digits as usize)
        };
        if trim {
            frac.truncate(frac.trim_end_matches('0').len());
        }
        if !frac.is_empty() {
            out.push('.');
            out.push_str(&frac);
        }
        out.push_str(suffix);
        out
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, with as many fractional digits as needed (none for whole
    /// seconds).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format(9, true, "Z"))
    }
}

/// The one parser: `strict` for RFC 3339 exactly, else with the vendors' liberties.
fn parse(input: &str, strict: bool) -> Result<Timestamp, TimestampError> {
    let err = |reason| TimestampError {
        input: input.to_owned(),
        reason,
    };
    let s = if strict { input } else { input.trim() }.as_bytes();
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
    let last_day = if strict && (1..=12).contains(&month) {
        days_in_month(year, month)
    } else {
        31
    };
    if !(1..=12).contains(&month) || !(1..=last_day).contains(&day) {
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
                4 if !strict => (num(i + 1..i + 3)?, num(i + 3..i + 5)?),
                2 if !strict => (num(i + 1..i + 3)?, 0),
                _ => return Err(err("malformed offset")),
            };
            if strict && (h > 23 || m > 59) {
                return Err(err("offset out of range"));
            }
            let secs = h * 3600 + m * 60;
            if *sign == b'+' { secs } else { -secs }
        }
        None => return Err(err("missing offset (Z or +HH:MM)")),
        _ => return Err(err("unexpected characters after the time")),
    };
    // RFC 3339 read exactly keeps a leap second (:60 is the next minute's :00).
    let second = if strict { second } else { second.min(59) };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Ok(Timestamp { secs, nanos })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict(s: &str) -> Option<i64> {
        Timestamp::parse_rfc3339(s).ok()?.unix_nanos()
    }

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

    #[test]
    fn rfc3339_exactly() {
        assert_eq!(strict("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            strict("2026-01-01T00:00:04.555000Z"),
            Some(1_767_225_604_555_000_000)
        );
        assert_eq!(
            strict("2026-01-01T00:00:00.1234567891Z"),
            Some(1_767_225_600_123_456_789)
        );
        assert_eq!(
            strict("2025-12-31t19:00:00-05:00"),
            Some(1_767_225_600_000_000_000)
        );
        assert_eq!(
            strict("2000-02-29 00:00:00Z"),
            Some(951_782_400_000_000_000)
        );
        for bad in [
            "",
            "2026-01-01",
            "2026-01-01T00:00:00",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+0100",
            "2026-01-01T00:00:00+24:00",
            "2026-01-01T00:00:00Zjunk",
            " 2026-01-01T00:00:00Z",
            "２026-01-01T00:00:00Z",
        ] {
            assert_eq!(strict(bad), None, "{bad:?}");
        }
        // The liberal form takes what the strict one refuses.
        assert!(Timestamp::parse(" 2026-01-01T00:00:00+0100 ").is_ok());
    }

    #[test]
    fn formats() {
        assert_eq!(
            Timestamp::from_unix(0, 0).format(0, false, ""),
            "1970-01-01T00:00:00"
        );
        assert_eq!(
            Timestamp::from_unix(951_782_400, 0).format(0, false, ""),
            "2000-02-29T00:00:00"
        );
        assert_eq!(
            Timestamp::from_unix(-1, 0).format(0, false, ""),
            "1969-12-31T23:59:59"
        );
        let t = Timestamp::from_unix(1_767_261_942, 929_904_847);
        assert_eq!(t.format(9, true, "Z"), "2026-01-01T10:05:42.929904847Z");
        assert_eq!(t.format(6, true, "Z"), "2026-01-01T10:05:42.929904Z");
        assert_eq!(
            t.format(3, false, "+00:00"),
            "2026-01-01T10:05:42.929+00:00"
        );
        assert_eq!(
            Timestamp::from_unix(1_767_261_942, 870_000_000).format(9, true, "Z"),
            "2026-01-01T10:05:42.87Z"
        );
        assert_eq!(
            Timestamp::from_unix(0, 0).format(3, true, "Z"),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(
            Timestamp::from_unix_nanos(951_782_400_000_001_000).format(6, false, "Z"),
            "2000-02-29T00:00:00.000001Z"
        );
        for days in [-800_000, -1, 0, 59, 11_016, 20_454, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
