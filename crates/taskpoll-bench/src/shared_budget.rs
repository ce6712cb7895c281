//! `shared-budget`: two Redis Cloud clients built from one account key, each with
//! pollers of their own policies, waiting at once on the simulator with its 400 requests
//! a minute per key. Run twice: with one budget for the key (both clients set the same
//! limit, so the process hands them the same budget), and, for contrast, with two
//! budgets (limits of 400 and 399: each client thinks it owns the account).
//!
//! Every figure comes from the simulator's own counts and request log. Time can be
//! compressed: the simulator's rate-limit window, the budgets' window, the task
//! durations, the poll intervals, the pause after a 429 and the longest pause honoured
//! shrink by the same factor. The client's 100 ms coalescing window does not.

use std::time::Duration;

use futures_util::StreamExt;
use taskpoll::strategy::Fixed;
use taskpoll::{Budget, Poller};
use taskpoll_redis_cloud::{RedisCloudClient, RedisCloudSource};
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};
use tokio::runtime::Runtime;
use tokio::time::Instant;

use crate::measure::{ms, runtime, thread_cpu};

/// Options of the shared-budget run.
#[derive(Debug, Clone, clap::Args)]
pub struct SharedBudgetArgs {
    /// Tasks in each of the four sets of waits (three of lone waits, one group).
    #[arg(long, default_value_t = 100)]
    pub per_set: usize,
    /// Requests per minute the simulator allows the key, and each client's budget.
    #[arg(long, default_value_t = 400)]
    pub per_minute: u32,
    /// Time compression: a "minute" lasts 60 s divided by this.
    #[arg(long, default_value_t = 30)]
    pub compress: u32,
    /// Most task ids one `GET /v1/tasks` answers for. Small on purpose, so that the waits
    /// ask for more than the budget: with the client's default (10,000) one request
    /// answers every wait due, and two clients send at most about ten requests a second
    /// each, whatever the number of waits.
    #[arg(long, default_value_t = 5)]
    pub max_batch: usize,
    /// Tasks finish between 2 s and this many seconds (before compression).
    #[arg(long, default_value_t = 120)]
    pub spread_s: u64,
}

/// What the simulator saw in one run.
struct Figures {
    budgets: usize,
    requests: u64,
    ok: u64,
    rate_limited: u64,
    completed: usize,
    tasks: usize,
    most_in_window: usize,
    last_done: Duration,
    sim_cpu: Duration,
    client_cpu: Duration,
}

/// One set of waits: its poller, its tasks, lone waits or a group.
struct Set {
    poller: Poller<RedisCloudSource>,
    ids: Vec<String>,
    group: bool,
}

/// Runs it and prints the figures.
pub fn run(args: &SharedBudgetArgs) -> Result<(), Box<dyn std::error::Error>> {
    let k = args.compress.max(1);
    let window = Duration::from_secs(60) / k;
    let sim_rt = runtime("sim", 1)?;
    let client_rt = runtime("client", 1)?;
    let shared = run_once(args, &sim_rt, &client_rt, true)?;
    let separate = run_once(args, &sim_rt, &client_rt, false)?;
    let n = shared.tasks;
    println!(
        "shared-budget: Redis Cloud, {n} tasks on two clients of one key ({} lone waits on three pollers, {} in a group), {} requests per minute allowed; time compressed {k}x (a minute lasts {window:?})",
        args.per_set * 3,
        args.per_set,
        args.per_minute,
    );
    println!(
        "                                one budget (shared)     two budgets ({} and {})",
        args.per_minute,
        args.per_minute.saturating_sub(1)
    );
    let row = |label: &str, a: String, b: String| println!("  {label:<30}{a:<24}{b}");
    let both = |label: &str, f: &dyn Fn(&Figures) -> String| row(label, f(&shared), f(&separate));
    both("budgets in the process", &|r| r.budgets.to_string());
    both("requests sent", &|r| r.requests.to_string());
    both("answered 200", &|r| r.ok.to_string());
    both("429s received", &|r| r.rate_limited.to_string());
    both("tasks completed", &|r| {
        format!("{} of {}", r.completed, r.tasks)
    });
    both("most requests in any minute", &|r| {
        format!("{} (limit {})", r.most_in_window, args.per_minute)
    });
    both("last wait ended at", &|r| {
        format!("{:.1} s", r.last_done.as_secs_f64())
    });
    both("simulator CPU", &|r| format!("{} ms", ms(r.sim_cpu)));
    both("client CPU", &|r| format!("{} ms", ms(r.client_cpu)));
    Ok(())
}

/// One run on a fresh simulator (and a key of its own, so no budget outlives it).
fn run_once(
    args: &SharedBudgetArgs,
    sim_rt: &Runtime,
    client_rt: &Runtime,
    shared: bool,
) -> Result<Figures, Box<dyn std::error::Error>> {
    let k = args.compress.max(1);
    let window = Duration::from_secs(60) / k;
    let config = RedisCloudSimConfig {
        api_key: format!("bench-key-{}", if shared { "shared" } else { "separate" }),
        rate_limit_per_minute: args.per_minute,
        rate_window: window,
        serial_processing: false,
        ..RedisCloudSimConfig::default()
    };
    let sim = sim_rt.block_on(RedisCloudSim::start(config))?;
    let per_set = args.per_set.max(1);
    let n = per_set * 4;
    // Tasks finish between 2 s and the spread, spread evenly over the four sets.
    let span = args.spread_s.max(3).saturating_sub(2) * 1000;
    let mut ids: Vec<String> = (0..n)
        .map(|i| {
            let ms = 2_000 + span * (i as u64 * 7919 % n as u64) / n as u64;
            sim.create_task(TaskScript {
                steps: vec![ScriptStep::for_time(
                    "processing-in-progress",
                    Duration::from_millis(ms) / k,
                )],
                outcome: ScriptOutcome::Success {
                    result: serde_json::json!({"resourceId": i}),
                },
            })
        })
        .collect();
    let client = |per_minute: u32| {
        client_rt.block_on(async {
            RedisCloudClient::builder(sim.api_key(), sim.secret_key())
                .base_url(&sim.base_url())
                .budget(Budget::default().per_window(per_minute, window))
                .rate_limit_floor(Duration::from_secs(30) / k)
                .max_batch(args.max_batch)
                .build()
        })
    };
    let first = client(args.per_minute)?;
    let second = client(if shared {
        args.per_minute
    } else {
        args.per_minute.saturating_sub(1)
    })?;
    // Every interval is its own, but each policy compresses the deadline and the
    // longest pause honoured too (a hint of "nothing left" pauses up to one window).
    let policy = |poller: Poller<RedisCloudSource>, every_ms: u64| {
        poller.configure(|p| {
            p.interval(Fixed::new(Duration::from_millis(every_ms) / k))
                .deadline(Duration::from_secs(600) / k)
                .retry_after_ceiling(window)
        })
    };
    let mut take = |count: usize| ids.drain(..count.min(ids.len())).collect::<Vec<_>>();
    let sets = [
        Set {
            poller: policy(first.poller(), 1_000),
            ids: take(per_set),
            group: false,
        },
        Set {
            poller: policy(first.poller(), 3_000),
            ids: take(per_set),
            group: false,
        },
        Set {
            poller: policy(second.poller(), 2_000),
            ids: take(per_set),
            group: false,
        },
        Set {
            poller: policy(second.poller(), 1_500),
            ids: take(per_set),
            group: true,
        },
    ];
    let cpu = (thread_cpu("sim"), thread_cpu("client"));
    let budgets = if std::ptr::addr_eq(
        std::sync::Arc::as_ptr(first.scheduler().request_budget()),
        std::sync::Arc::as_ptr(second.scheduler().request_budget()),
    ) {
        1
    } else {
        2
    };
    let started = Instant::now();
    let (completed, last_done) = client_rt.block_on(async {
        let mut lone = Vec::new();
        let mut groups = Vec::new();
        for set in sets {
            if set.group {
                groups.push(tokio::spawn(async move {
                    let mut done = 0usize;
                    let mut outcomes = set.poller.wait_all(set.ids).outcomes();
                    while let Some(o) = outcomes.next().await {
                        done += usize::from(o.result.is_ok());
                    }
                    (done, Instant::now())
                }));
            } else {
                for id in set.ids {
                    let poller = set.poller.clone();
                    lone.push(tokio::spawn(async move {
                        let ok = poller.wait(id).await.is_ok();
                        (usize::from(ok), Instant::now())
                    }));
                }
            }
        }
        let mut completed = 0usize;
        let mut last = started;
        for handle in lone.into_iter().chain(groups) {
            if let Ok((done, at)) = handle.await {
                completed += done;
                last = last.max(at);
            }
        }
        (completed, last.saturating_duration_since(started))
    });
    let sim_cpu = thread_cpu("sim").saturating_sub(cpu.0);
    let client_cpu = thread_cpu("client").saturating_sub(cpu.1);
    let counts = sim.counts();
    let log = sim.requests();
    sim_rt.block_on(sim.shutdown());
    let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
    Ok(Figures {
        budgets,
        requests: counts.total,
        ok: counts.status(200),
        rate_limited: counts.status(429),
        completed,
        tasks: n,
        most_in_window: most_in_any_window(log.iter().map(|r| r.at_ms), window_ms),
        last_done,
        sim_cpu,
        client_cpu,
    })
}

/// The most instants (in ms, ascending) that fall within any span of `window` ms.
fn most_in_any_window(at_ms: impl Iterator<Item = u64>, window: u64) -> usize {
    let at: Vec<u64> = at_ms.collect();
    let mut most = 0;
    let mut first = 0;
    for (last, t) in at.iter().enumerate() {
        while at
            .get(first)
            .is_some_and(|f| t.saturating_sub(*f) >= window)
        {
            first += 1;
        }
        most = most.max(last + 1 - first);
    }
    most
}

#[cfg(test)]
mod tests {
    use super::most_in_any_window;

    #[test]
    fn sliding_window_counts() {
        let at = [0, 10, 20, 999, 1000, 1001, 1500, 2600];
        // The 1000 ms ending at 1001 hold 10, 20, 999, 1000 and 1001; 0 is just out.
        assert_eq!(most_in_any_window(at.into_iter(), 1000), 5);
        assert_eq!(most_in_any_window(at.into_iter(), 1002), 6);
        assert_eq!(most_in_any_window(at.into_iter(), 1), 1);
        assert_eq!(most_in_any_window(std::iter::empty(), 1000), 0);
    }
}
