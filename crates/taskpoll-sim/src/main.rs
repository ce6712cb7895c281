//! `taskpoll-sim`: serves the Stream, Redis Cloud and Runware simulators on loopback
//! until interrupted.

use clap::Parser;
use taskpoll_sim::cli::{SimArgs, run};

/// Loopback simulators of the Stream, Redis Cloud and Runware task APIs.
#[derive(Debug, Parser)]
#[command(name = "taskpoll-sim", version, about)]
struct Cli {
    #[command(flatten)]
    args: SimArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli.args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("taskpoll-sim: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
