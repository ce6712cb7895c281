//! The `taskpoll-sim` command (also `taskpoll sim`): serves the simulators on loopback
//! until interrupted.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use crate::faults::{FaultPlan, FaultRates};
use crate::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use crate::runware::{RunwareSim, RunwareSimConfig};
use crate::script::Defaults;
use crate::server::any_loopback_port;
use crate::stream::{StreamSim, StreamSimConfig};

/// Options of `taskpoll-sim`. With no address given, all three simulators start on
/// free loopback ports; with some given, only those start.
#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Serve the Stream simulator on ADDR (e.g. 127.0.0.1:8001).
    #[arg(long, value_name = "ADDR")]
    pub stream: Option<SocketAddr>,
    /// Serve the Redis Cloud simulator on ADDR.
    #[arg(long = "redis-cloud", value_name = "ADDR")]
    pub redis_cloud: Option<SocketAddr>,
    /// Serve the Runware simulator on ADDR.
    #[arg(long, value_name = "ADDR")]
    pub runware: Option<SocketAddr>,
    /// How long started tasks take (e.g. 500ms, 3s, 2m).
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_duration)]
    pub task_time: Duration,
    /// Make every N-th started task fail.
    #[arg(long, value_name = "N")]
    pub fail_every: Option<u64>,
    /// Inject faults into this fraction of status requests (0 to 1), spread over 5xx,
    /// resets, 429s and malformed bodies.
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Seed of the fault draws.
    #[arg(long, value_name = "SEED", default_value_t = 0)]
    pub seed: u64,
}

/// Parses a human duration: `250ms`, `10s`, `5m`, `1h`, `1m30s` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(secs)
            .map_err(|e| format!("invalid duration {text:?}: {e}"));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("invalid duration {text:?}: missing unit (ms, s, m, h)"))?;
        let (number, tail) = rest.split_at(digits);
        let value: f64 = number
            .parse()
            .map_err(|_| format!("invalid duration {text:?}: expected a number before the unit"))?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        let scale = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            other => {
                return Err(format!(
                    "invalid duration {text:?}: unknown unit {other:?} (use ms, s, m or h)"
                ));
            }
        };
        total += Duration::try_from_secs_f64(value * scale)
            .map_err(|e| format!("invalid duration {text:?}: {e}"))?;
        rest = next;
    }
    Ok(total)
}

fn fault_plan(args: &SimArgs) -> FaultPlan {
    if args.fault_rate <= 0.0 {
        return FaultPlan::default();
    }
    let r = args.fault_rate.min(1.0);
    FaultPlan::with_rates(
        args.seed,
        FaultRates {
            server_error: r * 0.5,
            reset: r * 0.15,
            rate_limited: r * 0.25,
            malformed: r * 0.1,
            ..FaultRates::default()
        },
    )
}

/// Starts the simulators the arguments ask for, prints their base URLs and credentials,
/// and serves until Ctrl-C.
pub async fn run(args: SimArgs) -> std::io::Result<()> {
    let all = args.stream.is_none() && args.redis_cloud.is_none() && args.runware.is_none();
    let defaults = Defaults {
        task_time: args.task_time,
        fail_every: args.fail_every,
    };
    let faults = fault_plan(&args);
    let mut servers = Vec::new();
    if let Some(addr) = args.stream.or(all.then(any_loopback_port)) {
        let sim = StreamSim::start_on(
            addr,
            StreamSimConfig {
                defaults,
                ..Default::default()
            },
        )
        .await?;
        sim.set_faults(faults.clone());
        println!(
            "stream       STREAM_BASE_URL={} STREAM_API_KEY={} STREAM_API_SECRET={}",
            sim.base_url(),
            sim.api_key(),
            sim.api_secret()
        );
        servers.push(Box::new(sim) as Box<dyn std::any::Any + Send>);
    }
    if let Some(addr) = args.redis_cloud.or(all.then(any_loopback_port)) {
        let sim = RedisCloudSim::start_on(
            addr,
            RedisCloudSimConfig {
                defaults,
                ..Default::default()
            },
        )
        .await?;
        sim.set_faults(faults.clone());
        println!(
            "redis-cloud  REDIS_CLOUD_BASE_URL={} REDIS_CLOUD_API_KEY={} REDIS_CLOUD_API_SECRET={}",
            sim.base_url(),
            sim.api_key(),
            sim.secret_key()
        );
        servers.push(Box::new(sim));
    }
    if let Some(addr) = args.runware.or(all.then(any_loopback_port)) {
        let sim = RunwareSim::start_on(
            addr,
            RunwareSimConfig {
                defaults,
                ..Default::default()
            },
        )
        .await?;
        sim.set_faults(faults.clone());
        println!(
            "runware      RUNWARE_BASE_URL={} RUNWARE_API_KEY={}",
            sim.base_url(),
            sim.api_key()
        );
        servers.push(Box::new(sim));
    }
    println!("control API under /_sim/ on each server; Ctrl-C to stop");
    tokio::signal::ctrl_c().await?;
    drop(servers);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn human_durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2.5"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("-3s").is_err());
    }
}
