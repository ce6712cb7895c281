//! `taskpoll wait VENDOR TASK_ID...`.

use std::io::IsTerminal;
use std::time::Duration;

use clap::{Args, ValueEnum};
use serde::Serialize;
use taskpoll::strategy::{Exponential, Fixed, Jitter};
use taskpoll::{Poller, TaskSource};
use taskpoll_redis_cloud::RedisCloudClient;
use taskpoll_runware::{RunwareClient, RunwareTaskId};
use taskpoll_sim::cli::parse_duration;
use taskpoll_stream::StreamClient;

use crate::UsageError;
use crate::progress::{Board, Events, Row, drive, events};
use crate::report::{TaskReport, exit_code};

/// A vendor whose tasks `wait` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Vendor {
    /// Stream (getstream.io).
    Stream,
    /// Redis Cloud.
    RedisCloud,
    /// Runware.
    Runware,
}

/// A poll interval range for `--backoff`: `MIN..MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
}

fn parse_backoff(text: &str) -> Result<Backoff, String> {
    let (min, max) = text
        .split_once("..")
        .ok_or_else(|| format!("invalid backoff {text:?}: expected MIN..MAX, e.g. 1s..30s"))?;
    let (min, max) = (parse_duration(min)?, parse_duration(max)?);
    if min > max || max.is_zero() {
        return Err(format!(
            "invalid backoff {text:?}: MIN must not exceed MAX, and MAX must be positive"
        ));
    }
    Ok(Backoff { min, max })
}

/// Options of `taskpoll wait`.
#[derive(Debug, Clone, Args)]
pub(crate) struct WaitArgs {
    /// The vendor.
    #[arg(value_enum)]
    vendor: Vendor,
    /// The task ids (as the vendor's start call returned them).
    #[arg(required = true, value_name = "TASK_ID")]
    task_ids: Vec<String>,
    /// The vendor API's base URL (default: the vendor's production URL).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Give up after this long (e.g. 90s, 30m). Default: the vendor's.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Poll at this fixed interval (e.g. 500ms, 2s). Default: the vendor's strategy.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, conflicts_with = "backoff")]
    interval: Option<Duration>,
    /// Poll with exponential backoff between MIN and MAX, doubling, with jitter (e.g. 1s..30s).
    #[arg(long, value_name = "MIN..MAX", value_parser = parse_backoff)]
    backoff: Option<Backoff>,
    /// Print one JSON object per task per line.
    #[arg(long)]
    json: bool,
    /// Runware: how many results each task produces.
    #[arg(long, value_name = "N")]
    results: Option<u32>,
    /// API key (default: STREAM_API_KEY, REDIS_CLOUD_API_KEY or RUNWARE_API_KEY).
    #[arg(long, value_name = "KEY")]
    api_key: Option<String>,
    /// API secret (default: STREAM_API_SECRET or REDIS_CLOUD_API_SECRET).
    #[arg(long, value_name = "SECRET")]
    api_secret: Option<String>,
    /// Allow plain http:// to a host that is not loopback (credentials travel unencrypted).
    #[arg(long)]
    allow_http: bool,
}

fn credential(
    flag: &Option<String>,
    var: &'static str,
    flag_name: &str,
) -> Result<String, UsageError> {
    if let Some(v) = flag.as_ref().filter(|v| !v.is_empty()) {
        return Ok(v.clone());
    }
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(UsageError(format!(
            "missing credential: set {var} or pass {flag_name}"
        ))),
    }
}

fn tune<S: TaskSource>(poller: Poller<S>, args: &WaitArgs) -> Poller<S> {
    poller.configure(|mut policy| {
        if let Some(t) = args.timeout {
            policy = policy.deadline(t);
        }
        if let Some(i) = args.interval {
            policy = policy.interval(Fixed::new(i));
        }
        if let Some(b) = args.backoff {
            policy =
                policy.interval(Jitter::equal(Exponential::new(b.min, 2.0, b.max)).with_max(b.max));
        }
        policy
    })
}

fn watches<S>(
    poller: &Poller<S>,
    vendor: &'static str,
    ids: Vec<S::Id>,
    rows: &mut Vec<Row>,
) -> Vec<Events>
where
    S: TaskSource,
    S::Output: Serialize,
    S::Failure: Serialize,
{
    ids.into_iter()
        .map(|id| {
            let row = rows.len();
            rows.push(Row::new(vendor, "", id.to_string()));
            events(row, vendor, poller.watch(id))
        })
        .collect()
}

/// Runs `taskpoll wait`; returns the exit status.
pub(crate) async fn run(args: WaitArgs) -> Result<u8, UsageError> {
    if args.results.is_some() && args.vendor != Vendor::Runware {
        return Err(UsageError("--results applies to runware only".into()));
    }
    if args.results == Some(0) {
        return Err(UsageError("--results must be at least 1".into()));
    }
    let usage = |e: &dyn std::fmt::Display| UsageError(e.to_string());
    let mut rows = Vec::new();
    let streams = match args.vendor {
        Vendor::Stream => {
            let key = credential(&args.api_key, "STREAM_API_KEY", "--api-key")?;
            let secret = credential(&args.api_secret, "STREAM_API_SECRET", "--api-secret")?;
            let mut b = StreamClient::builder(key, secret).allow_http(args.allow_http);
            if let Some(url) = &args.base_url {
                b = b.base_url(url);
            }
            let client = b.build().map_err(|e| usage(&e))?;
            let poller = tune(client.poller(), &args);
            watches(&poller, "stream", args.task_ids.clone(), &mut rows)
        }
        Vendor::RedisCloud => {
            let key = credential(&args.api_key, "REDIS_CLOUD_API_KEY", "--api-key")?;
            let secret = credential(&args.api_secret, "REDIS_CLOUD_API_SECRET", "--api-secret")?;
            let mut b = RedisCloudClient::builder(key, secret).allow_http(args.allow_http);
            if let Some(url) = &args.base_url {
                b = b.base_url(url);
            }
            let client = b.build().map_err(|e| usage(&e))?;
            let poller = tune(client.poller(), &args);
            watches(&poller, "redis-cloud", args.task_ids.clone(), &mut rows)
        }
        Vendor::Runware => {
            let key = credential(&args.api_key, "RUNWARE_API_KEY", "--api-key")?;
            let mut b = RunwareClient::builder(key).allow_http(args.allow_http);
            if let Some(url) = &args.base_url {
                b = b.base_url(url);
            }
            let client = b.build().map_err(|e| usage(&e))?;
            let poller = tune(client.poller(), &args);
            let expected = args.results.unwrap_or(1);
            let ids = args
                .task_ids
                .iter()
                .map(|id| RunwareTaskId::new(id.clone(), expected))
                .collect();
            watches(&poller, "runware", ids, &mut rows)
        }
    };
    let live = std::io::stderr().is_terminal();
    let mut board = Board::new(rows, live);
    let reports: Vec<TaskReport> = drive(&mut board, streams).await;
    for r in &reports {
        if args.json {
            println!("{}", r.json_line());
        } else {
            println!("{}", r.human_line());
        }
    }
    Ok(exit_code(&reports))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
