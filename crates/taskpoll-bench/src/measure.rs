//! Measuring a run: CPU time of named threads, resident memory, percentiles.

use std::path::PathBuf;
use std::time::Duration;

/// Linux's fixed user-space clock tick (`USER_HZ`): `/proc` CPU times count these.
const TICKS_PER_SECOND: u64 = 100;

/// CPU time (user + system) spent so far by this process's threads whose name starts
/// with `prefix` (10 ms resolution per thread). Zero where `/proc` is unavailable.
pub fn thread_cpu(prefix: &str) -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let mut ticks = 0u64;
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ... utime stime: comm may hold spaces, so split after ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat.get(open + 1..close).unwrap_or_default();
        if !comm.starts_with(prefix) {
            continue;
        }
        let fields: Vec<&str> = stat
            .get(close + 2..)
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        // After the state field, utime and stime are the 12th and 13th fields.
        let field = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        ticks += field(11) + field(12);
    }
    Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND)
}

fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Resident memory now, in KiB.
pub fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

/// Peak resident memory, in KiB.
pub fn peak_rss_kib() -> u64 {
    status_kib("VmHWM:")
}

/// The `p`-th percentile (0 to 100) of `values`, nearest rank; zero when empty.
pub fn percentile(values: &mut [Duration], p: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    values.sort_unstable();
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    values
        .get(rank.clamp(1, values.len()) - 1)
        .copied()
        .unwrap_or_default()
}

/// Milliseconds with one decimal.
pub fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// A runtime whose worker threads are named `name-N`, so their CPU can be measured.
pub fn runtime(name: &'static str, threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    let counter = std::sync::atomic::AtomicUsize::new(0);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name_fn(move || {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            format!("{name}-{n}")
        })
        .enable_all()
        .build()
}

/// `a / b` with two decimals, or `n/a` when `b` measured nothing (10 ms resolution).
pub fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}", a / b)
    } else {
        "n/a (too little CPU to measure)".to_owned()
    }
}

/// The error of the benchmarks' own task sources, as text.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

/// When the benchmark's tasks finish: spread between two bounds.
#[derive(Debug, Clone, clap::Args)]
pub struct Spread {
    /// Tasks finish uniformly between MIN and MAX milliseconds after they start.
    #[arg(long, default_value_t = 2_000)]
    pub min_ms: u64,
    /// See `--min-ms`.
    #[arg(long, default_value_t = 30_000)]
    pub max_ms: u64,
}

impl Spread {
    /// `n` finish times spread evenly (by a fixed hash of their index) over
    /// `min_ms..max_ms`.
    pub fn even(&self, n: usize) -> Vec<Duration> {
        let (min, max) = (self.min_ms, self.max_ms.max(self.min_ms + 1));
        (0..n as u64)
            .map(|i| {
                let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
                Duration::from_millis(min + h % (max - min))
            })
            .collect()
    }
}

/// The `taskpoll` binary: `given`, or the one next to this binary.
pub fn taskpoll_binary(given: Option<&PathBuf>) -> Result<PathBuf, String> {
    if let Some(p) = given {
        return Ok(p.clone());
    }
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = me.parent().ok_or("no directory for this binary")?;
    let path = dir.join("taskpoll");
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} not found: build it first (cargo build --release -p taskpoll-cli) or pass --taskpoll",
            path.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&mut v, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&mut v, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&mut v, 100.0), Duration::from_millis(100));
        assert_eq!(percentile(&mut [], 50.0), Duration::ZERO);
    }

    #[test]
    fn this_process_has_memory() {
        // The high-water mark covers every reading taken before it (other test threads
        // may allocate between two reads), so read the current size first.
        let now = rss_kib();
        assert!(now > 0);
        assert!(peak_rss_kib() >= now);
    }
}
