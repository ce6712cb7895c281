//! `fleet`: `taskpoll worker` processes sharing waits and one vendor budget through a
//! real `redis-server`, against the simulators, with one worker killed (SIGKILL)
//! mid-run.
//!
//! Per vendor: the one-process group first (`taskpoll wait VENDOR -` under the same
//! rate, for its request count), then the fleet: N workers (`--rate` the fleet's
//! budget, which is also the simulator's limit where it has one), the waits enqueued by
//! `taskpoll wait VENDOR - --redis URL`, which prints the outcomes. Figures: outcomes
//! (each once, also counted on the Redis channel), 429s, the most requests in any
//! window, requests against the one-process group, the time from the kill to the dead
//! worker's waits being polled again, Redis commands per vendor request (`INFO
//! commandstats`), and outcomes per second from 1 to N workers.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use taskpoll_fleet::testing::RedisServer;
use taskpoll_sim::accounting::{Counts, RequestRecord};
use taskpoll_sim::control::SimState;
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::runware::{MediaKind, RunwareSim, RunwareSimConfig, RunwareTaskSpec};
use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};
use taskpoll_sim::server;

use crate::measure::{Spread, ms, percentile, runtime, taskpoll_binary};

type BoxError = Box<dyn std::error::Error>;

/// Options of the fleet run.
#[derive(Debug, Clone, clap::Args)]
pub struct FleetArgs {
    /// Vendors to run: runware, redis-cloud (comma-separated).
    #[arg(long, default_value = "runware,redis-cloud", value_delimiter = ',')]
    pub vendors: Vec<String>,
    /// Waits per vendor.
    #[arg(long, default_value_t = 10_000)]
    pub tasks: usize,
    /// Worker processes per vendor.
    #[arg(long, default_value_t = 4)]
    pub workers: usize,
    #[command(flatten)]
    pub spread: Spread,
    /// The workers' lease.
    #[arg(long, default_value_t = 5)]
    pub lease_s: u64,
    /// When to kill one worker (SIGKILL), after the waits are enqueued.
    #[arg(long, default_value_t = 8_000)]
    pub kill_after_ms: u64,
    /// The fleet's Redis Cloud budget and the simulator's limit, per minute.
    #[arg(long, default_value_t = 400)]
    pub redis_cloud_per_minute: u32,
    /// The Redis Cloud simulator's limit per minute, when not the fleet's budget (the
    /// command's default budget is 300 under Redis Cloud's 400).
    #[arg(long)]
    pub redis_cloud_limit: Option<u32>,
    /// The fleet's Runware budget per minute (the simulator has no limit: the most
    /// requests in any minute says whether the budget held).
    #[arg(long, default_value_t = 3_000)]
    pub runware_per_minute: u32,
    /// Waits per step of the 1..N workers throughput scan (tasks already finished, no
    /// rate limit: the fleet's own cost); 0 skips the scan.
    #[arg(long, default_value_t = 5_000)]
    pub scan_tasks: usize,
    /// Skips the one-process group.
    #[arg(long)]
    pub no_baseline: bool,
    /// The `taskpoll` binary (default: next to this one).
    #[arg(long)]
    pub taskpoll: Option<PathBuf>,
}

/// One vendor's simulator, as the run needs it.
struct Sim {
    name: &'static str,
    base: String,
    env: Vec<(&'static str, String)>,
    /// A task that finishes `after` from now.
    create: Box<dyn Fn(Duration) -> String>,
    counts: Box<dyn Fn() -> Counts>,
    log: Box<dyn Fn() -> Vec<RequestRecord>>,
    reset: Box<dyn Fn()>,
    /// When the simulator started (its log's origin).
    started: Instant,
}

impl Sim {
    /// `sim`'s counts, log and reset, with what differs by vendor.
    fn new<S: SimState + 'static>(
        name: &'static str,
        sim: Arc<server::Sim<S>>,
        base: String,
        env: Vec<(&'static str, String)>,
        create: Box<dyn Fn(Duration) -> String>,
        started: Instant,
    ) -> Self {
        let (counted, logged) = (Arc::clone(&sim), Arc::clone(&sim));
        Sim {
            name,
            base,
            env,
            create,
            counts: Box::new(move || counted.counts()),
            log: Box::new(move || logged.requests()),
            reset: Box::new(move || sim.reset()),
            started,
        }
    }

    /// Forgets every task, count and logged request, then creates a task ending at
    /// each of `times` from now; returns their ids.
    fn fresh(&self, times: Vec<Duration>) -> Vec<String> {
        (self.reset)();
        times.into_iter().map(|t| (self.create)(t)).collect()
    }
}

fn runware_sim(rt: &tokio::runtime::Runtime) -> Result<Sim, BoxError> {
    let started = Instant::now();
    let sim = Arc::new(rt.block_on(RunwareSim::start(RunwareSimConfig::default()))?);
    let env = vec![("RUNWARE_API_KEY", sim.api_key().to_owned())];
    let tasks = Arc::clone(&sim);
    let create = Box::new(move |t: Duration| {
        tasks.create_task(RunwareTaskSpec::new(MediaKind::Image, 1).finish_after([t]))
    });
    let base = sim.base_url();
    Ok(Sim::new("runware", sim, base, env, create, started))
}

fn redis_cloud_sim(rt: &tokio::runtime::Runtime, per_minute: u32) -> Result<Sim, BoxError> {
    let started = Instant::now();
    let sim = Arc::new(rt.block_on(RedisCloudSim::start(RedisCloudSimConfig {
        serial_processing: false,
        rate_limit_per_minute: per_minute,
        ..RedisCloudSimConfig::default()
    }))?);
    let env = vec![
        ("REDIS_CLOUD_API_KEY", sim.api_key().to_owned()),
        ("REDIS_CLOUD_API_SECRET", sim.secret_key().to_owned()),
    ];
    let tasks = Arc::clone(&sim);
    let create = Box::new(move |t: Duration| {
        let steps = if t.is_zero() {
            Vec::new()
        } else {
            vec![ScriptStep::for_time("processing-in-progress", t)]
        };
        tasks.create_task(TaskScript {
            steps,
            outcome: ScriptOutcome::Success {
                result: serde_json::json!({"resourceId": 1}),
            },
        })
    });
    let base = sim.base_url();
    Ok(Sim::new("redis-cloud", sim, base, env, create, started))
}

/// Runs `taskpoll ARGS` with `ids` on stdin; its stdout lines with when they arrived.
fn run_lines(
    binary: &PathBuf,
    args: &[String],
    env: &[(&'static str, String)],
    ids: &[String],
    within: Duration,
) -> Result<Vec<(String, Instant)>, BoxError> {
    let mut child = Command::new(binary)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let input = ids.join("\n");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send((line, Instant::now()));
        }
    });
    let deadline = Instant::now() + within;
    let mut lines = Vec::with_capacity(ids.len());
    while lines.len() < ids.len() {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(l) => lines.push(l),
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = writer.join();
    Ok(lines)
}

fn worker_args(sim: &Sim, redis: &str, rate: Option<u32>, lease_s: u64) -> Vec<String> {
    let mut a: Vec<String> = [
        "worker",
        sim.name,
        "--redis",
        redis,
        "--base-url",
        &sim.base,
    ]
    .map(String::from)
    .to_vec();
    if let Some(n) = rate {
        a.extend(["--rate".into(), format!("{n}/1m")]);
    }
    a.extend(["--lease".into(), format!("{lease_s}s")]);
    a
}

fn start_workers(
    binary: &PathBuf,
    sim: &Sim,
    args: &[String],
    n: usize,
) -> Result<Vec<Child>, BoxError> {
    (0..n)
        .map(|_| {
            Command::new(binary)
                .args(args)
                .envs(sim.env.iter().map(|(k, v)| (*k, v.as_str())))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .map_err(Into::into)
        })
        .collect()
}

fn stop_workers(workers: &mut [Child]) {
    for w in workers.iter() {
        let _ = Command::new("kill")
            .args(["-TERM", &w.id().to_string()])
            .status();
    }
    for w in workers.iter_mut() {
        let _ = w.wait();
    }
}

/// Commands this benchmark sends to Redis itself, by name, to leave out of the counts.
#[derive(Debug, Clone, Default)]
struct Mine(Arc<Mutex<HashMap<&'static str, u64>>>);

impl Mine {
    fn add(&self, name: &'static str, n: u64) {
        *self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(name)
            .or_insert(0) += n;
    }

    fn get(&self, name: &str) -> u64 {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .copied()
            .unwrap_or(0)
    }
}

/// Redis commands run so far, by name, from INFO commandstats (INFO itself left out).
fn commands(con: &mut redis::Connection) -> Result<HashMap<String, u64>, BoxError> {
    let info: String = redis::cmd("INFO").arg("commandstats").query(con)?;
    Ok(info
        .lines()
        .filter_map(|l| l.strip_prefix("cmdstat_"))
        .filter(|l| !l.starts_with("info:"))
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let calls = rest
                .split("calls=")
                .nth(1)?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .collect())
}

/// Commands run between two readings, by name, most first.
fn delta(before: &HashMap<String, u64>, after: &HashMap<String, u64>) -> Vec<(String, u64)> {
    let mut d: Vec<(String, u64)> = after
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.saturating_sub(before.get(k).copied().unwrap_or(0)),
            )
        })
        .filter(|(_, v)| *v > 0)
        .collect();
    d.sort_by_key(|e| std::cmp::Reverse(e.1));
    d
}

/// Counts every outcome published on the vendor's channel, per task id.
fn count_published(
    url: &str,
    vendor: &str,
    stop: Arc<AtomicBool>,
) -> Result<Arc<Mutex<HashMap<String, u32>>>, BoxError> {
    let counts = Arc::new(Mutex::new(HashMap::new()));
    let mut con = redis::Client::open(url)?.get_connection()?;
    con.set_read_timeout(Some(Duration::from_millis(200)))?;
    let channel = format!("taskpoll:{vendor}:outcomes");
    let seen = Arc::clone(&counts);
    std::thread::spawn(move || {
        let mut pubsub = con.as_pubsub();
        if pubsub.subscribe(&channel).is_err() {
            return;
        }
        while !stop.load(Ordering::Relaxed) {
            let Ok(msg) = pubsub.get_message() else {
                continue;
            };
            let Ok(text) = msg.get_payload::<String>() else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            if let Some(id) = v["task_id"].as_str() {
                let mut map = seen.lock().unwrap_or_else(|e| e.into_inner());
                *map.entry(id.to_owned()).or_insert(0) += 1;
            }
        }
    });
    Ok(counts)
}

/// The most requests of `log` in any window of `window`.
fn most_in_window(log: &[RequestRecord], window: Duration) -> usize {
    let mut times: Vec<u64> = log.iter().map(|r| r.at_ms).collect();
    times.sort_unstable();
    let w = window.as_millis() as u64;
    let mut most = 0;
    let mut j = 0;
    for i in 0..times.len() {
        while times[i] - times[j] >= w {
            j += 1;
        }
        most = most.max(i + 1 - j);
    }
    most
}

/// What one fleet run measured.
struct Run {
    tasks: usize,
    lines: usize,
    distinct: usize,
    completed: usize,
    published_twice: usize,
    requests: u64,
    too_many: u64,
    most_in_minute: usize,
    redis_commands: u64,
    /// The commands run, by name, most first.
    by_command: Vec<(String, u64)>,
    took: Duration,
    /// After the kill: the dead worker's waits, and how long until each was polled
    /// again (by the simulator's log where it names the task, else by Redis).
    dead: usize,
    takeover: Vec<Duration>,
    /// How much later than its own next poll (as last written down) each was polled.
    late: Vec<Duration>,
}

/// The dead worker's waits, polled again: from the simulator's log (Runware names every
/// task of a POST), else from the waits' progress in Redis (`polls` grew under a new
/// owner, or the outcome is there).
fn watch_takeover(
    url: &str,
    vendor: &str,
    dead: Vec<String>,
    wid: String,
    killed: Instant,
    extra: Mine,
) -> std::thread::JoinHandle<HashMap<String, Duration>> {
    let url = url.to_owned();
    let prefix = format!("taskpoll:{vendor}");
    std::thread::spawn(move || {
        let mut seen = HashMap::new();
        let Ok(client) = redis::Client::open(url) else {
            return seen;
        };
        let Ok(mut con) = client.get_connection() else {
            return seen;
        };
        while seen.len() < dead.len() && killed.elapsed() < Duration::from_secs(120) {
            for id in &dead {
                if seen.contains_key(id) {
                    continue;
                }
                let (owner, outcome): (Option<String>, bool) = redis::pipe()
                    .cmd("HGET")
                    .arg(format!("{prefix}:wait:{id}"))
                    .arg("owner")
                    .cmd("EXISTS")
                    .arg(format!("{prefix}:outcome:{id}"))
                    .query(&mut con)
                    .unwrap_or((None, false));
                extra.add("hget", 1);
                extra.add("exists", 1);
                if owner.as_deref().is_some_and(|o| o != wid) || outcome {
                    seen.insert(id.clone(), killed.elapsed());
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        seen
    })
}

#[allow(clippy::too_many_arguments)]
fn fleet_run(
    binary: &PathBuf,
    sim: &Sim,
    server: &RedisServer,
    ids: &[String],
    workers: usize,
    rate: Option<u32>,
    args: &FleetArgs,
    kill: bool,
) -> Result<Run, BoxError> {
    let url = server.url();
    let mut con = redis::Client::open(url.as_str())?.get_connection()?;
    let _: () = redis::cmd("FLUSHALL").query(&mut con)?;
    let stop = Arc::new(AtomicBool::new(false));
    let published = count_published(&url, sim.name, Arc::clone(&stop))?;
    let mut children = start_workers(
        binary,
        sim,
        &worker_args(sim, &url, rate, args.lease_s),
        workers,
    )?;
    std::thread::sleep(Duration::from_millis(300));
    let before = (sim.counts)();
    let log_from = (sim.log)().last().map_or(0, |r| r.seq);
    let commands_before = commands(&mut con)?;
    let extra = Mine::default();
    let started = Instant::now();
    let wait_args: Vec<String> = ["wait", sim.name, "-", "--redis", &url, "--json", "-q"]
        .map(String::from)
        .to_vec();
    let within = Duration::from_millis(args.spread.max_ms) + Duration::from_secs(300);
    let waiter = {
        let (binary, ids) = (binary.clone(), ids.to_vec());
        std::thread::spawn(move || {
            run_lines(&binary, &wait_args, &[], &ids, within).map_err(|e| e.to_string())
        })
    };
    let mut dead_info = None;
    if kill && !children.is_empty() {
        std::thread::sleep(Duration::from_millis(args.kill_after_ms));
        // The victim: the worker holding the most waits.
        let workers_key = format!("taskpoll:{}:workers", sim.name);
        let wids: Vec<String> = redis::cmd("ZRANGE")
            .arg(&workers_key)
            .arg(0)
            .arg(-1)
            .query(&mut con)?;
        let mut best: Option<(usize, String, Vec<String>)> = None;
        for (i, child) in children.iter().enumerate() {
            let Some(wid) = wids
                .iter()
                .find(|w| w.starts_with(&format!("{}-", child.id())))
            else {
                continue;
            };
            let owned: Vec<String> = redis::cmd("SMEMBERS")
                .arg(format!("taskpoll:{}:owned:{wid}", sim.name))
                .query(&mut con)?;
            if best.as_ref().is_none_or(|(_, _, o)| owned.len() > o.len()) {
                best = Some((i, wid.clone(), owned));
            }
        }
        let (victim_index, wid, owned) = best.ok_or("no worker holds a lease")?;
        // Each dead wait's next poll, as its worker last wrote it down.
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis() as u64;
        let mut dead = Vec::new();
        for id in owned {
            let next: Option<u64> = redis::cmd("HGET")
                .arg(format!("taskpoll:{}:wait:{id}", sim.name))
                .arg("next_ms")
                .query(&mut con)?;
            let due_in = Duration::from_millis(next.unwrap_or(now_ms).saturating_sub(now_ms));
            dead.push((id, due_in));
        }
        extra.add("zrange", 1);
        extra.add("smembers", children.len() as u64);
        extra.add("hget", dead.len() as u64);
        let mut victim = children.remove(victim_index);
        let _ = victim.kill();
        let killed = Instant::now();
        let _ = victim.wait();
        let n = dead.len();
        let watcher = watch_takeover(
            &url,
            sim.name,
            dead.iter().map(|(id, _)| id.clone()).collect(),
            wid,
            killed,
            extra.clone(),
        );
        dead_info = Some((dead, killed, watcher, n));
    }
    let lines = waiter.join().map_err(|_| "waiter thread")??;
    let took = started.elapsed();
    let mut by_command = delta(&commands_before, &commands(&mut con)?);
    // Leave out the commands this benchmark sent to watch the takeover.
    for (name, n) in by_command.iter_mut() {
        *n = n.saturating_sub(extra.get(name));
    }
    by_command.retain(|(_, n)| *n > 0);
    by_command.sort_by_key(|e| std::cmp::Reverse(e.1));
    stop_workers(&mut children);
    stop.store(true, Ordering::Relaxed);
    let after = (sim.counts)();
    let log: Vec<RequestRecord> = (sim.log)()
        .into_iter()
        .filter(|r| r.seq > log_from)
        .collect();
    let mut takeover = Vec::new();
    let mut late = Vec::new();
    let mut dead_n = 0;
    if let Some((dead, killed, watcher, n)) = dead_info {
        dead_n = n;
        let by_redis = watcher.join().unwrap_or_default();
        let names_tasks = sim.name == "runware";
        for (id, due_in) in &dead {
            let from_log = names_tasks
                .then(|| {
                    log.iter()
                        .filter(|r| r.task_ids.iter().any(|t| t == id))
                        .map(|r| sim.started + Duration::from_millis(r.at_ms))
                        .find(|at| *at > killed)
                        .map(|at| at - killed)
                })
                .flatten();
            if let Some(d) = from_log.or_else(|| by_redis.get(id).copied()) {
                takeover.push(d);
                late.push(d.saturating_sub(*due_in));
            }
        }
    }
    let mut distinct = HashSet::new();
    let mut completed = 0;
    for (l, _) in &lines {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(l) {
            if let Some(id) = v["task_id"].as_str() {
                distinct.insert(id.to_owned());
            }
            if v["outcome"] == "completed" {
                completed += 1;
            }
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    let published_twice = published
        .lock()
        .map(|m| m.values().filter(|n| **n > 1).count())
        .unwrap_or(0);
    Ok(Run {
        tasks: ids.len(),
        lines: lines.len(),
        distinct: distinct.len(),
        completed,
        published_twice,
        requests: after.total - before.total,
        too_many: after.status(429) - before.status(429),
        most_in_minute: most_in_window(&log, Duration::from_secs(60)),
        redis_commands: by_command.iter().map(|(_, n)| n).sum(),
        by_command,
        took,
        dead: dead_n,
        takeover,
        late,
    })
}

fn vendor(
    args: &FleetArgs,
    binary: &PathBuf,
    server: &RedisServer,
    sim: &Sim,
    scan: &Sim,
) -> Result<(), BoxError> {
    let rate = match sim.name {
        "runware" => args.runware_per_minute,
        _ => args.redis_cloud_per_minute,
    };
    let limit = match sim.name {
        "runware" => {
            "no simulator limit (the most requests in any minute tells whether the budget held)"
                .to_owned()
        }
        _ => format!(
            "simulator limit {}/min",
            args.redis_cloud_limit.unwrap_or(rate)
        ),
    };
    println!(
        "\n{}: {} waits finishing {}..{} ms after they start; fleet budget {rate}/min, {limit}",
        sim.name, args.tasks, args.spread.min_ms, args.spread.max_ms,
    );
    let mut baseline = None;
    if !args.no_baseline {
        let ids = sim.fresh(args.spread.even(args.tasks));
        let before = (sim.counts)().total;
        let started = Instant::now();
        let a: Vec<String> = [
            "wait",
            sim.name,
            "-",
            "--base-url",
            &sim.base,
            "--rate",
            &format!("{rate}/1m"),
            "--json",
            "-q",
        ]
        .map(String::from)
        .to_vec();
        let lines = run_lines(
            binary,
            &a,
            &sim.env,
            &ids,
            Duration::from_millis(args.spread.max_ms) + Duration::from_secs(300),
        )?;
        let requests = (sim.counts)().total - before;
        println!(
            "  one-process group (taskpoll wait): {} of {} outcomes, {requests} requests, {:.1} s",
            lines.len(),
            ids.len(),
            started.elapsed().as_secs_f64()
        );
        baseline = Some(requests);
    }
    let ids = sim.fresh(args.spread.even(args.tasks));
    let r = fleet_run(
        binary,
        sim,
        server,
        &ids,
        args.workers,
        Some(rate),
        args,
        true,
    )?;
    let mut t = r.takeover.clone();
    println!(
        "  fleet of {} workers, one killed {} ms after the enqueue:",
        args.workers, args.kill_after_ms
    );
    println!(
        "    outcomes                   {} of {} ({} lines, {} completed), published twice: {}",
        r.distinct, r.tasks, r.lines, r.completed, r.published_twice
    );
    println!("    429s                       {}", r.too_many);
    println!(
        "    most requests in a minute  {} (budget {rate})",
        r.most_in_minute
    );
    match baseline {
        Some(b) => println!(
            "    requests                   {} (one-process group: {b}, {:.2}x)",
            r.requests,
            r.requests as f64 / b.max(1) as f64
        ),
        None => println!("    requests                   {}", r.requests),
    }
    println!(
        "    Redis commands             {} ({:.1} per vendor request)",
        r.redis_commands,
        r.redis_commands as f64 / r.requests.max(1) as f64
    );
    let top: Vec<String> = r
        .by_command
        .iter()
        .take(8)
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    println!(
        "    per wait                   {:.1} Redis commands (most: {})",
        r.redis_commands as f64 / r.tasks.max(1) as f64,
        top.join(", ")
    );
    let mut late = r.late.clone();
    let how = if sim.name == "runware" {
        "polled again (the simulator's log)"
    } else {
        "claimed by another worker (Redis; a list request answers every task)"
    };
    println!(
        "    killed worker's waits      {} held; {} {how}: first after {} ms, p50 {} ms, all by {} ms (lease {} s)",
        r.dead,
        t.len(),
        ms(percentile(&mut t, 0.0)),
        ms(percentile(&mut t, 50.0)),
        ms(percentile(&mut t, 100.0)),
        args.lease_s
    );
    println!(
        "    past each one's own next poll  p50 {} ms, p99 {} ms, max {} ms",
        ms(percentile(&mut late, 50.0)),
        ms(percentile(&mut late, 99.0)),
        ms(percentile(&mut late, 100.0)),
    );
    println!(
        "    last outcome after         {:.1} s",
        r.took.as_secs_f64()
    );
    if args.scan_tasks > 0 {
        print!(
            "  throughput, {} finished tasks, no rate limit:",
            args.scan_tasks
        );
        for n in 1..=args.workers {
            (scan.reset)();
            let ids: Vec<String> = (0..args.scan_tasks)
                .map(|_| (scan.create)(Duration::ZERO))
                .collect();
            let r = fleet_run(binary, scan, server, &ids, n, Some(1_000_000), args, false)?;
            print!(
                "  {n} worker{}: {:.0}/s",
                if n == 1 { "" } else { "s" },
                r.distinct as f64 / r.took.as_secs_f64().max(0.001)
            );
            std::io::stdout().flush()?;
        }
        println!();
    }
    Ok(())
}

/// Runs it and prints the figures.
pub fn run(args: &FleetArgs) -> Result<(), BoxError> {
    let binary = taskpoll_binary(args.taskpoll.as_ref())?;
    let server = RedisServer::start()?;
    let rt = runtime("sim", 1)?;
    println!(
        "fleet: {} `taskpoll worker` processes per vendor on one redis-server, waits enqueued by `taskpoll wait VENDOR - --redis`, lease {} s",
        args.workers, args.lease_s
    );
    for v in &args.vendors {
        match v.as_str() {
            "runware" => {
                let sim = runware_sim(&rt)?;
                let scan = runware_sim(&rt)?;
                vendor(args, &binary, &server, &sim, &scan)?;
            }
            "redis-cloud" => {
                let limit = args
                    .redis_cloud_limit
                    .unwrap_or(args.redis_cloud_per_minute);
                let sim = redis_cloud_sim(&rt, limit)?;
                let scan = redis_cloud_sim(&rt, 1_000_000)?;
                vendor(args, &binary, &server, &sim, &scan)?;
            }
            other => return Err(format!("unknown vendor {other}").into()),
        }
    }
    Ok(())
}
