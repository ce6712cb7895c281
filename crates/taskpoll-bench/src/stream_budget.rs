//! `stream-budget`: many Stream waits under a request budget. Stream has no batch
//! endpoint, so the question is how close a budgeted group comes to the best the budget
//! allows: every task has to be asked about once after it finishes, at most R requests
//! per window, so the last of N tasks cannot be detected sooner than N/R windows after
//! the polling starts.
//!
//! Time can be compressed: the simulator's rate-limit window and the group's budget
//! window shrink by the same factor, as do the task durations and the interval.

use std::time::Duration;

use futures_util::StreamExt;
use taskpoll::Budget;
use taskpoll::strategy::Fixed;
use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};
use taskpoll_sim::stream::{StreamSim, StreamSimConfig};
use taskpoll_stream::StreamClient;
use tokio::time::Instant;

use crate::measure::{ms, percentile, runtime, thread_cpu};

/// Options of the budgeted Stream run.
#[derive(Debug, Clone, clap::Args)]
pub struct StreamBudgetArgs {
    /// Tasks.
    #[arg(long, default_value_t = 10_000)]
    pub tasks: usize,
    /// Requests allowed per minute (the simulator enforces it too).
    #[arg(long, default_value_t = 1_000)]
    pub per_minute: u32,
    /// Time compression: a "minute" lasts 60 s divided by this.
    #[arg(long, default_value_t = 10)]
    pub compress: u32,
}

/// Runs it and prints the figures.
pub fn run(args: &StreamBudgetArgs) -> Result<(), Box<dyn std::error::Error>> {
    let k = args.compress.max(1);
    let window = Duration::from_secs(60) / k;
    let sim_rt = runtime("sim", 1)?;
    let client_rt = runtime("client", 1)?;
    let config = StreamSimConfig {
        rate_limit_per_minute: args.per_minute,
        rate_window: window,
        ..StreamSimConfig::default()
    };
    let sim = sim_rt.block_on(StreamSim::start(config))?;
    let client = client_rt.block_on(async {
        StreamClient::builder(sim.api_key(), sim.api_secret())
            .base_url(&sim.base_url())
            .budget(Budget::default().per_window(args.per_minute, window))
            .build()
    })?;
    // Tasks finish between 2 and 30 (compressed) seconds, spread evenly.
    let n = args.tasks.max(1);
    let ids: Vec<String> = (0..n)
        .map(|i| {
            let t =
                Duration::from_millis(2_000 + (28_000 * (i as u64 * 7919 % n as u64)) / n as u64)
                    / k;
            sim.create_task(TaskScript {
                steps: vec![ScriptStep::for_time("running", t)],
                outcome: ScriptOutcome::Success {
                    result: serde_json::json!({}),
                },
            })
        })
        .collect();
    let poller = client.poller().configure(|p| {
        p.interval(Fixed::new(Duration::from_secs(1) / k))
            .no_deadline()
    });
    let cpu_before = thread_cpu("client");
    let started = Instant::now();
    let detections: Vec<(String, Instant)> = client_rt.block_on(async {
        poller
            .wait_all(ids)
            .outcomes()
            .filter_map(|o| async move { o.result.is_ok().then(|| (o.id, Instant::now())) })
            .collect()
            .await
    });
    let wall = started.elapsed();
    let cpu = thread_cpu("client") - cpu_before;
    let counts = sim.counts();
    let mut delays: Vec<Duration> = detections
        .iter()
        .filter_map(|(id, at)| sim.finished_at(id).map(|f| at.saturating_duration_since(f)))
        .collect();
    let worst = percentile(&mut delays, 100.0);
    // The last task finishes at 30 s: it cannot be learnt before N/R windows of polling
    // have passed, nor before it finishes.
    let least_last = (window * u32::try_from(n).unwrap_or(u32::MAX)) / args.per_minute.max(1);
    let last_finish = Duration::from_secs(30) / k;
    let least_worst = least_last
        .saturating_sub(Duration::from_secs(2) / k)
        .max(Duration::ZERO);
    println!(
        "stream-budget: {n} Stream waits under {} requests per minute; time compressed {k}x (a minute lasts {:?})",
        args.per_minute, window
    );
    println!("  detected               {} of {n}", detections.len());
    println!(
        "  requests               {} ({:.2} per task)",
        counts.total,
        counts.total as f64 / n as f64
    );
    println!("  429s provoked          {}", counts.status(429));
    println!(
        "  detection delay ms     p50 {}  p99 {}  worst {}",
        ms(percentile(&mut delays, 50.0)),
        ms(percentile(&mut delays, 99.0)),
        ms(worst)
    );
    println!(
        "  last detection at      {:.1} s; the budget allows no earlier than {:.1} s (N/R windows), tasks end by {:.1} s",
        wall.as_secs_f64(),
        least_last.max(last_finish).as_secs_f64(),
        last_finish.as_secs_f64()
    );
    println!(
        "  worst delay vs least   {:.2}x (least possible worst delay ~{:.1} s: N/R windows less the earliest finish)",
        worst.as_secs_f64() / least_worst.as_secs_f64().max(f64::MIN_POSITIVE),
        least_worst.as_secs_f64()
    );
    println!("  client CPU             {} ms", ms(cpu));
    Ok(())
}
