//! `memory`: many concurrent waits in one process, on one scheduler: resident memory
//! per wait above the idle process, and how far past its deadline each timed-out wait
//! was reported.

use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use taskpoll::strategy::Fixed;
use taskpoll::{Budget, ErrorClass, Phase, PollPolicy, Progress, Scheduler, TaskSource};
use tokio::time::Instant;

use crate::measure::{ms, peak_rss_kib, percentile, rss_kib};

/// An in-memory source: task `i` finishes at `finish[i]` (or never).
struct Clocked {
    finish: Vec<Option<Instant>>,
}

#[derive(Debug, thiserror::Error)]
#[error("unknown task {0}")]
struct Unknown(u32);

#[async_trait]
impl TaskSource for Clocked {
    type Id = u32;
    type Status = bool;
    type Output = ();
    type Partial = ();
    type Failure = String;
    type Error = Unknown;

    async fn fetch(&self, id: &u32) -> Result<bool, Unknown> {
        let finish = self.finish.get(*id as usize).ok_or(Unknown(*id))?;
        Ok(finish.is_some_and(|f| Instant::now() >= f))
    }

    fn classify(&self, done: bool) -> Phase<(), (), String> {
        if done {
            Phase::Succeeded(())
        } else {
            Phase::Running(Progress::new("running"))
        }
    }

    fn error_class(&self, _: &Unknown) -> ErrorClass {
        ErrorClass::Permanent
    }
}

/// Options of the memory run.
#[derive(Debug, Clone, clap::Args)]
pub struct MemoryArgs {
    /// Concurrent waits.
    #[arg(long, default_value_t = 100_000)]
    pub waits: u32,
    /// Poll interval, in milliseconds.
    #[arg(long, default_value_t = 2_000)]
    pub interval_ms: u64,
    /// Deadline of every wait, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub deadline_ms: u64,
    /// Tasks finish uniformly within this many milliseconds; one in five never does.
    #[arg(long, default_value_t = 8_000)]
    pub spread_ms: u64,
}

/// Runs it and prints the figures.
pub fn run(args: &MemoryArgs) -> std::io::Result<()> {
    let rt = crate::measure::runtime("client", 1)?;
    rt.block_on(async {
        let n = args.waits;
        let start = Instant::now();
        let finish = (0..n)
            .map(|i| {
                // A fixed, spread-out pattern (a multiplicative hash), no RNG needed.
                let h = u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
                (i % 5 != 0).then(|| start + Duration::from_millis(h % args.spread_ms.max(1)))
            })
            .collect();
        let source = Clocked { finish };
        let deadline = Duration::from_millis(args.deadline_ms);
        let policy = PollPolicy::with_strategy(Fixed::new(Duration::from_millis(args.interval_ms)))
            .deadline(deadline);
        let poller = Scheduler::builder(source)
            .budget(Budget::default())
            .build()
            .poller()
            .configure(|_| policy);
        let idle = rss_kib();
        let mut group = poller.wait_all(0..n).outcomes();
        // Sample RSS once every wait has started and made its first poll.
        let sampler = tokio::spawn(async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            rss_kib()
        });
        let mut overshoot = Vec::new();
        let mut detected = Vec::new();
        let mut finished = 0u32;
        while let Some(o) = group.next().await {
            finished += 1;
            let now = Instant::now();
            match o.result {
                Ok(()) => {
                    if let Some(Some(f)) = poller.source().finish.get(o.id as usize) {
                        detected.push(now.saturating_duration_since(*f));
                    }
                }
                Err(_) => overshoot.push(now.saturating_duration_since(start + deadline)),
            }
        }
        let loaded = sampler.await.unwrap_or(0);
        let per_wait = (loaded.saturating_sub(idle)) as f64 * 1024.0 / f64::from(n.max(1));
        println!("memory: {n} concurrent waits on one scheduler (in-memory source, no HTTP)");
        println!("  finished                  {finished}");
        println!("  RSS idle                  {idle} KiB");
        println!("  RSS with all waits        {loaded} KiB");
        println!("  RSS per wait              {per_wait:.0} bytes");
        println!("  peak RSS                  {} KiB", peak_rss_kib());
        println!(
            "  deadline overshoot ms     p50 {}  p99 {}  max {}  ({} timed out)",
            ms(percentile(&mut overshoot, 50.0)),
            ms(percentile(&mut overshoot, 99.0)),
            ms(percentile(&mut overshoot, 100.0)),
            overshoot.len()
        );
        println!(
            "  detection delay ms        p50 {}  p99 {}  (interval {} ms)",
            ms(percentile(&mut detected, 50.0)),
            ms(percentile(&mut detected, 99.0)),
            args.interval_ms
        );
    });
    Ok(())
}
