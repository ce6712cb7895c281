//! `fault-matrix`: for each vendor, many scripted tasks waited on at once through its
//! simulator while it injects seeded faults (5xx, connection resets, 429 with
//! `Retry-After`, malformed bodies, answers slower than the client's timeout); every
//! outcome is checked against its script. Prints, per vendor: tasks, outcomes
//! correct, requests, faults injected by kind, `Retry-After` violations, time.
//!
//! The run itself is this crate's library module `taskpoll_bench::matrix`, which its
//! tests also run, smaller, in CI.

use taskpoll_bench::matrix as engine;

use engine::{Matrix, Report, RunError};

/// Options of the fault-matrix run.
#[derive(Debug, Clone, clap::Args)]
pub struct FaultMatrixArgs {
    /// Tasks per vendor.
    #[arg(long, default_value_t = 1_000)]
    pub tasks: usize,
    /// Seed of the fault draws.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Client worker threads (the simulators share them).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
}

/// Runs every vendor in turn and prints a line each; fails when any outcome was wrong
/// or any `Retry-After` was violated.
pub fn run(args: &FaultMatrixArgs) -> Result<(), Box<dyn std::error::Error>> {
    let rt = crate::measure::runtime("fault-matrix", args.threads)?;
    let m = Matrix::new(args.tasks, args.seed);
    let plan = m.plan();
    println!(
        "fault matrix: {} tasks per vendor, seed {}, faults per status request: 5xx {:.0} %, reset {:.0} %, 429 (Retry-After: 1) {:.0} %, malformed {:.0} %, slow ({} ms, client timeout {} ms) {:.0} %",
        m.tasks,
        m.seed,
        plan.rates.server_error * 100.0,
        plan.rates.reset * 100.0,
        plan.rates.rate_limited * 100.0,
        plan.rates.malformed * 100.0,
        m.slow.as_millis(),
        m.request_timeout.as_millis(),
        plan.rates.slow * 100.0,
    );
    let mut clean = true;
    for vendor in ["stream", "redis-cloud", "runware"] {
        let report: Result<Report, RunError> = rt.block_on(async {
            match vendor {
                "stream" => engine::stream(&m).await,
                "redis-cloud" => engine::redis_cloud(&m).await,
                _ => engine::runware(&m).await,
            }
        });
        let report = report.map_err(|e| format!("{vendor}: {e}"))?;
        println!("{report}");
        clean &= report.is_clean();
    }
    if clean {
        Ok(())
    } else {
        Err("some outcomes were wrong or some Retry-After was not honoured".into())
    }
}
