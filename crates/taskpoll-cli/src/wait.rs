//! `taskpoll wait VENDOR TASK_ID...` and `taskpoll wait --spec FILE TASK_ID...`: every
//! wait through the client's one scheduler.

use std::io::BufRead;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde::Serialize;
use taskpoll::{Budget, Poller, TaskSource};
use taskpoll_redis_cloud::RedisCloudClient;
use taskpoll_runware::{RunwareClient, RunwareTaskId};
use taskpoll_spec::{Spec, SpecClient};
use taskpoll_stream::StreamClient;

use crate::Failure;
use crate::args::{PollFlags, ProgressMode, Rate, client_flags, parse_rate};
use crate::board::{Board, events};
use crate::drive::{Lines, drive, exit_status, interrupted, shutdown_signal};
use crate::progress::Display;

/// A vendor whose tasks `wait` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Vendor {
    /// Stream (getstream.io).
    Stream,
    /// Redis Cloud.
    RedisCloud,
    /// Runware.
    Runware,
}

impl Vendor {
    /// The variable `taskpoll sim` prints the vendor's base URL in.
    pub(crate) fn base_url_var(self) -> &'static str {
        match self {
            Vendor::Stream => "STREAM_BASE_URL",
            Vendor::RedisCloud => "REDIS_CLOUD_BASE_URL",
            Vendor::Runware => "RUNWARE_BASE_URL",
        }
    }
}

const DEFAULTS: &str = "\
Vendor defaults (when --interval, --backoff, --timeout or --rate are not given):
  stream       poll at once, then every 1s; deadline 60s; rate: paced by Stream's
               X-RateLimit-* headers
  redis-cloud  poll at once, then 1s doubling to 30s with jitter; deadline 30m;
               rate 300/1m (the account allows 400/1m)
  runware      first poll after 1s (video 3s), then 0.5s growing x1.5 to 10s;
               deadline 20m; no rate limit (Runware documents none)
  --spec FILE  the spec's [poll] settings: interval or backoff, initial delay,
               deadline, rate (see `taskpoll spec check FILE`)

Task ids: one or more, or a lone - to read them from stdin, one per line.

Exit status: 0 every task completed, 1 a task failed, 2 usage error, 3 a wait timed
out, 4 a status could not be fetched (with several tasks the highest of 4 > 3 > 1 > 0
wins), 130 interrupted by SIGINT or SIGTERM (each unfinished task gets a line with
outcome interrupted).";

/// Options of `taskpoll wait`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = DEFAULTS,
    override_usage = "taskpoll wait [OPTIONS] <VENDOR> <TASK_ID>...\n       taskpoll wait [OPTIONS] --spec <FILE> <TASK_ID>..."
)]
pub(crate) struct WaitArgs {
    /// The vendor: stream, redis-cloud or runware. Left out with --spec (then the first
    /// argument is a task id).
    #[arg(value_name = "VENDOR")]
    vendor: Option<String>,
    /// The task ids (as the vendor's start call returned them); `-` reads them from
    /// stdin, one per line.
    #[arg(value_name = "TASK_ID")]
    task_ids: Vec<String>,
    /// Wait on the JSON task API this spec file describes, in place of VENDOR
    /// (docs/specs.md; specs for OpenAI batches, Replicate, AssemblyAI in specs/).
    #[arg(long, value_name = "FILE")]
    spec: Option<PathBuf>,
    #[command(flatten)]
    poll: PollFlags,
    /// At most N requests in any window of PERIOD for all the waits together (e.g.
    /// 300/1m, 60/10s). Default: the vendor's documented limit with headroom.
    #[arg(long, value_name = "N/PERIOD", value_parser = parse_rate)]
    rate: Option<Rate>,
    /// Print one JSON object per task per line.
    #[arg(long)]
    json: bool,
    /// Runware: how many results each task produces.
    #[arg(long, value_name = "N")]
    results: Option<u32>,
    /// Redis Cloud: after the task completes, also wait until the resource it created
    /// or changed (database, then its subscription; or subscription) is active; the
    /// JSON result then includes it with its status. --timeout covers both.
    #[arg(long)]
    ready: bool,
    #[command(flatten)]
    access: AccessArgs,
    /// Progress on stderr: live on a terminal, plain lines otherwise (auto), always
    /// plain lines, or none.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto, value_name = "WHEN")]
    progress: ProgressMode,
    /// No progress on stderr (same as --progress none).
    #[arg(short, long)]
    quiet: bool,
    /// Enqueue the waits into the fleet on this Redis (redis://HOST[:PORT]) and print
    /// each outcome as it arrives; `taskpoll worker VENDOR --redis URL` polls them. No
    /// vendor credentials needed.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
}

/// How `wait` and `worker` reach a vendor: its base URL, its credentials and plain HTTP.
#[derive(Debug, Clone, Args)]
pub(crate) struct AccessArgs {
    /// The vendor API's base URL (default: STREAM_BASE_URL, REDIS_CLOUD_BASE_URL or
    /// RUNWARE_BASE_URL when set, as `taskpoll sim` prints them; else the vendor's
    /// production URL, or the spec's base_url).
    #[arg(long, value_name = "URL")]
    pub(crate) base_url: Option<String>,
    /// API key (default: STREAM_API_KEY, REDIS_CLOUD_API_KEY or RUNWARE_API_KEY).
    #[arg(long, value_name = "KEY", conflicts_with = "api_key_file")]
    pub(crate) api_key: Option<String>,
    /// Read the API key from this file (a trailing newline is ignored).
    #[arg(long, value_name = "PATH")]
    pub(crate) api_key_file: Option<PathBuf>,
    /// API secret (default: STREAM_API_SECRET or REDIS_CLOUD_API_SECRET).
    #[arg(long, value_name = "SECRET", conflicts_with = "api_secret_file")]
    pub(crate) api_secret: Option<String>,
    /// Read the API secret from this file (a trailing newline is ignored).
    #[arg(long, value_name = "PATH")]
    pub(crate) api_secret_file: Option<PathBuf>,
    /// Allow plain http:// to a host that is not loopback (credentials travel unencrypted).
    #[arg(long)]
    pub(crate) allow_http: bool,
}

impl AccessArgs {
    /// The base URL: `--base-url`, else the variable `var` when set and not empty.
    pub(crate) fn base_url(&self, var: &'static str) -> Option<String> {
        let from_env = || std::env::var(var).ok().filter(|v| !v.trim().is_empty());
        self.base_url.clone().or_else(from_env)
    }

    /// The API key: `--api-key`, `--api-key-file` or the variable `var`.
    pub(crate) fn key(&self, var: &'static str) -> Result<String, Failure> {
        credential(&self.api_key, &self.api_key_file, var, "--api-key")
    }

    /// The API secret: `--api-secret`, `--api-secret-file` or the variable `var`.
    pub(crate) fn secret(&self, var: &'static str) -> Result<String, Failure> {
        credential(&self.api_secret, &self.api_secret_file, var, "--api-secret")
    }

    /// Whether a credential flag was given.
    fn any_given(&self) -> bool {
        self.api_key.is_some()
            || self.api_key_file.is_some()
            || self.api_secret.is_some()
            || self.api_secret_file.is_some()
    }
}

/// A credential from its flag, its file flag, or the environment.
fn credential(
    flag: &Option<String>,
    file: &Option<PathBuf>,
    var: &'static str,
    flag_name: &str,
) -> Result<String, Failure> {
    if let Some(v) = flag.as_ref().filter(|v| !v.is_empty()) {
        return Ok(v.clone());
    }
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::Usage(format!(
                "cannot read {flag_name}-file {}: {e}",
                path.display()
            ))
        })?;
        let value = text.trim_end_matches(['\n', '\r']);
        if value.is_empty() {
            return Err(Failure::Usage(format!(
                "{flag_name}-file {} is empty",
                path.display()
            )));
        }
        return Ok(value.to_owned());
    }
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(Failure::Usage(format!(
            "missing credential: set {var}, or pass {flag_name} or {flag_name}-file"
        ))),
    }
}

/// The task ids: the arguments, or stdin's lines for a lone `-`; duplicates dropped.
fn task_ids(args: &[String]) -> Result<Vec<String>, Failure> {
    let raw: Vec<String> = if args == ["-"] {
        let mut ids = Vec::new();
        for line in std::io::stdin().lock().lines() {
            let line =
                line.map_err(|e| Failure::Usage(format!("cannot read task ids from stdin: {e}")))?;
            let id = line.trim();
            if !id.is_empty() {
                ids.push(id.to_owned());
            }
        }
        if ids.is_empty() {
            return Err(Failure::Usage("no task ids on stdin".into()));
        }
        ids
    } else if args.iter().any(|a| a == "-") {
        return Err(Failure::Usage(
            "- (read ids from stdin) must be the only task id".into(),
        ));
    } else {
        args.to_vec()
    };
    let mut seen = std::collections::HashSet::new();
    let unique: Vec<String> = raw
        .iter()
        .filter(|id| seen.insert(id.as_str()))
        .cloned()
        .collect();
    if unique.len() < raw.len() {
        eprintln!(
            "taskpoll: {} duplicate task ids waited on once",
            raw.len() - unique.len()
        );
    }
    Ok(unique)
}

/// Waits on `ids` through `poller`'s scheduler; returns the exit status.
async fn run_waits<S>(
    poller: Poller<S>,
    vendor: &'static str,
    ids: Vec<S::Id>,
    args: &WaitArgs,
) -> u8
where
    S: TaskSource,
    S::Output: Serialize,
    S::Failure: Serialize,
{
    let mut board = Board::new();
    for id in &ids {
        board.add(vendor, id.to_string(), String::new());
    }
    let mut display = Display::new(args.progress, args.quiet);
    let scheduler = poller.scheduler().clone();
    let requests = move || scheduler.requests_sent();
    let lines = if args.json { Lines::Json } else { Lines::Human };
    let events = events(vendor, poller.wait_all(ids));
    let reports = drive(
        &mut board,
        &mut display,
        events,
        lines,
        &requests,
        shutdown_signal(),
    )
    .await;
    if interrupted(&reports) {
        display.say("taskpoll: interrupted");
    }
    exit_status(&reports)
}

/// What `wait` waits on: a vendor, or the API a spec file describes.
enum Target {
    Vendor(Vendor),
    Spec(PathBuf),
}

/// Exactly one of VENDOR or `--spec FILE`, and the task ids given.
fn target(args: &WaitArgs) -> Result<(Target, Vec<String>), Failure> {
    let vendor = |word: &str| Vendor::from_str(word, false).ok();
    let (target, ids) = match (&args.spec, &args.vendor) {
        (Some(_), Some(word)) if vendor(word).is_some() => {
            return Err(Failure::Usage(format!(
                "give either VENDOR ({word}) or --spec FILE, not both"
            )));
        }
        (Some(path), first) => {
            let ids = first.iter().chain(&args.task_ids).cloned().collect();
            (Target::Spec(path.clone()), ids)
        }
        (None, Some(word)) => match vendor(word) {
            Some(v) => (Target::Vendor(v), args.task_ids.clone()),
            None => {
                return Err(Failure::Usage(format!(
                    "unknown vendor {word:?}: expected stream, redis-cloud or runware, or --spec FILE for any other JSON task API"
                )));
            }
        },
        (None, None) => {
            return Err(Failure::Usage(
                "missing VENDOR (stream, redis-cloud or runware) or --spec FILE".into(),
            ));
        }
    };
    if ids.is_empty() {
        return Err(Failure::Usage(
            "no task ids: give one or more, or - to read them from stdin".into(),
        ));
    }
    Ok((target, ids))
}

/// Waits on the API `path` describes.
async fn run_spec(
    path: &std::path::Path,
    ids: Vec<String>,
    budget: Option<Budget>,
    args: &WaitArgs,
) -> Result<u8, Failure> {
    if args.access.any_given() {
        return Err(Failure::Usage(
            "--api-key and --api-secret do not apply to --spec: a spec takes its credentials from {env.NAME} or {file.PATH} in its headers".into(),
        ));
    }
    let spec = Spec::load(path).map_err(|e| Failure::Usage(e.to_string()))?;
    // The name labels every line and event of the command, which lives as long.
    let name: &'static str = Box::leak(spec.name().to_owned().into_boxed_str());
    let client = client_flags!(
        SpecClient::builder(spec),
        args.access.allow_http,
        &args.access.base_url,
        budget
    )
    .build()
    .map_err(|e| Failure::Usage(e.to_string()))?;
    Ok(run_waits(args.poll.tune(client.poller()), name, ids, args).await)
}

/// Runs `taskpoll wait`; returns the exit status.
pub(crate) async fn run(args: WaitArgs) -> Result<u8, Failure> {
    let (target, ids) = target(&args)?;
    if args.results.is_some() && !matches!(target, Target::Vendor(Vendor::Runware)) {
        return Err(Failure::Usage("--results applies to runware only".into()));
    }
    if args.results == Some(0) {
        return Err(Failure::Usage("--results must be at least 1".into()));
    }
    if args.ready && !matches!(target, Target::Vendor(Vendor::RedisCloud)) {
        return Err(Failure::Usage("--ready applies to redis-cloud only".into()));
    }
    if args.ready && args.redis.is_some() {
        return Err(Failure::Usage(
            "--ready is not carried through --redis: fleet workers wait on the task only".into(),
        ));
    }
    let usage = |e: &dyn std::fmt::Display| Failure::Usage(e.to_string());
    let budget = args.rate.map(|r| r.budget(Budget::default()));
    let ids = task_ids(&ids)?;
    let vendor = match target {
        Target::Vendor(v) => v,
        Target::Spec(_) if args.redis.is_some() => {
            return Err(Failure::Usage(
                "--redis waits on a vendor's tasks (stream, redis-cloud, runware), not --spec"
                    .into(),
            ));
        }
        Target::Spec(path) => return run_spec(&path, ids, budget, &args).await,
    };
    if let Some(redis) = &args.redis {
        let worker_flags = [
            ("--interval", args.poll.interval.is_some()),
            ("--backoff", args.poll.backoff.is_some()),
            ("--rate", args.rate.is_some()),
        ];
        return crate::fleet::wait(crate::fleet::Enqueue {
            redis,
            vendor,
            ids,
            results: args.results,
            timeout: args.poll.timeout,
            json: args.json,
            progress: args.progress,
            quiet: args.quiet,
            worker_flags: &worker_flags,
        })
        .await;
    }
    // The vendor's client, with the connection flags and the budget.
    let base_url = args.access.base_url(vendor.base_url_var());
    macro_rules! client {
        ($builder:expr) => {
            client_flags!($builder, args.access.allow_http, &base_url, budget)
                .build()
                .map_err(|e| usage(&e))?
        };
    }
    match vendor {
        Vendor::Stream => {
            let key = args.access.key("STREAM_API_KEY")?;
            let secret = args.access.secret("STREAM_API_SECRET")?;
            let client = client!(StreamClient::builder(key, secret));
            Ok(run_waits(args.poll.tune(client.poller()), "stream", ids, &args).await)
        }
        Vendor::RedisCloud => {
            let key = args.access.key("REDIS_CLOUD_API_KEY")?;
            let secret = args.access.secret("REDIS_CLOUD_API_SECRET")?;
            let client = client!(RedisCloudClient::builder(key, secret));
            if args.ready {
                let poller = args.poll.tune(client.ready_poller());
                return Ok(run_waits(poller, "redis-cloud", ids, &args).await);
            }
            Ok(run_waits(args.poll.tune(client.poller()), "redis-cloud", ids, &args).await)
        }
        Vendor::Runware => {
            let key = args.access.key("RUNWARE_API_KEY")?;
            let client = client!(RunwareClient::builder(key));
            let expected = args.results.unwrap_or(1);
            let ids = ids
                .into_iter()
                .map(|id| RunwareTaskId::new(id, expected))
                .collect();
            Ok(run_waits(args.poll.tune(client.poller()), "runware", ids, &args).await)
        }
    }
}
