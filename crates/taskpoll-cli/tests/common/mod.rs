//! What the command's tests share: the real `taskpoll` binary run with none of the
//! tester's credentials, its output read as text or JSON lines, long-running processes
//! signalled and awaited, the simulators' credentials as variables, and folders of
//! their own for files.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use taskpoll_sim::redis_cloud::RedisCloudSim;
use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};
use taskpoll_sim::stream::StreamSim;

/// Variables of the tester's environment the command would read: none reaches it
/// unless the test sets it.
const CLEARED: [&str; 11] = [
    "STREAM_API_KEY",
    "STREAM_API_SECRET",
    "REDIS_CLOUD_API_KEY",
    "REDIS_CLOUD_API_SECRET",
    "RUNWARE_API_KEY",
    "STREAM_BASE_URL",
    "REDIS_CLOUD_BASE_URL",
    "RUNWARE_BASE_URL",
    "JOBS_KEY",
    "REPLICATE_API_TOKEN",
    "RUST_LOG",
];

/// `taskpoll ARGS` with `env` set, none of [`CLEARED`] otherwise, and `NO_COLOR`.
pub fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_taskpoll"));
    for var in CLEARED {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1")
        .args(args)
        .envs(env.iter().copied());
    cmd
}

/// Runs `taskpoll ARGS` with `env` (see [`command`]) to its end, stdin empty.
pub async fn taskpoll(args: &[&str], env: &[(&str, &str)]) -> Output {
    taskpoll_with_stdin(args, env, None).await
}

/// Runs `taskpoll ARGS` with `env` (see [`command`]) to its end, stdin empty: its exit
/// code, stdout and stderr.
pub async fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    parts(&taskpoll(args, env).await)
}

/// Runs `taskpoll ARGS` with `env` (see [`command`]) to its end, with `stdin` on its
/// standard input (empty when `None`).
pub async fn taskpoll_with_stdin(
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&str>,
) -> Output {
    let mut cmd = command(args, env);
    let stdin = stdin.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        let mut child = cmd.spawn().expect("run taskpoll");
        let writer = stdin.map(|text| {
            let mut pipe = child.stdin.take().unwrap();
            std::thread::spawn(move || pipe.write_all(text.as_bytes()))
        });
        let out = child.wait_with_output().expect("wait for taskpoll");
        if let Some(writer) = writer {
            writer.join().unwrap().unwrap();
        }
        out
    })
    .await
    .unwrap()
}

/// What a run printed on stdout.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What a run printed on stderr.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A run's exit code, stdout and stderr.
pub fn parts(o: &Output) -> (Option<i32>, String, String) {
    (o.status.code(), stdout(o), stderr(o))
}

/// Each line of `text` as JSON (`--json` output).
pub fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

/// The one JSON line of `text`.
pub fn one_json_line(text: &str) -> Value {
    let mut lines = json_lines(text);
    assert_eq!(lines.len(), 1, "{text}");
    lines.remove(0)
}

/// The Stream simulator's credentials as the command's variables.
pub fn stream_env(sim: &StreamSim) -> [(&'static str, &str); 2] {
    [
        ("STREAM_API_KEY", sim.api_key()),
        ("STREAM_API_SECRET", sim.api_secret()),
    ]
}

/// The Redis Cloud simulator's credentials as the command's variables.
pub fn redis_cloud_env(sim: &RedisCloudSim) -> [(&'static str, &str); 2] {
    [
        ("REDIS_CLOUD_API_KEY", sim.api_key()),
        ("REDIS_CLOUD_API_SECRET", sim.secret_key()),
    ]
}

/// The most of `times` (in milliseconds, in any order) that fall in one window of
/// `window_ms`.
pub fn busiest_window(times: &[u64], window_ms: u64) -> usize {
    let mut times = times.to_vec();
    times.sort_unstable();
    (0..times.len())
        .map(|i| {
            let end = times[i] + window_ms;
            times[i..].iter().take_while(|t| **t < end).count()
        })
        .max()
        .unwrap_or(0)
}

/// A task `running` for `polls` polls (none for 0), then completed with `result`.
pub fn succeeds(polls: u32, result: Value) -> TaskScript {
    let steps = (polls > 0).then(|| ScriptStep::for_polls("running", polls));
    TaskScript {
        steps: steps.into_iter().collect(),
        outcome: ScriptOutcome::Success { result },
    }
}

/// A task that fails at once with `error`.
pub fn fails(error: Value) -> TaskScript {
    TaskScript {
        steps: vec![],
        outcome: ScriptOutcome::Failure { error },
    }
}

/// A task `running` for an hour: longer than any test waits.
pub fn runs_forever() -> TaskScript {
    TaskScript {
        steps: vec![ScriptStep::for_time("running", Duration::from_secs(3600))],
        outcome: ScriptOutcome::Success {
            result: serde_json::json!({}),
        },
    }
}

/// A folder of its own for `name` in this test process, created empty.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("taskpoll-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Waits up to `within` until `done` holds, looking every 10 ms; fails the test,
/// naming `what`, if it never does.
pub async fn until(what: &str, within: Duration, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Sends `signal` (`INT`, `TERM`, `KILL`) to the process `pid`.
pub fn signal(pid: u32, signal: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success(), "kill -{signal} {pid}");
}

/// A `taskpoll` process left running: its stdout lines arrive as it prints them, its
/// stderr is kept; killed when dropped.
pub struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    stdout: Option<JoinHandle<()>>,
    stderr: Option<JoinHandle<()>>,
    /// What it printed on stderr so far.
    errors: Arc<Mutex<String>>,
}

/// How a [`Running`] process ended.
pub struct Finished {
    /// Its exit code (`None` when a signal ended it).
    pub code: Option<i32>,
    /// Its stdout lines not read with [`Running::next_line`].
    pub lines: Vec<String>,
    /// All it printed on stderr.
    pub stderr: String,
}

impl Finished {
    /// The stdout lines as JSON (`--json` output).
    pub fn json(&self) -> Vec<Value> {
        json_lines(&self.lines.join("\n"))
    }
}

impl Running {
    /// Starts `taskpoll ARGS` with `env` (see [`command`]), stdin empty.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = command(args, env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run taskpoll");
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        let stdout = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let errors = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&errors);
        let stderr = std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = stderr.read(&mut chunk) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        Running {
            child,
            lines,
            stdout: Some(stdout),
            stderr: Some(stderr),
            errors,
        }
    }

    /// Sends `signal` (`INT`, `TERM`, `KILL`) to the process.
    pub fn signal(&self, signal: &str) {
        self::signal(self.child.id(), signal);
    }

    /// What it has printed on stderr so far.
    pub fn stderr_so_far(&self) -> String {
        self.errors.lock().unwrap().clone()
    }

    /// The next line it prints on stdout, waiting up to `within`.
    pub fn next_line(&self, within: Duration) -> String {
        self.lines
            .recv_timeout(within)
            .unwrap_or_else(|e| panic!("no line from taskpoll within {within:?}: {e}"))
    }

    /// Waits up to `within` for the process to end (it is killed, and the test fails,
    /// if it does not), and reads the rest of its output.
    pub async fn finish(self, within: Duration) -> Finished {
        tokio::task::spawn_blocking(move || self.finish_blocking(within))
            .await
            .unwrap()
    }

    /// [`finish`](Running::finish), and its exit code is `code`: its stdout lines as
    /// JSON.
    pub async fn ends_with(self, code: i32, within: Duration) -> Vec<Value> {
        let done = self.finish(within).await;
        assert_eq!(done.code, Some(code), "stderr: {}", done.stderr);
        done.json()
    }

    fn finish_blocking(mut self, within: Duration) -> Finished {
        let started = Instant::now();
        let code = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status.code();
            }
            if started.elapsed() > within {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let rest = self.read_rest();
                panic!(
                    "taskpoll did not end within {within:?}; lines {:?}; stderr {}",
                    rest.lines, rest.stderr
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Finished {
            code,
            ..self.read_rest()
        }
    }

    /// Everything it printed that was not read yet, once its pipes are closed.
    fn read_rest(&mut self) -> Finished {
        if let Some(h) = self.stdout.take() {
            h.join().unwrap();
        }
        if let Some(h) = self.stderr.take() {
            h.join().unwrap();
        }
        Finished {
            code: None,
            lines: self.lines.try_iter().collect(),
            stderr: self.stderr_so_far(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
