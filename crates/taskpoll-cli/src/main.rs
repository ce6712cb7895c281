//! `taskpoll`: wait on vendor tasks from a shell, serve the simulators, or run the demo.
//!
//! ```text
//! taskpoll demo
//! taskpoll wait stream 6a1c0f7e-3b52-4c8e-9a61-2f0d8d1b7c44 --timeout 5m --json
//! taskpoll wait runware 6f1c2a3e-0b7d-4e0a-9a51-2f3c4d5e6f70 --results 4
//! cat ids.txt | taskpoll wait redis-cloud - --rate 300/1m --json
//! taskpoll wait --spec specs/replicate-predictions.toml gm3qorzdhgbfurvjtvhg6dckhu --json
//! taskpoll spec check specs/openai-batches.toml
//! taskpoll sim --stream 127.0.0.1:8001
//! ```
//!
//! Exit status: 0 every task completed, 1 a task failed (or `demo`/`sim` could not
//! run), 2 usage error, 3 a wait timed out, 4 a status could not be fetched; with
//! several tasks the highest of 4 > 3 > 1 > 0; 130 interrupted by SIGINT or SIGTERM.

mod args;
mod board;
mod demo;
mod drive;
mod fleet;
mod progress;
mod report;
mod wait;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// Why the command could not do what it was asked.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A usage mistake (exit status 2).
    Usage(String),
    /// Something went wrong running it: a port in use, a simulator that would not
    /// start (exit status 1).
    Runtime(String),
}

/// Wait on vendors' asynchronous tasks (Stream, Redis Cloud, Runware).
#[derive(Debug, Parser)]
#[command(name = "taskpoll", version, about, propagate_version = true)]
struct Cli {
    /// Log retries, 429 pauses and Retry-After delays on stderr (-v), and every poll
    /// (-vv). RUST_LOG, when set, decides instead.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the three simulators in-process, start tasks at each, and wait on all of them
    /// at once (no network, no credentials).
    Demo(demo::DemoArgs),
    /// Wait on tasks until they finish. Exit status: 0 completed, 1 failed, 2 usage,
    /// 3 timed out, 4 could not fetch (the highest wins), 130 interrupted.
    Wait(wait::WaitArgs),
    /// Run a fleet worker: poll the waits enqueued in Redis (`wait --redis`) with this
    /// vendor's credentials, sharing them and one request budget with every other
    /// worker, until SIGINT or SIGTERM.
    Worker(fleet::WorkerArgs),
    /// Work with spec files: any JSON task API described in TOML (`wait --spec FILE`).
    #[command(subcommand)]
    Spec(SpecCommand),
    /// Serve the loopback simulators until interrupted (same as `taskpoll-sim`).
    Sim(taskpoll_sim::cli::SimArgs),
    /// Print shell completions (bash, zsh, fish, powershell, elvish) to stdout.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
enum SpecCommand {
    /// Validate a spec file and print what it understood: the request, the status
    /// mapping, the pointers, the HTTP rules, the poll settings and the budget (never a
    /// secret's value). Exit status 0 valid, 2 a mistake (named with its file, line and
    /// field).
    Check {
        /// The spec file.
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
}

/// Logs on stderr: `-v` info, `-vv` debug for taskpoll's crates; `RUST_LOG` wins.
/// A worker logs warnings (Redis unreachable, a lease lost) even without `-v`.
fn init_logging(verbose: u8, worker: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.is_empty() => EnvFilter::new(spec),
        _ => {
            let level = match verbose {
                0 if worker => "warn",
                0 => return,
                1 => "info",
                _ => "debug",
            };
            EnvFilter::new(format!(
                "warn,taskpoll={level},taskpoll_stream={level},taskpoll_redis_cloud={level},taskpoll_runware={level},taskpoll_spec={level},taskpoll_http={level},taskpoll_fleet={level}"
            ))
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

async fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Command::Demo(args) => tokio::select! {
            result = demo::run(args) => result.map_err(|e| Failure::Runtime(format!("demo failed: {e}"))),
            () = drive::shutdown_signal() => {
                eprintln!("taskpoll: interrupted");
                Ok(130)
            }
        },
        Command::Wait(args) => wait::run(args).await,
        Command::Worker(args) => fleet::worker(args).await,
        Command::Spec(SpecCommand::Check { file }) => {
            let spec =
                taskpoll_spec::Spec::load(&file).map_err(|e| Failure::Usage(e.to_string()))?;
            print!("{}", spec.summary());
            Ok(0)
        }
        Command::Sim(args) => tokio::select! {
            result = taskpoll_sim::cli::run(args) => result
                .map(|()| 0)
                .map_err(|e| Failure::Runtime(format!("sim: {e}"))),
            () = drive::shutdown_signal() => Ok(130),
        },
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "taskpoll",
                &mut std::io::stdout(),
            );
            Ok(0)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, matches!(cli.command, Command::Worker(_)));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("taskpoll: could not start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(async {
        match run(cli).await {
            Ok(code) => code,
            Err(Failure::Usage(message)) => {
                eprintln!("taskpoll: {message}");
                2
            }
            Err(Failure::Runtime(message)) => {
                eprintln!("taskpoll: {message}");
                1
            }
        }
    });
    // Waits still in flight after an interrupt are dropped with the runtime.
    runtime.shutdown_background();
    ExitCode::from(code)
}
