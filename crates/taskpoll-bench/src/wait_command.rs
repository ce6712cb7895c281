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
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::runware::{MediaKind, RunwareSim, RunwareSimConfig, RunwareTaskSpec};
use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};
use tokio::time::Instant;

use crate::measure::{ms, percentile, runtime};

/// Options of the wait-command run.
#[derive(Debug, Clone, clap::Args)]
pub struct WaitCommandArgs {
    /// Vendors to run: redis-cloud, runware (comma-separated).
    #[arg(long, default_value = "runware,redis-cloud", value_delimiter = ',')]
    pub vendors: Vec<String>,
    /// Task ids per vendor.
    #[arg(long, default_value_t = 10_000)]
    pub tasks: usize,
    /// Tasks finish uniformly between MIN and MAX milliseconds after they start.
    #[arg(long, default_value_t = 2_000)]
    pub min_ms: u64,
    /// See `--min-ms`.
    #[arg(long, default_value_t = 30_000)]
    pub max_ms: u64,
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

fn taskpoll_binary(args: &WaitCommandArgs) -> Result<PathBuf, String> {
    if let Some(p) = &args.taskpoll {
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

fn finish_times(args: &WaitCommandArgs) -> Vec<Duration> {
    let (min, max) = (args.min_ms, args.max_ms.max(args.min_ms + 1));
    (0..args.tasks as u64)
        .map(|i| {
            let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
            Duration::from_millis(min + h % (max - min))
        })
        .collect()
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

fn runware(args: &WaitCommandArgs, binary: &PathBuf) -> Result<Figures, String> {
    let rt = runtime("sim", 1).map_err(|e| e.to_string())?;
    let sim_started = Instant::now();
    let sim = rt
        .block_on(RunwareSim::start(RunwareSimConfig::default()))
        .map_err(|e| e.to_string())?;
    let env = [("RUNWARE_API_KEY", sim.api_key().to_owned())];
    let one = sim.create_task(
        RunwareTaskSpec::new(MediaKind::Image, 1).finish_after([Duration::from_millis(500)]),
    );
    let (_, idle, _) = run_command(
        binary,
        "runware",
        &env,
        &sim.base_url(),
        std::slice::from_ref(&one),
    )?;
    let ids: Vec<String> = finish_times(args)
        .into_iter()
        .map(|t| sim.create_task(RunwareTaskSpec::new(MediaKind::Image, 1).finish_after([t])))
        .collect();
    let before = sim.counts().endpoint("POST /v1 getResponse");
    let (lines, peak, took) = run_command(binary, "runware", &env, &sim.base_url(), &ids)?;
    let requests = sim.counts().endpoint("POST /v1 getResponse") - before;
    let (end_to_line, answer_to_line, completed) = delays(
        &lines,
        &|id| sim.finished_at(id),
        &sim.requests(),
        sim_started,
    );
    Ok(Figures {
        vendor: "runware",
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
    let env = [
        ("REDIS_CLOUD_API_KEY", sim.api_key().to_owned()),
        ("REDIS_CLOUD_API_SECRET", sim.secret_key().to_owned()),
    ];
    let one = sim.create_task(TaskScript {
        steps: vec![ScriptStep::for_time(
            "processing-in-progress",
            Duration::from_millis(500),
        )],
        outcome: ScriptOutcome::Success {
            result: serde_json::json!({"resourceId": 1}),
        },
    });
    let (_, idle, _) = run_command(
        binary,
        "redis-cloud",
        &env,
        &sim.base_url(),
        std::slice::from_ref(&one),
    )?;
    let ids: Vec<String> = finish_times(args)
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            sim.create_task(TaskScript {
                steps: vec![ScriptStep::for_time("processing-in-progress", t)],
                outcome: ScriptOutcome::Success {
                    result: serde_json::json!({"resourceId": 100_000 + i}),
                },
            })
        })
        .collect();
    let status = || {
        let c = sim.counts();
        c.endpoint("GET /v1/tasks") + c.endpoint("GET /v1/tasks/{taskId}")
    };
    let before = status();
    let (lines, peak, took) = run_command(binary, "redis-cloud", &env, &sim.base_url(), &ids)?;
    let requests = status() - before;
    let (end_to_line, answer_to_line, completed) = delays(
        &lines,
        &|id| sim.finished_at(id),
        &sim.requests(),
        sim_started,
    );
    Ok(Figures {
        vendor: "redis-cloud",
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

/// Runs it and prints the figures.
pub fn run(args: &WaitCommandArgs) -> Result<(), Box<dyn std::error::Error>> {
    let binary = taskpoll_binary(args)?;
    println!(
        "wait-command: `taskpoll wait VENDOR - --json` on {} ids from stdin, tasks ending {}..{} ms after they start",
        args.tasks, args.min_ms, args.max_ms
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
