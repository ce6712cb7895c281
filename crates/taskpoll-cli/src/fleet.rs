//! The fleet: `taskpoll worker VENDOR --redis URL` and `taskpoll wait VENDOR ID...
//! --redis URL`. Waits live in Redis (taskpoll-fleet): the command enqueues them and
//! prints each outcome as it is published; workers holding the vendor's credentials
//! poll them under one shared request budget.

use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{Value, json};
use taskpoll::{Budget, Outcome, Poller, RequestBudget, TaskSource};
use taskpoll_fleet::{
    Fleet, FleetError, FleetOutcome, OutcomeKind, RedisBudget, WaitCodec, WaitRequest, Worker,
    WorkerSettings,
};
use taskpoll_redis_cloud::RedisCloudClient;
use taskpoll_runware::{RunwareClient, RunwareTaskId};
use taskpoll_stream::StreamClient;

use crate::Failure;
use crate::args::{PollFlags, ProgressMode, Rate, client_flags, parse_duration, parse_rate};
use crate::board::{Board, Change, Event, Events};
use crate::drive::{Lines, drive, exit_status, interrupted, shutdown_signal};
use crate::progress::Display;
use crate::report::{TaskReport, Verdict};
use crate::wait::{AccessArgs, Vendor};

const WORKER_HELP: &str = "\
A worker claims the fleet's waits on VENDOR's tasks (enqueued by `taskpoll wait VENDOR
ID... --redis URL` or the taskpoll-fleet library), polls them through one scheduler
with the vendor's defaults (or --interval, --backoff), and publishes each outcome once.
Run as many as you like, on any hosts: they share the waits and one request budget per
credential (--rate, or the vendor's default limit), kept in Redis. A worker that dies
loses its lease and another resumes its waits with their original deadlines; SIGINT or
SIGTERM hands its waits back at once. -v logs each claimed batch and each outcome.

Credentials: the same flags and variables as `taskpoll wait`.";

/// Options of `taskpoll worker`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = WORKER_HELP,
    // The poll flags as a worker reads them.
    mut_arg("timeout", |a| a.help(
        "The deadline of waits enqueued without --timeout, counted from their enqueue. \
         Default: the vendor's"
    )),
    mut_arg("interval", |a| a.help("Poll at this fixed interval. Default: the vendor's strategy")),
    mut_arg("backoff", |a| a.help(
        "Poll with exponential backoff between MIN and MAX, doubling, with jitter"
    )),
)]
pub(crate) struct WorkerArgs {
    /// The vendor: stream, redis-cloud or runware.
    #[arg(value_name = "VENDOR", value_enum)]
    vendor: Vendor,
    /// The fleet's Redis (redis://[:PASSWORD@]HOST[:PORT][/DB]).
    #[arg(long, value_name = "URL")]
    redis: String,
    /// At most N requests in any window of PERIOD for every worker of this vendor and
    /// credential together (e.g. 300/1m). Default: the vendor's documented limit with
    /// headroom. Give every worker of a credential the same rate.
    #[arg(long, value_name = "N/PERIOD", value_parser = parse_rate)]
    rate: Option<Rate>,
    #[command(flatten)]
    poll: PollFlags,
    /// How long this worker's claim on its waits lasts without renewal: if it dies,
    /// other workers take its waits over after this long.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "15s")]
    lease: Duration,
    /// Most waits this worker holds at once.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    max_waits: usize,
    /// How long each outcome this worker publishes is kept in Redis for awaiters.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "24h")]
    outcome_ttl: Duration,
    #[command(flatten)]
    access: AccessArgs,
}

fn vendor_name(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Stream => "stream",
        Vendor::RedisCloud => "redis-cloud",
        Vendor::Runware => "runware",
    }
}

fn open(url: &str) -> Result<Fleet, Failure> {
    Fleet::open(url).map_err(|e| Failure::Usage(e.to_string()))
}

/// A fleet outcome from a wait's end, as the local `wait` reports it.
fn to_fleet(vendor: &str, report: TaskReport) -> FleetOutcome {
    let kind = match report.verdict {
        Verdict::Completed => OutcomeKind::Completed,
        Verdict::Failed => OutcomeKind::Failed,
        Verdict::TimedOut => OutcomeKind::TimedOut,
        Verdict::Error | Verdict::Interrupted => OutcomeKind::Error,
    };
    let mut out = FleetOutcome::new(vendor, &report.task_id, kind);
    out.polls = report.polls;
    out.elapsed_ms = u64::try_from(report.elapsed.as_millis()).unwrap_or(u64::MAX);
    if kind == OutcomeKind::Completed {
        out.result = Some(report.detail);
    } else {
        out.error = Some(report.detail);
    }
    out.message = report.message;
    out
}

/// The report of a published outcome: the same line as a local wait's.
fn from_fleet(vendor: &'static str, o: FleetOutcome) -> TaskReport {
    let verdict = match o.outcome {
        OutcomeKind::Completed => Verdict::Completed,
        OutcomeKind::Failed => Verdict::Failed,
        OutcomeKind::TimedOut => Verdict::TimedOut,
        _ => Verdict::Error,
    };
    TaskReport {
        vendor,
        task_id: o.task_id,
        verdict,
        polls: o.polls,
        elapsed: Duration::from_millis(o.elapsed_ms),
        detail: o.result.or(o.error).unwrap_or(Value::Null),
        message: o.message,
    }
}

/// How the command's workers read stored waits and write outcomes: the vendor's ids,
/// and outcomes exactly as `taskpoll wait --json` reports them.
struct CliCodec<S: TaskSource> {
    vendor: &'static str,
    id: fn(&str, &Value) -> Result<S::Id, String>,
}

impl<S> WaitCodec<S> for CliCodec<S>
where
    S: TaskSource,
    S::Output: Serialize,
    S::Failure: Serialize,
{
    fn id(&self, task_id: &str, params: &Value) -> Result<S::Id, String> {
        (self.id)(task_id, params)
    }

    fn task_id(&self, id: &S::Id) -> String {
        id.to_string()
    }

    fn outcome(&self, vendor: &str, outcome: Outcome<S>, last_error: Option<&str>) -> FleetOutcome {
        to_fleet(vendor, TaskReport::of(self.vendor, outcome, last_error))
    }
}

fn plain_id(task_id: &str, _: &Value) -> Result<String, String> {
    Ok(task_id.to_owned())
}

fn runware_id(task_id: &str, params: &Value) -> Result<RunwareTaskId, String> {
    let results = match params.get("results") {
        None | Some(Value::Null) => 1,
        Some(n) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("results must be a positive number, not {n}"))?,
    };
    Ok(RunwareTaskId::new(task_id, results))
}

/// The worker's shared budget: the rate given, else the vendor client's default.
fn shared_budget(
    fleet: &Fleet,
    vendor: &str,
    key: &str,
    limits: Budget,
) -> Result<Arc<dyn RequestBudget>, Failure> {
    let budget = match limits.requests_per_minute {
        Some(n) => RedisBudget::per_window(fleet, vendor, key, n, limits.window),
        None => RedisBudget::unlimited(fleet, vendor, key),
    }
    .map_err(|e| Failure::Usage(e.to_string()))?;
    Ok(Arc::new(budget))
}

impl WorkerArgs {
    fn settings(&self) -> WorkerSettings {
        WorkerSettings::default()
            .lease(self.lease)
            .max_waits(self.max_waits)
    }
}

async fn work<S>(
    fleet: &Fleet,
    vendor: &'static str,
    poller: Poller<S>,
    id: fn(&str, &Value) -> Result<S::Id, String>,
    args: &WorkerArgs,
) -> Result<u8, Failure>
where
    S: TaskSource,
    S::Output: Serialize,
    S::Failure: Serialize,
{
    let worker = Worker::new(
        fleet,
        vendor,
        args.poll.tune(poller),
        CliCodec { vendor, id },
    )
    .map_err(|e| Failure::Usage(e.to_string()))?
    .settings(args.settings());
    let report = worker
        .run(shutdown_signal())
        .await
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    tracing::info!(
        "worker stopped: {} claimed ({} resumed), {} outcomes published, {} handed back",
        report.claimed,
        report.resumed,
        report.published,
        report.handed_back
    );
    Ok(0)
}

/// Runs `taskpoll worker` until SIGINT or SIGTERM; exit status 0 once its waits are
/// handed back.
pub(crate) async fn worker(args: WorkerArgs) -> Result<u8, Failure> {
    let fleet = open(&args.redis)?.outcome_ttl(args.outcome_ttl);
    let vendor = vendor_name(args.vendor);
    let limits = args.rate.map(|r| r.budget(Budget::default()));
    let base_url = args.access.base_url(args.vendor.base_url_var());
    // A client for the flags, its requests drawn from the fleet's budget for `key`
    // under the client's own limits (the rate given, else the vendor's default).
    macro_rules! on_shared_budget {
        ($builder:expr, $key:expr) => {{
            let usage = |e: &dyn std::fmt::Display| Failure::Usage(e.to_string());
            let builder = || client_flags!($builder, args.access.allow_http, &base_url, limits);
            let defaults = builder()
                .build()
                .map_err(|e| usage(&e))?
                .scheduler()
                .limits();
            let shared = shared_budget(&fleet, vendor, $key, defaults)?;
            builder()
                .request_budget(shared)
                .build()
                .map_err(|e| usage(&e))?
        }};
    }
    match args.vendor {
        Vendor::Stream => {
            let key = args.access.key("STREAM_API_KEY")?;
            let secret = args.access.secret("STREAM_API_SECRET")?;
            let client =
                on_shared_budget!(StreamClient::builder(key.clone(), secret.clone()), &key);
            work(&fleet, vendor, client.poller(), plain_id, &args).await
        }
        Vendor::RedisCloud => {
            let key = args.access.key("REDIS_CLOUD_API_KEY")?;
            let secret = args.access.secret("REDIS_CLOUD_API_SECRET")?;
            let client =
                on_shared_budget!(RedisCloudClient::builder(key.clone(), secret.clone()), &key);
            work(&fleet, vendor, client.poller(), plain_id, &args).await
        }
        Vendor::Runware => {
            let key = args.access.key("RUNWARE_API_KEY")?;
            let client = on_shared_budget!(RunwareClient::builder(key.clone()), &key);
            work(&fleet, vendor, client.poller(), runware_id, &args).await
        }
    }
}

/// What `taskpoll wait ... --redis URL` needs from its arguments.
pub(crate) struct Enqueue<'a> {
    pub(crate) redis: &'a str,
    pub(crate) vendor: Vendor,
    pub(crate) ids: Vec<String>,
    pub(crate) results: Option<u32>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) json: bool,
    pub(crate) progress: ProgressMode,
    pub(crate) quiet: bool,
    /// Flags that belong to the workers, by name, and whether each was given.
    pub(crate) worker_flags: &'a [(&'static str, bool)],
}

/// Runs `taskpoll wait VENDOR ID... --redis URL`: enqueues the waits, prints each
/// outcome as it is published (the lines and exit statuses of a local wait).
pub(crate) async fn wait(e: Enqueue<'_>) -> Result<u8, Failure> {
    if let Some((flag, _)) = e.worker_flags.iter().find(|(_, given)| *given) {
        return Err(Failure::Usage(format!(
            "{flag} is set on the workers with --redis (taskpoll worker {flag} ...): they poll and hold the budget"
        )));
    }
    let fleet = open(e.redis)?;
    let vendor = vendor_name(e.vendor);
    let params = match e.results {
        Some(n) => json!({ "results": n }),
        None => Value::Null,
    };
    let requests = e.ids.iter().map(|id| {
        let mut r = WaitRequest::new(id.clone()).params(params.clone());
        if let Some(t) = e.timeout {
            r = r.timeout(t);
        }
        r
    });
    let mut board = Board::new();
    for id in &e.ids {
        board.add(vendor, id.clone(), String::new());
    }
    let mut display = Display::new(e.progress, e.quiet);
    let mut down = false;
    let events: Events = Box::pin(fleet.wait_all(vendor, requests).filter_map(
        move |item: Result<FleetOutcome, FleetError>| {
            let event = match item {
                Ok(outcome) => {
                    if std::mem::take(&mut down) {
                        eprintln!("taskpoll: the fleet's Redis answers again");
                    }
                    let report = from_fleet(vendor, outcome);
                    Some(Event {
                        vendor,
                        key: report.task_id.clone(),
                        change: Change::Finished(Box::new(move |_| report)),
                    })
                }
                Err(err) => {
                    if !std::mem::replace(&mut down, true) {
                        eprintln!("taskpoll: {err}");
                    }
                    None
                }
            };
            std::future::ready(event)
        },
    ));
    let lines = if e.json { Lines::Json } else { Lines::Human };
    let reports = drive(
        &mut board,
        &mut display,
        events,
        lines,
        &|| 0,
        shutdown_signal(),
    )
    .await;
    if interrupted(&reports) {
        display.say("taskpoll: interrupted (the waits go on in the fleet; wait again to read their outcomes)");
    }
    Ok(exit_status(&reports))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runware_ids_take_their_results() {
        let id = runware_id("abc", &json!({ "results": 4 })).unwrap();
        assert_eq!((id.uuid.as_str(), id.expected()), ("abc", 4));
        assert_eq!(runware_id("abc", &Value::Null).unwrap().expected(), 1);
        assert!(runware_id("abc", &json!({ "results": 0 })).is_err());
    }

    #[test]
    fn an_outcome_reads_back_as_the_same_line() {
        let report = TaskReport {
            vendor: "runware",
            task_id: "t-1".into(),
            verdict: Verdict::Failed,
            polls: 3,
            elapsed: Duration::from_millis(1500),
            detail: json!({ "code": "bad", "message": "no" }),
            message: Some("task t-1 failed".into()),
        };
        let line = report.json_line();
        let back = from_fleet("runware", to_fleet("runware", report));
        assert_eq!(back.json_line(), line);
    }
}
