//! `taskpoll`: wait on vendor tasks from a shell, serve the simulators, or run the demo.
//!
//! ```text
//! taskpoll demo
//! taskpoll wait stream 6a1c0f7e-3b52-4c8e-9a61-2f0d8d1b7c44 --timeout 5m --json
//! taskpoll wait runware 6f1c2a3e-0b7d-4e0a-9a51-2f3c4d5e6f70 --results 4
//! taskpoll sim --stream 127.0.0.1:8001
//! ```
//!
//! Exit status: 0 all tasks completed, 1 a task failed, 2 usage error, 3 a wait timed
//! out, 4 a status could not be fetched; with several tasks the highest of 4 > 3 > 1 > 0.
//! Ctrl-C stops at once with status 130.

mod demo;
mod progress;
mod report;
mod wait;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A usage mistake (exit status 2).
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

/// Wait on vendors' asynchronous tasks (Stream, Redis Cloud, Runware).
#[derive(Debug, Parser)]
#[command(name = "taskpoll", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the three simulators in-process, start tasks at each, and wait on all of them
    /// at once (no network, no credentials).
    Demo(demo::DemoArgs),
    /// Wait on tasks until they finish. Exit status: 0 completed, 1 failed, 2 usage,
    /// 3 timed out, 4 could not fetch (the highest wins).
    Wait(wait::WaitArgs),
    /// Serve the loopback simulators until interrupted (same as `taskpoll-sim`).
    Sim(taskpoll_sim::cli::SimArgs),
}

async fn run(cli: Cli) -> Result<u8, UsageError> {
    match cli.command {
        Command::Demo(args) => demo::run(args)
            .await
            .map_err(|e| UsageError(format!("demo failed: {e}"))),
        Command::Wait(args) => wait::run(args).await,
        Command::Sim(args) => taskpoll_sim::cli::run(args)
            .await
            .map(|()| 0)
            .map_err(|e| UsageError(format!("sim: {e}"))),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("taskpoll: could not start the async runtime: {e}");
            return ExitCode::from(4);
        }
    };
    let code = runtime.block_on(async {
        tokio::select! {
            result = run(cli) => match result {
                Ok(code) => code,
                Err(UsageError(message)) => {
                    eprintln!("taskpoll: {message}");
                    2
                }
            },
            _ = tokio::signal::ctrl_c() => {
                eprintln!("taskpoll: interrupted");
                130
            }
        }
    });
    // Waits still in flight after Ctrl-C are dropped with the runtime.
    runtime.shutdown_background();
    ExitCode::from(code)
}
