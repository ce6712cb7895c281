//! `taskpoll demo`: three simulated vendors on loopback, real tasks through their start
//! endpoints, every wait at once with live progress, then a summary.

use std::io::IsTerminal;
use std::time::Duration;

use futures_util::stream::select_all;
use taskpoll_redis_cloud::RedisCloudClient;
use taskpoll_runware::{ImageInference, RunwareClient, VideoInference};
use taskpoll_sim::faults::{Fault, FaultPlan};
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::runware::{RunwareSim, RunwareSimConfig};
use taskpoll_sim::script::Defaults;
use taskpoll_sim::stream::{StreamSim, StreamSimConfig};
use taskpoll_stream::{ChannelRef, StreamClient};

use crate::args::ProgressMode;
use crate::board::{Board, Events, events};
use crate::drive::{Lines, drive};
use crate::progress::Display;
use crate::report::{Verdict, clip, human_duration};

type DemoError = Box<dyn std::error::Error + Send + Sync>;

fn defaults(task_time: Duration, fail_every: Option<u64>) -> Defaults {
    Defaults {
        task_time,
        fail_every,
    }
}

/// Options of `taskpoll demo`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DemoArgs {
    /// Run the simulated tasks this many times faster (for tests).
    #[arg(long, default_value_t = 1, hide = true)]
    speed: u32,
}

/// Runs the demo; returns the exit status (0).
pub(crate) async fn run(args: DemoArgs) -> Result<u8, DemoError> {
    let speed = args.speed.max(1);
    let defaults = |task_time: Duration, fail_every| defaults(task_time / speed, fail_every);
    let mut display = Display::new(ProgressMode::Auto, false);
    display.say("Starting the Stream, Redis Cloud and Runware simulators on loopback...");
    let stream_sim = StreamSim::start(StreamSimConfig {
        defaults: defaults(Duration::from_secs(4), Some(3)),
        ..StreamSimConfig::default()
    })
    .await?;
    // One transient fault on the way: the second status request answers 503.
    stream_sim.set_faults(FaultPlan::default().at(2, Fault::ServerError { status: 503 }));
    let redis_sim = RedisCloudSim::start(RedisCloudSimConfig {
        defaults: defaults(Duration::from_secs(2), Some(3)),
        ..RedisCloudSimConfig::default()
    })
    .await?;
    let runware_sim = RunwareSim::start(RunwareSimConfig {
        defaults: defaults(Duration::from_secs(6), None),
        ..RunwareSimConfig::default()
    })
    .await?;

    let stream = StreamClient::builder(stream_sim.api_key(), stream_sim.api_secret())
        .base_url(&stream_sim.base_url())
        .build()?;
    let redis = RedisCloudClient::builder(redis_sim.api_key(), redis_sim.secret_key())
        .base_url(&redis_sim.base_url())
        .build()?;
    let runware = RunwareClient::builder(runware_sim.api_key())
        .base_url(&runware_sim.base_url())
        .build()?;

    display.say("Starting tasks through each vendor's start endpoints...");
    let mut board = Board::new();
    let mut labels = std::collections::HashMap::new();
    let mut add = |board: &mut Board, vendor: &'static str, id: String, label: String| {
        labels.insert((vendor, id.clone()), label.clone());
        board.add(vendor, id, label);
    };

    // Each vendor's waits go through its client's one scheduler, as one group.
    let mut stream_ids = Vec::new();
    for channel in ["general", "random", "archive"] {
        let id = stream
            .export_channels(&[ChannelRef::new("messaging", channel)])
            .await?;
        add(
            &mut board,
            "stream",
            id.clone(),
            format!("export {channel}"),
        );
        stream_ids.push(id);
    }
    let started = stream
        .delete_channels(
            &["messaging:old".to_owned(), "messaging:older".to_owned()],
            true,
        )
        .await?;
    // The simulator starts a task; a delete Stream did at once leaves nothing to wait on.
    if let Some(id) = started.into_task_id() {
        add(&mut board, "stream", id.clone(), "delete channels".into());
        stream_ids.push(id);
    }
    let id = stream
        .delete_users(&["user-1".to_owned(), "user-2".to_owned()])
        .await?;
    add(&mut board, "stream", id.clone(), "delete users".into());
    stream_ids.push(id);

    let mut redis_ids = Vec::new();
    for name in ["orders", "sessions", "cache"] {
        let body = serde_json::json!({
            "name": name,
            "cloudProviders": [{"provider": "AWS", "regions": [{"region": "us-east-1"}]}],
            "databases": [{"name": format!("{name}-db"), "datasetSizeInGb": 1}],
        });
        let id = redis.create_subscription(body).await?;
        add(
            &mut board,
            "redis-cloud",
            id.clone(),
            format!("subscription {name}"),
        );
        redis_ids.push(id);
    }

    let video = runware
        .submit_video(
            VideoInference::new(
                "klingai:5@3",
                "A red fox running through fresh snow at dawn, cinematic",
            )
            .number_results(4)
            .include_cost(true),
        )
        .await?;
    add(&mut board, "runware", video.to_string(), "video x4".into());
    let image = runware
        .submit_image(
            ImageInference::new(
                "runware:100@1",
                "A lighthouse on a cliff at sunset, watercolor",
            )
            .size(1024, 1024),
        )
        .await?;
    add(&mut board, "runware", image.to_string(), "image".into());

    let streams: Vec<Events> = vec![
        events("stream", stream.poller().wait_all(stream_ids)),
        events("redis-cloud", redis.poller().wait_all(redis_ids)),
        events("runware", runware.poller().wait_all([video, image])),
    ];
    let task_count = board.tasks().len();
    display.say(&format!("Waiting on {task_count} tasks at once:\n"));
    let counts =
        || stream_sim.counts().total + redis_sim.counts().total + runware_sim.counts().total;
    let reports = drive(
        &mut board,
        &mut display,
        Box::pin(select_all(streams)),
        Lines::Silent,
        &counts,
        std::future::pending(),
    )
    .await;

    // The table, in the order the tasks were started.
    let mut rows: Vec<_> = reports.iter().collect();
    let order: std::collections::HashMap<_, _> = board
        .tasks()
        .iter()
        .enumerate()
        .map(|(i, t)| ((t.vendor, t.id.clone()), i))
        .collect();
    rows.sort_by_key(|r| order.get(&(r.vendor, r.task_id.clone())).copied());
    // On a terminal narrower than the whole table, the ids go and the results are
    // clipped to fit; piped, the table is whole.
    let cols = std::io::stdout()
        .is_terminal()
        .then(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)))
        .flatten();
    let with_ids = cols.is_none_or(|c| c >= 150);
    let id_col = |id: &str| {
        if with_ids {
            format!("{id:<38} ")
        } else {
            String::new()
        }
    };
    println!();
    println!(
        "{:<10} {:<12} {:<22} {}{:>5} {:>8}  RESULT / ERROR",
        "OUTCOME",
        "VENDOR",
        "TASK",
        id_col("ID"),
        "POLLS",
        "ELAPSED"
    );
    for report in &rows {
        let label = labels
            .get(&(report.vendor, report.task_id.clone()))
            .map_or("", String::as_str);
        let head = format!(
            "{:<10} {:<12} {:<22} {}{:>5} {:>8}  ",
            report.verdict.as_str(),
            report.vendor,
            label,
            id_col(&report.task_id),
            report.polls,
            human_duration(report.elapsed),
        );
        let room = cols.map_or(90, |c| c.saturating_sub(head.chars().count() + 1).max(10));
        println!("{head}{}", clip(&report.summary(), room));
    }
    println!();
    println!("status requests sent, against one loop per task (a request per poll):");
    let (sc, rc, wc) = (
        stream_sim.counts(),
        redis_sim.counts(),
        runware_sim.counts(),
    );
    for (vendor, sent) in [
        ("stream", sc.endpoint("GET /api/v2/tasks/{id}")),
        (
            "redis-cloud",
            rc.endpoint("GET /v1/tasks") + rc.endpoint("GET /v1/tasks/{taskId}"),
        ),
        ("runware", wc.endpoint("POST /v1 getResponse")),
    ] {
        let polls: u64 = rows
            .iter()
            .filter(|r| r.vendor == vendor)
            .map(|r| u64::from(r.polls))
            .sum();
        println!("  {vendor:<12} {sent:>4} sent, {polls:>4} for a loop per task");
    }
    let completed = reports
        .iter()
        .filter(|r| r.verdict == Verdict::Completed)
        .count();
    println!(
        "{completed} of {task_count} tasks completed; the failures above were scripted by the simulators."
    );
    Ok(0)
}
