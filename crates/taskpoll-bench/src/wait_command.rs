//! `wait-command`: the `taskpoll wait` command itself, as a process, on many ids read
//! from stdin, against in-process simulators.
//!
//! For each vendor: the requests the command sent against what a loop per task would
//! have sent (one request per poll of each task: the simulator counts both), the
//! command's peak resident memory (sampled from `/proc` while it runs) per wait, and two
//! delays per task: from its end at the simulator to its line on the command's stdout,
//! and from the simulator's answer that showed it ended to that line (the command's own
//! latency).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use taskpoll_sim::accounting::RequestRecord;
use taskpoll_sim::control::SimState;
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::runware::{MediaKind, RunwareSim, RunwareSimConfig, RunwareTaskSpec};
use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};
use taskpoll_sim::server;
use tokio::time::Instant;

use crate::measure::{Spread, ms, percentile, runtime, taskpoll_binary};

/// Options of the wait-command run.
#[derive(Debug, Clone, clap::Args)]
pub struct WaitCommandArgs {
    /// Vendors to run: redis-cloud, runware (comma-separated).
    #[arg(long, default_value = "runware,redis-cloud", value_delimiter = ',')]
    pub vendors: Vec<String>,
    /// Task ids per vendor.
    #[arg(long, default_value_t = 10_000)]
    pub tasks: usize,
    #[command(flatten)]
    pub spread: Spread,
    /// The `taskpoll` binary (default: next to this one).
    #[arg(long)]
    pub taskpoll: Option<PathBuf>,
}

/// What one vendor's run measured.
struct Figures {
    vendor: &'static str,
    tasks: usize,
    lines: usize,
    completed: usize,
    requests: u64,
    per_task_loop: u64,
    peak_kib: u64,
    idle_kib: u64,
    end_to_line: Vec<Duration>,
    answer_to_line: Vec<Duration>,
    took: Duration,
}

/// Peak RSS of a process, in KiB, from `/proc/PID/status` (0 once it is gone).
fn peak_of(pid: u32) -> u64 {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return 0;
    };
    text.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Each line of the command's stdout, with when it arrived.
type Lines = Vec<(String, Instant)>;

/// Runs the command with `ids` on stdin; returns each line with when it arrived, the
/// command's peak RSS, and its run time.
fn run_command(
    binary: &PathBuf,
    vendor: &str,
    env: &[(&str, String)],
    base_url: &str,
    ids: &[String],
) -> Result<(Lines, u64, Duration), String> {
    let started = Instant::now();
    let mut child = Command::new(binary)
        .args(["wait", vendor, "-", "--base-url", base_url, "--json", "-q"])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let pid = child.id();
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let input = ids.join("\n");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let sampler_done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done = std::sync::Arc::clone(&sampler_done);
    let sampler = std::thread::spawn(move || {
        let mut peak = 0;
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            peak = peak.max(peak_of(pid));
            std::thread::sleep(Duration::from_millis(50));
        }
        peak
    });
    let mut lines = Vec::with_capacity(ids.len());
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| e.to_string())?;
        lines.push((line, Instant::now()));
        if lines.len() == ids.len() {
            // The last line: read the peak before the process exits.
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(60));
    sampler_done.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.join().unwrap_or(0);
    let _ = child.wait();
    let _ = writer.join();
    Ok((lines, peak, started.elapsed()))
}

/// Polls made in all, from the lines: what a loop per task on the same schedule sends.
fn polls(lines: &[(String, Instant)]) -> u64 {
    lines
        .iter()
        .filter_map(|(l, _)| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["polls"].as_u64())
        .sum()
}

/// The delays of each line: from the task's end, and from the answer that showed it.
fn delays(
    lines: &[(String, Instant)],
    finished_at: &dyn Fn(&str) -> Option<Instant>,
    log: &[RequestRecord],
    sim_started: Instant,
) -> (Vec<Duration>, Vec<Duration>, usize) {
    let mut last_answer: HashMap<&str, u64> = HashMap::new();
    for r in log {
        for id in &r.task_ids {
            last_answer.insert(id.as_str(), r.at_ms);
        }
    }
    let (mut end, mut answer, mut completed) = (Vec::new(), Vec::new(), 0);
    for (line, at) in lines {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let Some(id) = v["task_id"].as_str() else {
            continue;
        };
        if v["outcome"] != "completed" {
            continue;
        }
        completed += 1;
        if let Some(t) = finished_at(id) {
            end.push(at.saturating_duration_since(t));
        }
        if let Some(ms) = last_answer.get(id) {
            let answered = sim_started + Duration::from_millis(*ms);
            answer.push(at.saturating_duration_since(answered));
        }
    }
    (end, answer, completed)
}

/// What the run needs of one vendor's simulator.
trait CommandSim {
    /// The vendor, as `taskpoll wait` names it.
    const VENDOR: &'static str;
    /// The command's environment: the simulator's credentials.
    fn env(&self) -> Vec<(&'static str, String)>;
    /// A task that ends `after` from now (`resource`: an id for its result).
    fn task(&self, after: Duration, resource: usize) -> String;
    /// Status requests answered so far.
    fn status_requests(&self) -> u64;
    /// The base URL the command is given.
    fn base(&self) -> String;
    /// When task `id` ended at the simulator.
    fn finished(&self, id: &str) -> Option<Instant>;
}

impl CommandSim for RunwareSim {
    const VENDOR: &'static str = "runware";

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![("RUNWARE_API_KEY", self.api_key().to_owned())]
    }

    fn task(&self, after: Duration, _: usize) -> String {
        self.create_task(RunwareTaskSpec::new(MediaKind::Image, 1).finish_after([after]))
    }

    fn status_requests(&self) -> u64 {
        self.counts().endpoint("POST /v1 getResponse")
    }

    fn base(&self) -> String {
        self.base_url()
    }

    fn finished(&self, id: &str) -> Option<Instant> {
        self.finished_at(id)
    }
}

impl CommandSim for RedisCloudSim {
    const VENDOR: &'static str = "redis-cloud";

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("REDIS_CLOUD_API_KEY", self.api_key().to_owned()),
            ("REDIS_CLOUD_API_SECRET", self.secret_key().to_owned()),
        ]
    }

    fn task(&self, after: Duration, resource: usize) -> String {
        self.create_task(TaskScript {
            steps: vec![ScriptStep::for_time("processing-in-progress", after)],
            outcome: ScriptOutcome::Success {
                result: serde_json::json!({"resourceId": resource}),
            },
        })
    }

    fn status_requests(&self) -> u64 {
        let c = self.counts();
        c.endpoint("GET /v1/tasks") + c.endpoint("GET /v1/tasks/{taskId}")
    }

    fn base(&self) -> String {
        self.base_url()
    }

    fn finished(&self, id: &str) -> Option<Instant> {
        self.finished_at(id)
    }
}

/// Runs the command once on one task (its idle memory), then on the run's tasks.
fn figures<S: SimState>(
    args: &WaitCommandArgs,
    binary: &PathBuf,
    sim: &server::Sim<S>,
    sim_started: Instant,
) -> Result<Figures, String>
where
    server::Sim<S>: CommandSim,
{
    let (vendor, env, base) = (<server::Sim<S>>::VENDOR, sim.env(), sim.base());
    let one = sim.task(Duration::from_millis(500), 1);
    let (_, idle, _) = run_command(binary, vendor, &env, &base, std::slice::from_ref(&one))?;
    let ids: Vec<String> = args
        .spread
        .even(args.tasks)
        .into_iter()
        .enumerate()
        .map(|(i, t)| sim.task(t, 100_000 + i))
        .collect();
    let before = sim.status_requests();
    let (lines, peak, took) = run_command(binary, vendor, &env, &base, &ids)?;
    let requests = sim.status_requests() - before;
    let (end_to_line, answer_to_line, completed) =
        delays(&lines, &|id| sim.finished(id), &sim.requests(), sim_started);
    Ok(Figures {
        vendor,
        tasks: ids.len(),
        lines: lines.len(),
        completed,
        requests,
        per_task_loop: polls(&lines),
        peak_kib: peak,
        idle_kib: idle,
        end_to_line,
        answer_to_line,
        took,
    })
}

fn runware(args: &WaitCommandArgs, binary: &PathBuf) -> Result<Figures, String> {
    let rt = runtime("sim", 1).map_err(|e| e.to_string())?;
    let sim_started = Instant::now();
    let sim = rt
        .block_on(RunwareSim::start(RunwareSimConfig::default()))
        .map_err(|e| e.to_string())?;
    figures(args, binary, &sim, sim_started)
}

fn redis_cloud(args: &WaitCommandArgs, binary: &PathBuf) -> Result<Figures, String> {
    let rt = runtime("sim", 1).map_err(|e| e.to_string())?;
    let sim_started = Instant::now();
    // One-task-at-a-time processing is lifted: every task follows its own script.
    let sim = rt
        .block_on(RedisCloudSim::start(RedisCloudSimConfig {
            serial_processing: false,
            ..RedisCloudSimConfig::default()
        }))
        .map_err(|e| e.to_string())?;
    figures(args, binary, &sim, sim_started)
}

/// Runs it and prints the figures.
pub fn run(args: &WaitCommandArgs) -> Result<(), Box<dyn std::error::Error>> {
    let binary = taskpoll_binary(args.taskpoll.as_ref())?;
    println!(
        "wait-command: `taskpoll wait VENDOR - --json` on {} ids from stdin, tasks ending {}..{} ms after they start",
        args.tasks, args.spread.min_ms, args.spread.max_ms
    );
    for vendor in &args.vendors {
        let mut f = match vendor.as_str() {
            "runware" => runware(args, &binary)?,
            "redis-cloud" => redis_cloud(args, &binary)?,
            other => return Err(format!("unknown vendor {other}").into()),
        };
        let per_wait = f
            .peak_kib
            .saturating_sub(f.idle_kib)
            .saturating_mul(1024)
            .checked_div(f.tasks as u64)
            .unwrap_or(0);
        println!("{}:", f.vendor);
        println!(
            "  lines {} of {} tasks ({} completed) in {:.1} s",
            f.lines,
            f.tasks,
            f.completed,
            f.took.as_secs_f64()
        );
        println!(
            "  status requests {} against {} for a loop per task: {:.0}x fewer",
            f.requests,
            f.per_task_loop,
            f.per_task_loop as f64 / f.requests.max(1) as f64
        );
        println!(
            "  peak RSS {} KiB ({} KiB idle): {} bytes per wait",
            f.peak_kib, f.idle_kib, per_wait
        );
        println!(
            "  task end to its line: p50 {} ms, p99 {} ms, max {} ms",
            ms(percentile(&mut f.end_to_line, 50.0)),
            ms(percentile(&mut f.end_to_line, 99.0)),
            ms(percentile(&mut f.end_to_line, 100.0))
        );
        println!(
            "  answer showing the end to its line: p50 {} ms, p99 {} ms, max {} ms",
            ms(percentile(&mut f.answer_to_line, 50.0)),
            ms(percentile(&mut f.answer_to_line, 99.0)),
            ms(percentile(&mut f.answer_to_line, 100.0))
        );
    }
    Ok(())
}
