//! `sim-throughput`: how many status requests per second one simulator answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};
use taskpoll_sim::stream::{StreamSim, StreamSimConfig};
use tokio::time::Instant;

use crate::measure::{runtime, thread_cpu};

/// Options of the throughput run.
#[derive(Debug, Clone, clap::Args)]
pub struct ThroughputArgs {
    /// Concurrent client connections.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Simulator worker threads.
    #[arg(long, default_value_t = 1)]
    pub sim_threads: usize,
}

/// Runs it and prints the figures.
pub fn run(args: &ThroughputArgs) -> Result<(), Box<dyn std::error::Error>> {
    let sim_rt = runtime("sim", args.sim_threads)?;
    let client_rt = runtime("client", 1)?;
    let sim = sim_rt.block_on(StreamSim::start(StreamSimConfig::default()))?;
    let token = crate::poll_cost::server_token(sim.api_secret())?;
    let ids: Vec<String> = (0..args.connections)
        .map(|_| {
            sim.create_task(TaskScript {
                steps: vec![ScriptStep::for_time("running", Duration::from_secs(3600))],
                outcome: ScriptOutcome::Success {
                    result: serde_json::json!({}),
                },
            })
        })
        .collect();
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let base = sim.base_url();
    let key = sim.api_key().to_owned();
    let run_for = Duration::from_secs(args.seconds.max(1));
    let sim_cpu_before = thread_cpu("sim");
    let started = Instant::now();
    client_rt.block_on(async {
        let http = reqwest::Client::new();
        let mut handles = Vec::new();
        for id in ids {
            let (http, done, errors, token) =
                (http.clone(), done.clone(), errors.clone(), token.clone());
            let url = format!("{base}/api/v2/tasks/{id}?api_key={key}");
            handles.push(tokio::spawn(async move {
                while started.elapsed() < run_for {
                    let ok = match http
                        .get(&url)
                        .header("authorization", &token)
                        .header("stream-auth-type", "jwt")
                        .send()
                        .await
                    {
                        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    if ok {
                        done.fetch_add(1, Ordering::Relaxed)
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed)
                    };
                }
            }));
        }
        for h in handles {
            let _ = h.await;
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    let sim_cpu = (thread_cpu("sim") - sim_cpu_before).as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    println!(
        "sim-throughput: Stream GET /api/v2/tasks/{{id}}, {} connections, {} s, simulator on {} thread(s), client on 1",
        args.connections, args.seconds, args.sim_threads
    );
    println!(
        "  requests answered   {n} ({} errors)",
        errors.load(Ordering::Relaxed)
    );
    println!("  requests per second {:.0}", n as f64 / elapsed);
    println!(
        "  simulator CPU       {:.2} s ({:.1} us per request)",
        sim_cpu,
        sim_cpu * 1e6 / n.max(1) as f64
    );
    drop(sim);
    drop(sim_rt);
    Ok(())
}
