//! `taskpoll-bench`: benchmarks of taskpoll against the loopback simulators. Each
//! subcommand prints figures; nothing here asserts timings.

mod measure;
mod memory;
mod poll_cost;
mod sim_throughput;

use clap::{Parser, Subcommand};

/// Benchmarks of taskpoll against the loopback simulators.
#[derive(Debug, Parser)]
#[command(name = "taskpoll-bench", about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Many concurrent waits on one scheduler: RSS per wait and deadline overshoot.
    Memory(memory::MemoryArgs),
    /// The poller's CPU per poll against a hand-written reqwest-and-sleep loop.
    PollCost(poll_cost::PollCostArgs),
    /// Status requests per second one simulator answers.
    SimThroughput(sim_throughput::ThroughputArgs),
}

fn main() -> std::process::ExitCode {
    let result: Result<(), Box<dyn std::error::Error>> = match Cli::parse().command {
        Command::Memory(args) => memory::run(&args).map_err(Into::into),
        Command::PollCost(args) => poll_cost::run(&args),
        Command::SimThroughput(args) => sim_throughput::run(&args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("taskpoll-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
