//! `scale`: many tasks finishing at random times, waited on three ways, side by side:
//!
//! - (a) the baseline of the official clients: an independent loop per task, one status
//!   request per second (the loop calls the adapter's own `fetch` and `classify`, so
//!   only the polling differs);
//! - (b) one taskpoll wait per task with the vendor's default policy;
//! - (c) one taskpoll group (`wait_all`, batched where the vendor allows) under the
//!   vendor's request budget: every second for Stream (no batch: as often as the
//!   baseline), every 500 ms for the batched vendors (one request serves every due wait,
//!   so polling twice as often still costs far fewer requests).
//!
//! For each: HTTP requests, requests per task, detection delay (from a task's completion
//! at the simulator to the caller learning of it), CPU time of the client runtime, and
//! the peak resident memory above the start of the mode.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use taskpoll::strategy::Fixed;
use taskpoll::{Budget, Outcome, PollPolicy, Poller, TaskSource, WaitAll};
use taskpoll_redis_cloud::RedisCloudClient;
use taskpoll_runware::{RunwareClient, RunwareTaskId};
use taskpoll_sim::accounting::Counts;
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::runware::{MediaKind, RunwareSim, RunwareSimConfig, RunwareTaskSpec};
use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};
use taskpoll_sim::stream::{StreamSim, StreamSimConfig};
use taskpoll_stream::StreamClient;
use tokio::time::Instant;

use crate::measure::{Spread, ms, peak_rss_kib, percentile, rss_kib, runtime, thread_cpu};

/// Options of the scale run.
#[derive(Debug, Clone, clap::Args)]
pub struct ScaleArgs {
    /// Vendors to run: stream, redis-cloud, runware (comma-separated).
    #[arg(
        long,
        default_value = "stream,redis-cloud,runware",
        value_delimiter = ','
    )]
    pub vendors: Vec<String>,
    /// Modes to run: a, b, c (comma-separated).
    #[arg(long, default_value = "a,b,c", value_delimiter = ',')]
    pub modes: Vec<String>,
    /// Tasks per vendor and mode.
    #[arg(long, default_value_t = 10_000)]
    pub tasks: usize,
    #[command(flatten)]
    pub spread: Spread,
    /// Seed of the finish times.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write the results as JSON lines to this file.
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
    /// Write an SVG chart of requests per task against detection delay to this file.
    #[arg(long)]
    pub svg: Option<std::path::PathBuf>,
    /// Run the one vendor and mode given in this process and print its result as JSON
    /// (how the parent runs each mode in a fresh process).
    #[arg(long, hide = true)]
    pub one: bool,
}

/// The figures of one vendor and mode.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ModeResult {
    /// Vendor.
    pub vendor: String,
    /// `a`, `b` or `c`.
    pub mode: String,
    /// Tasks.
    pub tasks: usize,
    /// Tasks whose completion was detected.
    pub detected: usize,
    /// HTTP requests the simulator answered.
    pub requests: u64,
    /// 429 answers among them.
    pub rate_limited: u64,
    /// Detection delay, milliseconds: p50.
    pub delay_p50_ms: f64,
    /// p99.
    pub delay_p99_ms: f64,
    /// Max.
    pub delay_max_ms: f64,
    /// CPU time of the client runtime, milliseconds.
    pub cpu_ms: f64,
    /// Peak RSS of the process above its RSS when the mode started (after the
    /// simulator and its tasks were set up), KiB.
    pub rss_peak_kib: u64,
    /// Wall time, milliseconds.
    pub wall_ms: f64,
}

fn finish_times(args: &ScaleArgs, salt: u64) -> Vec<Duration> {
    let mut state = args.seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let span = args.spread.max_ms.saturating_sub(args.spread.min_ms).max(1);
    (0..args.tasks)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            Duration::from_millis(args.spread.min_ms + z % span)
        })
        .collect()
}

/// When each task's completion was learnt, by task id.
type Detections = Vec<(String, Instant)>;

/// (a): an independent loop per task, one request per second.
async fn baseline<S: TaskSource>(source: Arc<S>, ids: Vec<S::Id>) -> Detections {
    let mut handles = Vec::with_capacity(ids.len());
    for id in ids {
        let source = Arc::clone(&source);
        handles.push(tokio::spawn(async move {
            loop {
                if let Ok(status) = source.fetch(&id).await
                    && source.classify(status).is_terminal()
                {
                    return (id.to_string(), Instant::now());
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }));
    }
    let mut out = Vec::new();
    for h in handles {
        if let Ok(d) = h.await {
            out.push(d);
        }
    }
    out
}

/// (b): one taskpoll wait per task, the vendor's defaults.
async fn per_task<S: TaskSource>(poller: Poller<S>, ids: Vec<S::Id>) -> Detections {
    let mut handles = Vec::with_capacity(ids.len());
    for id in ids {
        let poller = poller.clone();
        handles.push(tokio::spawn(async move {
            let o = poller.watch(id).outcome().await;
            (o.id.to_string(), Instant::now(), o.result.is_ok())
        }));
    }
    let mut out = Vec::new();
    for h in handles {
        if let Ok((id, at, true)) = h.await {
            out.push((id, at));
        }
    }
    out
}

/// (c): one group.
async fn grouped<S: TaskSource>(group: WaitAll<S>) -> Detections {
    group
        .outcomes()
        .filter_map(|o: Outcome<S>| async move {
            o.result.is_ok().then(|| (o.id.to_string(), Instant::now()))
        })
        .collect()
        .await
}

/// What a mode needs from its vendor's simulator.
trait SimView: Sync {
    /// Requests answered so far.
    fn counts(&self) -> Counts;
    /// When task `id` finished at the simulator.
    fn finished_at(&self, id: &str) -> Option<Instant>;
}

macro_rules! sim_view {
    ($($sim:ty),*) => {$(
        impl SimView for $sim {
            fn counts(&self) -> Counts {
                <$sim>::counts(self)
            }

            fn finished_at(&self, id: &str) -> Option<Instant> {
                <$sim>::finished_at(self, id)
            }
        }
    )*};
}

sim_view!(StreamSim, RedisCloudSim, RunwareSim);

fn measure(
    vendor: &str,
    mode: &str,
    tasks: usize,
    client: &tokio::runtime::Runtime,
    sim: &dyn SimView,
    run: impl std::future::Future<Output = Detections>,
) -> ModeResult {
    let requests_before = sim.counts();
    let cpu_before = thread_cpu("client");
    let rss_before = rss_kib();
    let started = Instant::now();
    let detections = client.block_on(run);
    let wall = started.elapsed();
    // Each mode runs in a fresh process, so the high-water mark is this mode's.
    let rss_peak = peak_rss_kib();
    let cpu = thread_cpu("client") - cpu_before;
    let after = sim.counts();
    let mut delays: Vec<Duration> = detections
        .iter()
        .filter_map(|(id, at)| sim.finished_at(id).map(|f| at.saturating_duration_since(f)))
        .collect();
    ModeResult {
        vendor: vendor.to_owned(),
        mode: mode.to_owned(),
        tasks,
        detected: delays.len(),
        requests: after.total - requests_before.total,
        rate_limited: after.status(429) - requests_before.status(429),
        delay_p50_ms: percentile(&mut delays, 50.0).as_secs_f64() * 1000.0,
        delay_p99_ms: percentile(&mut delays, 99.0).as_secs_f64() * 1000.0,
        delay_max_ms: percentile(&mut delays, 100.0).as_secs_f64() * 1000.0,
        cpu_ms: cpu.as_secs_f64() * 1000.0,
        rss_peak_kib: rss_peak.saturating_sub(rss_before),
        wall_ms: wall.as_secs_f64() * 1000.0,
    }
}

fn every_second() -> Fixed {
    Fixed::new(Duration::from_secs(1))
}

fn every_half_second() -> Fixed {
    Fixed::new(Duration::from_millis(500))
}

/// One vendor's simulator, its tasks and its three ways to wait, for [`run_modes`].
struct Ways<'a, S: TaskSource> {
    vendor: &'static str,
    sim: &'a dyn SimView,
    /// Fresh tasks (`salt` varies their finish times).
    create: &'a dyn Fn(u64) -> Vec<S::Id>,
    /// (b): the poller with the vendor's defaults; (a) calls its source.
    per_task: Poller<S>,
    /// (c): the group's policy, from the vendor's defaults.
    group: fn(PollPolicy) -> PollPolicy,
}

/// Runs each asked-for mode on fresh tasks.
fn run_modes<S: TaskSource + Clone>(
    args: &ScaleArgs,
    client_rt: &tokio::runtime::Runtime,
    ways: Ways<'_, S>,
) -> Vec<ModeResult> {
    let mut out = Vec::new();
    for mode in &args.modes {
        let ids = (ways.create)(out.len() as u64);
        let n = ids.len();
        let detections: Pin<Box<dyn Future<Output = Detections>>> = match mode.as_str() {
            "a" => Box::pin(baseline(Arc::new(ways.per_task.source().clone()), ids)),
            "b" => Box::pin(per_task(ways.per_task.clone(), ids)),
            "c" => {
                // Groups start their timers in the client runtime.
                let group = client_rt
                    .block_on(async { ways.per_task.clone().configure(ways.group).wait_all(ids) });
                Box::pin(grouped(group))
            }
            _ => continue,
        };
        out.push(measure(
            ways.vendor,
            mode,
            n,
            client_rt,
            ways.sim,
            detections,
        ));
    }
    out
}

/// Tasks of Stream or Redis Cloud that end with `result` after `status` for `t`.
fn script(status: &str, t: Duration, result: serde_json::Value) -> TaskScript {
    TaskScript {
        steps: vec![ScriptStep::for_time(status, t)],
        outcome: ScriptOutcome::Success { result },
    }
}

fn run_stream(
    args: &ScaleArgs,
    sim_rt: &tokio::runtime::Runtime,
    client_rt: &tokio::runtime::Runtime,
) -> Result<Vec<ModeResult>, Box<dyn std::error::Error>> {
    let sim = sim_rt.block_on(StreamSim::start(StreamSimConfig::default()))?;
    let client = client_rt.block_on(async {
        StreamClient::builder(sim.api_key(), sim.api_secret())
            .base_url(&sim.base_url())
            .build()
    })?;
    let create = |salt| -> Vec<String> {
        let result = serde_json::json!({"url": "https://example.test/x.json"});
        finish_times(args, salt)
            .into_iter()
            .map(|t| sim.create_task(script("running", t, result.clone())))
            .collect()
    };
    Ok(run_modes(
        args,
        client_rt,
        Ways {
            vendor: "stream",
            sim: &sim,
            create: &create,
            per_task: client.poller(),
            group: |p| p.interval(every_second()),
        },
    ))
}

fn run_redis(
    args: &ScaleArgs,
    sim_rt: &tokio::runtime::Runtime,
    client_rt: &tokio::runtime::Runtime,
) -> Result<Vec<ModeResult>, Box<dyn std::error::Error>> {
    // The simulator's 400/min limit and one-task-at-a-time processing are lifted, so the
    // baseline gets its best case.
    let config = RedisCloudSimConfig {
        rate_limit_per_minute: u32::MAX,
        serial_processing: false,
        ..RedisCloudSimConfig::default()
    };
    let sim = sim_rt.block_on(RedisCloudSim::start(config))?;
    let client = client_rt.block_on(async {
        RedisCloudClient::builder(sim.api_key(), sim.secret_key())
            .base_url(&sim.base_url())
            .max_batch(args.tasks.max(1))
            .budget(Budget::unlimited())
            .build()
    })?;
    let create = |salt| -> Vec<String> {
        finish_times(args, salt)
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                let result = serde_json::json!({"resourceId": 100_000 + i});
                sim.create_task(script("processing-in-progress", t, result))
            })
            .collect()
    };
    Ok(run_modes(
        args,
        client_rt,
        Ways {
            vendor: "redis-cloud",
            sim: &sim,
            create: &create,
            per_task: client.poller(),
            group: |p| p.interval(every_half_second()),
        },
    ))
}

fn run_runware(
    args: &ScaleArgs,
    sim_rt: &tokio::runtime::Runtime,
    client_rt: &tokio::runtime::Runtime,
) -> Result<Vec<ModeResult>, Box<dyn std::error::Error>> {
    let sim = sim_rt.block_on(RunwareSim::start(RunwareSimConfig::default()))?;
    let client = client_rt.block_on(async {
        RunwareClient::builder(sim.api_key())
            .base_url(&sim.base_url())
            .max_batch(250)
            .budget(Budget::default().in_flight(8))
            .build()
    })?;
    let create = |salt| -> Vec<RunwareTaskId> {
        finish_times(args, salt)
            .into_iter()
            .map(|t| {
                RunwareTaskId::new(
                    sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1).finish_after([t])),
                    1,
                )
            })
            .collect()
    };
    Ok(run_modes(
        args,
        client_rt,
        Ways {
            vendor: "runware",
            sim: &sim,
            create: &create,
            per_task: client.poller(),
            group: |p| {
                p.interval(every_half_second())
                    .initial_delay(Duration::ZERO)
            },
        },
    ))
}

/// Prints one table of results.
pub fn print(results: &[ModeResult]) {
    println!(
        "{:<12} {:<4} {:>7} {:>8} {:>9} {:>9} {:>5} {:>10} {:>10} {:>10} {:>9} {:>9} {:>8}",
        "vendor",
        "mode",
        "tasks",
        "detected",
        "requests",
        "req/task",
        "429s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "CPU ms",
        "RSS KiB",
        "wall s"
    );
    for r in results {
        println!(
            "{:<12} {:<4} {:>7} {:>8} {:>9} {:>9.1} {:>5} {:>10.0} {:>10.0} {:>10.0} {:>9.0} {:>9} {:>8.1}",
            r.vendor,
            r.mode,
            r.tasks,
            r.detected,
            r.requests,
            r.requests as f64 / r.tasks.max(1) as f64,
            r.rate_limited,
            r.delay_p50_ms,
            r.delay_p99_ms,
            r.delay_max_ms,
            r.cpu_ms,
            r.rss_peak_kib,
            r.wall_ms / 1000.0
        );
    }
    for vendor in ["stream", "redis-cloud", "runware"] {
        let find = |m: &str| results.iter().find(|r| r.vendor == vendor && r.mode == m);
        if let (Some(a), Some(c)) = (find("a"), find("c")) {
            println!(
                "{vendor}: (a)/(c) requests {:.1}x; p50 delay (c) {} ms vs (a) {} ms; CPU (a)/(c) {}",
                a.requests as f64 / c.requests.max(1) as f64,
                ms(Duration::from_secs_f64(c.delay_p50_ms / 1000.0)),
                ms(Duration::from_secs_f64(a.delay_p50_ms / 1000.0)),
                crate::measure::ratio(a.cpu_ms, c.cpu_ms)
            );
        }
    }
}

/// Runs one vendor's modes in this process.
fn run_here(args: &ScaleArgs) -> Result<Vec<ModeResult>, Box<dyn std::error::Error>> {
    let sim_rt = runtime("sim", 1)?;
    let client_rt = runtime("client", 1)?;
    let mut results = Vec::new();
    for vendor in &args.vendors {
        results.extend(match vendor.as_str() {
            "stream" => run_stream(args, &sim_rt, &client_rt)?,
            "redis-cloud" => run_redis(args, &sim_rt, &client_rt)?,
            "runware" => run_runware(args, &sim_rt, &client_rt)?,
            other => return Err(format!("unknown vendor {other:?}").into()),
        });
    }
    Ok(results)
}

/// Runs each vendor and mode in a fresh process (so memory figures are its own), prints
/// the figures, and writes the JSON lines and chart if asked.
pub fn run(args: &ScaleArgs) -> Result<Vec<ModeResult>, Box<dyn std::error::Error>> {
    if args.one {
        for r in run_here(args)? {
            println!("{}", serde_json::to_string(&r)?);
        }
        return Ok(Vec::new());
    }
    println!(
        "scale: {} tasks per vendor and mode, finishing uniformly in {}..{} ms (real time, not compressed); \
         simulator and client on one thread each; each mode in a fresh process",
        args.tasks, args.spread.min_ms, args.spread.max_ms
    );
    let exe = std::env::current_exe()?;
    let mut results = Vec::new();
    for vendor in &args.vendors {
        for mode in &args.modes {
            let out = std::process::Command::new(&exe)
                .args(["scale", "--one", "--vendors", vendor, "--modes", mode])
                .args([
                    "--tasks",
                    &args.tasks.to_string(),
                    "--min-ms",
                    &args.spread.min_ms.to_string(),
                ])
                .args([
                    "--max-ms",
                    &args.spread.max_ms.to_string(),
                    "--seed",
                    &args.seed.to_string(),
                ])
                .stderr(std::process::Stdio::inherit())
                .output()?;
            if !out.status.success() {
                return Err(format!("{vendor} ({mode}) failed: {}", out.status).into());
            }
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let r: ModeResult = serde_json::from_str(line)?;
                eprintln!(
                    "  done: {} ({}) in {:.1} s",
                    r.vendor,
                    r.mode,
                    r.wall_ms / 1000.0
                );
                results.push(r);
            }
        }
    }
    print(&results);
    if let Some(path) = &args.json {
        let lines: Vec<String> = results
            .iter()
            .filter_map(|r| serde_json::to_string(r).ok())
            .collect();
        std::fs::write(path, lines.join("\n") + "\n")?;
    }
    if let Some(path) = &args.svg {
        std::fs::write(path, crate::chart::svg(&results))?;
    }
    Ok(results)
}
