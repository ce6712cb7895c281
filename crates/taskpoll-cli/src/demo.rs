//! `taskpoll demo`: three simulated vendors on loopback, real tasks through their start
//! endpoints, every wait at once with live progress, then a summary.

use std::io::IsTerminal;
use std::time::Duration;

use serde_json::Value;
use taskpoll_redis_cloud::RedisCloudClient;
use taskpoll_runware::{ImageInference, RunwareClient, VideoInference};
use taskpoll_sim::faults::{Fault, FaultPlan};
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::runware::{RunwareSim, RunwareSimConfig};
use taskpoll_sim::script::Defaults;
use taskpoll_sim::stream::{StreamSim, StreamSimConfig};
use taskpoll_stream::{ChannelRef, StreamClient};

use crate::progress::{Board, Events, Row, drive, events};
use crate::report::{TaskReport, Verdict, human_duration};

type DemoError = Box<dyn std::error::Error + Send + Sync>;

fn defaults(task_time: Duration, fail_every: Option<u64>) -> Defaults {
    Defaults {
        task_time,
        fail_every,
    }
}

/// A one-line summary of a result or failure.
fn summarize(report: &TaskReport) -> String {
    let d = &report.detail;
    let text = |v: &Value| v.as_str().map(str::to_owned);
    match report.verdict {
        Verdict::Completed => {
            if let Some(url) = d.pointer("/result/url").and_then(text) {
                return url;
            }
            if let Some(obj) = d.get("result").and_then(Value::as_object) {
                let ok = obj
                    .values()
                    .filter(|v| v.get("status").and_then(Value::as_str) == Some("ok"))
                    .count();
                return format!("{ok} of {} deleted", obj.len());
            }
            if let Some(results) = d.get("results").and_then(Value::as_array) {
                let first = results
                    .first()
                    .and_then(|r| {
                        ["videoURL", "imageURL", "url"]
                            .iter()
                            .find_map(|k| r.get(*k).and_then(text))
                    })
                    .unwrap_or_default();
                let n = results.len();
                return format!("{n} result{}, first {first}", if n == 1 { "" } else { "s" });
            }
            if let Some(id) = d.get("resourceId").and_then(Value::as_i64) {
                return format!(
                    "{} {id}",
                    d.get("commandType")
                        .and_then(text)
                        .unwrap_or_else(|| "resource".into())
                );
            }
            d.to_string()
        }
        _ => {
            let kind = ["error_type", "type", "code", "kind"]
                .iter()
                .find_map(|k| d.get(*k).and_then(text));
            let what = ["description", "message"]
                .iter()
                .find_map(|k| d.get(*k).and_then(text));
            match (kind, what) {
                (Some(k), Some(w)) => format!("{k}: {w}"),
                (Some(k), None) => k,
                (None, Some(w)) => w,
                (None, None) => report.message.clone().unwrap_or_default(),
            }
        }
    }
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        let head: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{head}…")
    } else {
        text.to_owned()
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
    let live = std::io::stderr().is_terminal();
    let say = |line: &str| {
        if live {
            eprintln!("{line}");
        }
    };
    say("Starting the Stream, Redis Cloud and Runware simulators on loopback...");
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

    say("Starting tasks through each vendor's start endpoints...");
    let mut rows = Vec::new();
    let mut streams: Vec<Events> = Vec::new();
    let add = |rows: &mut Vec<Row>, row: Row| {
        rows.push(row);
        rows.len() - 1
    };

    let stream_poller = stream.poller();
    for channel in ["general", "random", "archive"] {
        let id = stream
            .export_channels(&[ChannelRef::new("messaging", channel)])
            .await?;
        let row = add(
            &mut rows,
            Row::new("stream", format!("export {channel}"), id.clone()),
        );
        streams.push(events(row, "stream", stream_poller.watch(id)));
    }
    let id = stream
        .delete_channels(
            &["messaging:old".to_owned(), "messaging:older".to_owned()],
            true,
        )
        .await?;
    let row = add(&mut rows, Row::new("stream", "delete channels", id.clone()));
    streams.push(events(row, "stream", stream_poller.watch(id)));
    let id = stream
        .delete_users(&["user-1".to_owned(), "user-2".to_owned()])
        .await?;
    let row = add(&mut rows, Row::new("stream", "delete users", id.clone()));
    streams.push(events(row, "stream", stream_poller.watch(id)));

    let redis_poller = redis.poller();
    for name in ["orders", "sessions", "cache"] {
        let body = serde_json::json!({
            "name": name,
            "cloudProviders": [{"provider": "AWS", "regions": [{"region": "us-east-1"}]}],
            "databases": [{"name": format!("{name}-db"), "datasetSizeInGb": 1}],
        });
        let id = redis.create_subscription(body).await?;
        let row = add(
            &mut rows,
            Row::new("redis-cloud", format!("subscription {name}"), id.clone()),
        );
        streams.push(events(row, "redis-cloud", redis_poller.watch(id)));
    }

    let runware_poller = runware.poller();
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
    let row = add(
        &mut rows,
        Row::new("runware", "video x4", video.to_string()),
    );
    streams.push(events(row, "runware", runware_poller.watch(video)));
    let image = runware
        .submit_image(
            ImageInference::new(
                "runware:100@1",
                "A lighthouse on a cliff at sunset, watercolor",
            )
            .size(1024, 1024),
        )
        .await?;
    let row = add(&mut rows, Row::new("runware", "image", image.to_string()));
    streams.push(events(row, "runware", runware_poller.watch(image)));

    say(&format!("Waiting on {} tasks at once:\n", rows.len()));
    let labels: Vec<String> = rows.iter().map(|r| r.label.clone()).collect();
    let mut board = Board::new(rows, live);
    let reports = drive(&mut board, streams).await;

    println!();
    println!(
        "{:<10} {:<12} {:<22} {:<38} {:>5} {:>8}  RESULT / ERROR",
        "OUTCOME", "VENDOR", "TASK", "ID", "POLLS", "ELAPSED"
    );
    for (report, label) in reports.iter().zip(&labels) {
        println!(
            "{:<10} {:<12} {:<22} {:<38} {:>5} {:>8}  {}",
            report.verdict.as_str(),
            report.vendor,
            label,
            report.task_id,
            report.polls,
            human_duration(report.elapsed),
            clip(&summarize(report), 90)
        );
    }
    let (s, r, w) = (
        stream_sim.counts().total,
        redis_sim.counts().total,
        runware_sim.counts().total,
    );
    println!();
    println!(
        "requests sent: stream {s}, redis-cloud {r}, runware {w} (total {})",
        s + r + w
    );
    let completed = reports
        .iter()
        .filter(|r| r.verdict == Verdict::Completed)
        .count();
    println!(
        "{completed} of {} tasks completed; the failures above were scripted by the simulators.",
        reports.len()
    );
    Ok(0)
}
