//! `memory`: many concurrent waits in one process, on one scheduler: resident memory
//! per wait above the idle process, and how far past its own deadline each timed-out
//! wait was reported.
//!
//! Resident memory is sampled once every wait has made its first poll (the source counts
//! them), from a plain thread, so a busy scheduler cannot delay the reading. A wait's
//! deadline runs from the moment the scheduler takes it in, which for a million waits
//! handed over at once is spread over a while; the source notes that moment (the
//! scheduler asks it for the wait's first delay then), so overshoot is measured against
//! each wait's own deadline, up to the moment the caller receives the outcome.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use taskpoll::strategy::Fixed;
use taskpoll::{Budget, ErrorClass, Phase, PollPolicy, Progress, Scheduler, TaskSource};
use tokio::time::Instant;

use crate::measure::{SourceError, ms, peak_rss_kib, percentile, rss_kib};

/// Not noted yet.
const UNSET: u64 = u64::MAX;

/// An in-memory source: task `i` finishes at `finish[i]` (or never). It notes when each
/// wait was taken in and counts the waits that have made their first poll.
struct Clocked {
    base: Instant,
    finish: Vec<Option<Instant>>,
    /// Nanoseconds after `base` at which the scheduler took wait `i` in.
    taken_in: Vec<AtomicU64>,
    polled: Vec<AtomicBool>,
    first_polls: Arc<AtomicUsize>,
}

impl Clocked {
    fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.base).as_nanos()).unwrap_or(UNSET - 1)
    }

    fn instant(&self, nanos: u64) -> Option<Instant> {
        (nanos != UNSET).then(|| self.base + Duration::from_nanos(nanos))
    }
}

#[async_trait]
impl TaskSource for Clocked {
    type Id = u32;
    type Status = bool;
    type Output = ();
    type Partial = ();
    type Failure = String;
    type Error = SourceError;

    async fn fetch(&self, id: &u32) -> Result<bool, SourceError> {
        let i = *id as usize;
        let finish = self
            .finish
            .get(i)
            .ok_or_else(|| SourceError(format!("unknown task {id}")))?;
        if let Some(p) = self.polled.get(i)
            && !p.swap(true, Ordering::Relaxed)
        {
            self.first_polls.fetch_add(1, Ordering::Release);
        }
        Ok(finish.is_some_and(|f| Instant::now() >= f))
    }

    fn classify(&self, done: bool) -> Phase<(), (), String> {
        if done {
            Phase::Succeeded(())
        } else {
            Phase::Running(Progress::new("running"))
        }
    }

    fn error_class(&self, _: &SourceError) -> ErrorClass {
        ErrorClass::Permanent
    }

    fn initial_delay(&self, id: &u32) -> Duration {
        // Asked once, as the scheduler takes the wait in: its deadline runs from now.
        if let Some(t) = self.taken_in.get(*id as usize) {
            t.store(self.nanos(Instant::now()), Ordering::Relaxed);
        }
        Duration::ZERO
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

/// Reads RSS from a plain thread once every wait has made its first poll, or when `done`
/// says the run is over; returns the reading and when it was taken.
fn sample_after_first_polls(
    n: usize,
    first_polls: Arc<AtomicUsize>,
    done: Arc<AtomicBool>,
) -> std::thread::JoinHandle<(u64, Instant, usize)> {
    std::thread::spawn(move || {
        loop {
            let polled = first_polls.load(Ordering::Acquire);
            if polled >= n || done.load(Ordering::Acquire) {
                return (rss_kib(), Instant::now(), polled);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    })
}

/// Runs it and prints the figures.
pub fn run(args: &MemoryArgs) -> std::io::Result<()> {
    let rt = crate::measure::runtime("client", 1)?;
    rt.block_on(async {
        let n = args.waits;
        let count = n as usize;
        let base = Instant::now();
        let finish = (0..n)
            .map(|i| {
                // A fixed, spread-out pattern (a multiplicative hash), no RNG needed.
                let h = u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
                (i % 5 != 0).then(|| base + Duration::from_millis(h % args.spread_ms.max(1)))
            })
            .collect();
        let first_polls = Arc::new(AtomicUsize::new(0));
        // Every per-wait record of the benchmark itself is written once here, so its
        // pages are resident before the idle reading.
        let source = Clocked {
            base,
            finish,
            taken_in: (0..n).map(|_| AtomicU64::new(UNSET)).collect(),
            polled: (0..n).map(|_| AtomicBool::new(false)).collect(),
            first_polls: Arc::clone(&first_polls),
        };
        let mut received = vec![UNSET; count];
        // 1 where the wait ended in an error; not zero to start with, so the pages are
        // written now.
        let mut failed = vec![u8::MAX; count];
        let deadline = Duration::from_millis(args.deadline_ms);
        let policy = PollPolicy::with_strategy(Fixed::new(Duration::from_millis(args.interval_ms)))
            .deadline(deadline);
        let poller = Scheduler::builder(source)
            .budget(Budget::default())
            .build()
            .poller()
            .configure(|_| policy);
        let idle = rss_kib();
        let done = Arc::new(AtomicBool::new(false));
        let sampler = sample_after_first_polls(count, first_polls, Arc::clone(&done));
        let started = Instant::now();
        let mut group = poller.wait_all(0..n).outcomes();
        let mut finished = 0usize;
        let mut finished_at_sample = None;
        while let Some(o) = group.next().await {
            finished += 1;
            let now = poller.source().nanos(Instant::now());
            if finished_at_sample.is_none() && sampler.is_finished() {
                finished_at_sample = Some(finished - 1);
            }
            if let Some(r) = received.get_mut(o.id as usize) {
                *r = now;
            }
            if let Some(f) = failed.get_mut(o.id as usize) {
                *f = u8::from(o.result.is_err());
            }
        }
        let wall = started.elapsed();
        done.store(true, Ordering::Release);
        let (loaded, sampled_at, polled) = sampler.join().unwrap_or((0, Instant::now(), 0));
        let source = poller.source();
        let mut overshoot = Vec::new();
        let mut from_call = Vec::new();
        let mut detected = Vec::new();
        let mut last_taken_in = Duration::ZERO;
        for i in 0..count {
            let got = received.get(i).and_then(|r| source.instant(*r));
            let taken = source
                .taken_in
                .get(i)
                .and_then(|t| source.instant(t.load(Ordering::Relaxed)));
            if let Some(t) = taken {
                last_taken_in = last_taken_in.max(t.saturating_duration_since(started));
            }
            match (got, failed.get(i) == Some(&1)) {
                (Some(got), true) => {
                    from_call.push(got.saturating_duration_since(started + deadline));
                    if let Some(t) = taken {
                        overshoot.push(got.saturating_duration_since(t + deadline));
                    }
                }
                (Some(got), false) => {
                    if let Some(Some(f)) = source.finish.get(i) {
                        detected.push(got.saturating_duration_since(*f));
                    }
                }
                (None, _) => {}
            }
        }
        let live = count.saturating_sub(finished_at_sample.unwrap_or(finished));
        let per_wait = (loaded.saturating_sub(idle)) as f64 * 1024.0 / f64::from(n.max(1));
        println!("memory: {n} concurrent waits on one scheduler (in-memory source, no HTTP)");
        println!(
            "  finished                  {finished} in {:.1} s",
            wall.as_secs_f64()
        );
        println!(
            "  all waits taken in        {} ms after the group started",
            ms(last_taken_in)
        );
        println!(
            "  RSS sampled               {} ms after the group started: {polled} waits had made their first poll, {live} still waiting",
            ms(sampled_at.saturating_duration_since(started))
        );
        println!("  RSS idle                  {idle} KiB");
        println!("  RSS with all waits        {loaded} KiB");
        println!("  RSS per wait              {per_wait:.0} bytes");
        let peak = peak_rss_kib();
        println!(
            "  peak RSS                  {peak} KiB ({:.0} bytes per wait)",
            (peak.saturating_sub(idle)) as f64 * 1024.0 / f64::from(n.max(1))
        );
        println!(
            "  deadline overshoot ms     p50 {}  p99 {}  max {}  ({} timed out)",
            ms(percentile(&mut overshoot, 50.0)),
            ms(percentile(&mut overshoot, 99.0)),
            ms(percentile(&mut overshoot, 100.0)),
            overshoot.len()
        );
        println!(
            "  overshoot from start ms   p50 {}  p99 {}  max {}  (deadline counted from the group's start: take-in included)",
            ms(percentile(&mut from_call, 50.0)),
            ms(percentile(&mut from_call, 99.0)),
            ms(percentile(&mut from_call, 100.0))
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
