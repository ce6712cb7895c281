//! The simulators' timestamps: written with taskpoll-http's one calendar
//! ([`Timestamp::format`]), so a simulator and the adapter that reads its answers
//! agree on every date.

pub(crate) use taskpoll_http::timestamp::Timestamp;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        let civil = |secs| Timestamp::from_unix(secs, 0).format(0, false, "");
        assert_eq!(civil(0), "1970-01-01T00:00:00");
        assert_eq!(civil(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(civil(1_767_225_604), "2026-01-01T00:00:04");
        assert_eq!(civil(-1), "1969-12-31T23:59:59");
    }
}
