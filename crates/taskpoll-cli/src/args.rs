//! Values of the command's flags: durations, request rates, progress modes.

use std::time::Duration;

use clap::{Args, ValueEnum};
use taskpoll::strategy::{Exponential, Fixed, Jitter};
use taskpoll::{Budget, Poller, TaskSource};

/// A human duration: `500ms`, `90s`, `5min`, `1h 30m`, `2d`; a bare number is seconds
/// (the syntax of spec files too).
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    taskpoll_spec::parse_duration(text)
}

/// A poll interval range for `--backoff`: `MIN..MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    pub(crate) min: Duration,
    pub(crate) max: Duration,
}

/// `MIN..MAX`, e.g. `1s..30s`.
pub(crate) fn parse_backoff(text: &str) -> Result<Backoff, String> {
    taskpoll_spec::parse_backoff(text).map(|(min, max)| Backoff { min, max })
}

/// A request rate for `--rate`: at most `requests` in any window of `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rate {
    pub(crate) requests: u32,
    pub(crate) period: Duration,
}

impl Rate {
    /// The budget: this rate, the default in-flight limit and 429 pause.
    pub(crate) fn budget(self, base: Budget) -> Budget {
        base.per_window(self.requests, self.period)
    }
}

/// `N/PERIOD`: `300/1m`, `60/10s`, `5/s`.
pub(crate) fn parse_rate(text: &str) -> Result<Rate, String> {
    taskpoll_spec::parse_rate(text).map(|(requests, period)| Rate { requests, period })
}

/// The poll flags of `wait` and `worker` (the worker words their help its own way).
#[derive(Debug, Clone, Copy, Args)]
pub(crate) struct PollFlags {
    /// Give up after this long (e.g. 90s, 30m, "1h 30m"). Default: the vendor's.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) timeout: Option<Duration>,
    /// Poll at this fixed interval (e.g. 500ms, 2s). Default: the vendor's strategy.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, conflicts_with = "backoff")]
    pub(crate) interval: Option<Duration>,
    /// Poll with exponential backoff between MIN and MAX, doubling, with jitter (e.g. 1s..30s).
    #[arg(long, value_name = "MIN..MAX", value_parser = parse_backoff)]
    pub(crate) backoff: Option<Backoff>,
}

impl PollFlags {
    /// `poller` with the flags applied: `--timeout` as the deadline, `--interval` as a
    /// fixed interval, `--backoff` as exponential backoff with jitter; what is not
    /// given stays the vendor's.
    pub(crate) fn tune<S: TaskSource>(self, poller: Poller<S>) -> Poller<S> {
        poller.configure(|mut policy| {
            if let Some(t) = self.timeout {
                policy = policy.deadline(t);
            }
            if let Some(i) = self.interval {
                policy = policy.interval(Fixed::new(i));
            }
            if let Some(b) = self.backoff {
                policy = policy
                    .interval(Jitter::equal(Exponential::new(b.min, 2.0, b.max)).with_max(b.max));
            }
            policy
        })
    }
}

/// A client builder (any vendor's, or a spec's: they share these setters) with the
/// connection flags applied: `allow_http` (a `bool`), the base URL (an
/// `&Option<String>`) and the budget (an `Option<Budget>`) when given.
macro_rules! client_flags {
    ($builder:expr, $allow_http:expr, $base_url:expr, $budget:expr) => {{
        let mut builder = $builder.allow_http($allow_http);
        if let Some(url) = $base_url {
            builder = builder.base_url(url);
        }
        if let Some(budget) = $budget {
            builder = builder.budget(budget);
        }
        builder
    }};
}
pub(crate) use client_flags;

/// How progress is shown on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum ProgressMode {
    /// Live, redrawn in place, when stderr is a terminal; plain lines otherwise.
    #[default]
    Auto,
    /// A line per change (for logs).
    Plain,
    /// Nothing.
    None,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_human() {
        let d = |t| parse_duration(t).unwrap();
        assert_eq!(d("500ms"), Duration::from_millis(500));
        assert_eq!(d("90s"), Duration::from_secs(90));
        assert_eq!(d("5min"), Duration::from_secs(300));
        assert_eq!(d("1h 30m"), Duration::from_secs(5400));
        assert_eq!(d("2d"), Duration::from_secs(2 * 86_400));
        assert_eq!(d("1.5"), Duration::from_millis(1500));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn backoff_ranges() {
        assert_eq!(
            parse_backoff("1s..30s"),
            Ok(Backoff {
                min: Duration::from_secs(1),
                max: Duration::from_secs(30)
            })
        );
        assert!(parse_backoff("30s..1s").is_err());
        assert!(parse_backoff("1s-30s").is_err());
        assert!(parse_backoff("0s..0s").is_err());
    }

    #[test]
    fn rates() {
        let r = |t| parse_rate(t).unwrap();
        assert_eq!(r("300/1m").requests, 300);
        assert_eq!(r("300/1m").period, Duration::from_secs(60));
        assert_eq!(r("60/10s").period, Duration::from_secs(10));
        assert_eq!(r("5/s").period, Duration::from_secs(1));
        assert_eq!(r("400/min").period, Duration::from_secs(60));
        for bad in ["300", "0/1m", "10/0s", "x/1m", "10/soon"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }
}
