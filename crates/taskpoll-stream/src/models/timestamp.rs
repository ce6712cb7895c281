//! [`Timestamp`]: a task's `created_at` / `updated_at` as Stream sends them.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::de::{self, Deserializer, Unexpected, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A task's `created_at` / `updated_at`, in whichever form Stream sent it.
///
/// The v2 endpoints (`/api/v2/tasks/{id}`) send integer Unix nanoseconds; the legacy chat
/// endpoints send RFC 3339 strings. Both are accepted on any path. Nanoseconds are
/// decoded as `i64` directly (values around 1.77e18 do not survive a trip through
/// `f64`); a fractional or exponent number is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Timestamp {
    /// Nanoseconds since the Unix epoch.
    UnixNanos(i64),
    /// An RFC 3339 string, kept exactly as sent (it is not validated when parsed; see
    /// [`unix_nanos`](Timestamp::unix_nanos)).
    Rfc3339(String),
}

impl Timestamp {
    /// Nanoseconds since the Unix epoch: the number itself, or the RFC 3339 string
    /// read (`None` when the string is not valid RFC 3339 or out of range).
    pub fn unix_nanos(&self) -> Option<i64> {
        match self {
            Timestamp::UnixNanos(ns) => Some(*ns),
            Timestamp::Rfc3339(s) => taskpoll_http::timestamp::Timestamp::parse_rfc3339(s)
                .ok()?
                .unix_nanos(),
        }
    }

    /// The instant as a [`SystemTime`], when it can be read.
    pub fn to_system_time(&self) -> Option<SystemTime> {
        let ns = self.unix_nanos()?;
        let magnitude = Duration::from_nanos(ns.unsigned_abs());
        if ns >= 0 {
            SystemTime::UNIX_EPOCH.checked_add(magnitude)
        } else {
            SystemTime::UNIX_EPOCH.checked_sub(magnitude)
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Timestamp::UnixNanos(ns) => write!(f, "{ns}"),
            Timestamp::Rfc3339(s) => f.write_str(s),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Timestamp::UnixNanos(ns) => s.serialize_i64(*ns),
            Timestamp::Rfc3339(text) => s.serialize_str(text),
        }
    }
}

struct TimestampVisitor;

impl Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("integer Unix nanoseconds or an RFC 3339 string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
        Ok(Timestamp::UnixNanos(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
        i64::try_from(v)
            .map(Timestamp::UnixNanos)
            .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
        Err(E::invalid_type(Unexpected::Float(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
        Ok(Timestamp::Rfc3339(v.to_owned()))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TimestampVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Option<i64> {
        Timestamp::Rfc3339(s.into()).unix_nanos()
    }

    /// Read exactly, by taskpoll-http's timestamp module (its tests have every form).
    #[test]
    fn rfc3339_forms() {
        assert_eq!(ts("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            ts("2026-01-01T01:00:00.123456789+01:00"),
            Some(1_767_225_600_123_456_789)
        );
        for bad in [
            "2025-02-29T00:00:00Z",
            "2026-01-01T00:00:00+0100",
            "2026-01-01",
        ] {
            assert_eq!(ts(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn nanosecond_integers_are_exact() {
        let t: Timestamp = serde_json::from_str("1767225601987654321").unwrap();
        assert_eq!(t, Timestamp::UnixNanos(1_767_225_601_987_654_321));
        assert_eq!(serde_json::to_string(&t).unwrap(), "1767225601987654321");
        assert!(serde_json::from_str::<Timestamp>("1.767225601987654e18").is_err());
        assert!(serde_json::from_str::<Timestamp>("18446744073709551615").is_err());
        assert_eq!(
            serde_json::from_str::<Timestamp>("-5").unwrap(),
            Timestamp::UnixNanos(-5)
        );
        let t = Timestamp::UnixNanos(1_500_000_000);
        assert_eq!(
            t.to_system_time(),
            Some(SystemTime::UNIX_EPOCH + Duration::from_millis(1500))
        );
    }
}
