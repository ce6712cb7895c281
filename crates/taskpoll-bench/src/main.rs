//! `taskpoll-bench`: benchmarks of taskpoll against the loopback simulators. Each
//! subcommand prints figures; nothing here asserts timings.

mod chart;
mod fault_matrix;
mod fleet;
mod measure;
mod memory;
mod poll_cost;
mod scale;
mod shared_budget;
mod sim_throughput;
mod stream_budget;
mod wait_command;

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
    /// Many scripted tasks per vendor under seeded faults: every outcome checked.
    FaultMatrix(fault_matrix::FaultMatrixArgs),
    /// Many concurrent waits on one scheduler: RSS per wait and deadline overshoot.
    Memory(memory::MemoryArgs),
    /// The poller's CPU per poll against a hand-written reqwest-and-sleep loop.
    PollCost(poll_cost::PollCostArgs),
    /// Status requests per second one simulator answers.
    SimThroughput(sim_throughput::ThroughputArgs),
    /// Many tasks finishing at random times, three ways side by side: baseline loops,
    /// per-task waits, one coalesced group.
    Scale(scale::ScaleArgs),
    /// Redraws the scale chart from a `scale --json` file.
    Chart(chart::ChartArgs),
    /// Many Stream waits under a request budget (time compressed).
    StreamBudget(stream_budget::StreamBudgetArgs),
    /// Two Redis Cloud clients of one key under one budget, against two budgets
    /// (time compressed).
    SharedBudget(shared_budget::SharedBudgetArgs),
    /// `taskpoll worker` processes sharing waits and one budget through Redis, one killed.
    Fleet(fleet::FleetArgs),
    /// The `taskpoll wait` command itself on many ids: requests, RSS, line delays.
    #[command(name = "wait-command")]
    TaskpollWait(wait_command::WaitCommandArgs),
}

fn main() -> std::process::ExitCode {
    let result: Result<(), Box<dyn std::error::Error>> = match Cli::parse().command {
        Command::FaultMatrix(args) => fault_matrix::run(&args),
        Command::Memory(args) => memory::run(&args).map_err(Into::into),
        Command::PollCost(args) => poll_cost::run(&args),
        Command::SimThroughput(args) => sim_throughput::run(&args),
        Command::Scale(args) => scale::run(&args).map(|_| ()),
        Command::StreamBudget(args) => stream_budget::run(&args),
        Command::SharedBudget(args) => shared_budget::run(&args),
        Command::Chart(args) => chart::run(&args),
        Command::TaskpollWait(args) => wait_command::run(&args),
        Command::Fleet(args) => fleet::run(&args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("taskpoll-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
