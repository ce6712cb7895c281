//! Calendar arithmetic the simulators share to write timestamps.

use std::time::{Duration, SystemTime};

/// `YYYY-MM-DDTHH:MM:SS` in UTC for `secs` since the Unix epoch (negative before it).
pub(crate) fn civil_seconds(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}")
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC and the nanoseconds past that second.
pub(crate) fn civil(at: SystemTime) -> (String, u32) {
    let since = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let secs = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
    (civil_seconds(secs), since.subsec_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(civil_seconds(0), "1970-01-01T00:00:00");
        assert_eq!(civil_seconds(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(civil_seconds(1_767_225_604), "2026-01-01T00:00:04");
        assert_eq!(civil_seconds(-1), "1969-12-31T23:59:59");
    }
}
