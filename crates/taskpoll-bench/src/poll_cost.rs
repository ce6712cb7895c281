//! `poll-cost`: the poller's own cost per poll, against a hand-written
//! reqwest-and-sleep loop doing the same requests on the same simulator.
//!
//! Both sides send the same `GET /api/v2/tasks/{id}` to the Stream simulator and read the
//! same field; only the loop around the request differs. CPU time is that of the client
//! runtime's threads alone (the simulator runs on its own runtime).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use taskpoll::strategy::Fixed;
use taskpoll::{ErrorClass, Phase, Poller, Progress, TaskSource};
use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};
use taskpoll_sim::stream::{StreamSim, StreamSimConfig};

use crate::measure::{SourceError, runtime, thread_cpu};

/// Options of the poll-cost run.
#[derive(Debug, Clone, clap::Args)]
pub struct PollCostArgs {
    /// Concurrent tasks per round.
    #[arg(long, default_value_t = 200)]
    pub tasks: usize,
    /// Polls per task (the task completes on the last).
    #[arg(long, default_value_t = 50)]
    pub polls: u32,
    /// Interval between polls, in milliseconds.
    #[arg(long, default_value_t = 10)]
    pub interval_ms: u64,
    /// Rounds of each side, alternating.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
}

#[derive(Deserialize)]
struct Status {
    status: String,
}

/// Everything both sides need to send a status request.
#[derive(Clone)]
struct Target {
    http: reqwest::Client,
    base: String,
    key: String,
    token: String,
}

impl Target {
    async fn status(&self, id: &str) -> Result<String, reqwest::Error> {
        let url = format!("{}/api/v2/tasks/{id}?api_key={}", self.base, self.key);
        let resp = self
            .http
            .get(url)
            .header("authorization", &self.token)
            .header("stream-auth-type", "jwt")
            .send()
            .await?;
        let body = resp.bytes().await?;
        Ok(serde_json::from_slice::<Status>(&body)
            .map(|s| s.status)
            .unwrap_or_default())
    }
}

struct Source(Target);

#[async_trait]
impl TaskSource for Source {
    type Id = String;
    type Status = String;
    type Output = ();
    type Partial = ();
    type Failure = String;
    type Error = SourceError;

    async fn fetch(&self, id: &String) -> Result<String, SourceError> {
        self.0
            .status(id)
            .await
            .map_err(|e| SourceError(e.to_string()))
    }

    fn classify(&self, status: String) -> Phase<(), (), String> {
        match status.as_str() {
            "completed" => Phase::Succeeded(()),
            "failed" => Phase::Failed(status),
            _ => Phase::Running(Progress::new(status)),
        }
    }

    fn error_class(&self, _: &SourceError) -> ErrorClass {
        ErrorClass::TRANSIENT
    }
}

/// A Stream server token (HS256, `{"server": true}`) signed with `secret`, as the
/// adapter sends it; the benchmarks that bypass the adapter send it themselves.
pub fn server_token(secret: &str) -> Result<String, taskpoll_http::jwt::JwtError> {
    taskpoll_http::jwt::sign_hs256(&serde_json::json!({"server": true}), secret.as_bytes())
}

fn script(polls: u32) -> TaskScript {
    TaskScript {
        steps: vec![ScriptStep::for_polls(
            "running",
            polls.saturating_sub(1).max(1),
        )],
        outcome: ScriptOutcome::Success {
            result: serde_json::json!({}),
        },
    }
}

/// Runs it and prints the figures.
pub fn run(args: &PollCostArgs) -> Result<(), Box<dyn std::error::Error>> {
    let sim_rt = runtime("sim", 1)?;
    let client_rt = runtime("client", 1)?;
    let sim = sim_rt.block_on(StreamSim::start(StreamSimConfig::default()))?;
    let token = server_token(sim.api_secret())?;
    let target = Target {
        http: reqwest::Client::new(),
        base: sim.base_url(),
        key: sim.api_key().to_owned(),
        token,
    };
    let interval = Duration::from_millis(args.interval_ms);
    let poller = Arc::new(Poller::new(Source(target.clone())).configure(|p| {
        p.interval(Fixed::new(interval))
            .deadline(Duration::from_secs(600))
    }));
    let mut per_poll = [Vec::new(), Vec::new()];
    for round in 0..args.rounds * 2 {
        let side = round % 2;
        let ids: Vec<String> = (0..args.tasks)
            .map(|_| sim.create_task(script(args.polls)))
            .collect();
        let before_requests = sim.counts().total;
        let before_cpu = thread_cpu("client");
        client_rt.block_on(async {
            let mut handles = Vec::new();
            for id in ids {
                if side == 0 {
                    let t = target.clone();
                    handles.push(tokio::spawn(async move {
                        // The hand-written loop every SDK has.
                        loop {
                            match t.status(&id).await.as_deref() {
                                Ok("completed") | Ok("failed") => break,
                                _ => tokio::time::sleep(interval).await,
                            }
                        }
                    }));
                } else {
                    let p = Arc::clone(&poller);
                    handles.push(tokio::spawn(async move {
                        let _ = p.wait(id).await;
                    }));
                }
            }
            for h in handles {
                let _ = h.await;
            }
        });
        let cpu = thread_cpu("client") - before_cpu;
        let requests = sim.counts().total - before_requests;
        per_poll[side].push(cpu.as_secs_f64() * 1e6 / requests.max(1) as f64);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let hand = median(&mut per_poll[0]);
    let poller_cost = median(&mut per_poll[1]);
    println!(
        "poll-cost: {} tasks x {} polls every {} ms, {} alternating rounds per side (client runtime CPU only)",
        args.tasks, args.polls, args.interval_ms, args.rounds
    );
    println!("  hand-written loop   {hand:.1} us CPU per poll");
    println!("  taskpoll Poller     {poller_cost:.1} us CPU per poll");
    println!(
        "  ratio               {:.3}",
        poller_cost / hand.max(f64::MIN_POSITIVE)
    );
    drop(sim);
    drop(sim_rt);
    Ok(())
}
