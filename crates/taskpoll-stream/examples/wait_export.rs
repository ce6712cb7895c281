//! Starts a channel export and waits for it, with the poller's progress as it goes.
//!
//! Against the simulator: run `taskpoll sim` (or `cargo run -p taskpoll-sim`), export
//! the variables its `stream` line prints, then
//! `cargo run -p taskpoll-stream --example wait_export`.
//! The credentials come from `STREAM_API_KEY` and `STREAM_API_SECRET` (as for
//! `taskpoll wait stream`); `STREAM_BASE_URL` defaults to Stream's production API.

use std::time::Duration;

use futures_util::StreamExt;
use taskpoll::Update;
use taskpoll_stream::{ChannelRef, DEFAULT_BASE_URL, StreamClientBuilder};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base_url = std::env::var("STREAM_BASE_URL").unwrap_or_else(|_| DEFAULT_BASE_URL.into());
    let client = StreamClientBuilder::from_env()?
        .base_url(&base_url)
        .build()?;

    let task_id = client
        .export_channels(&[ChannelRef::new("messaging", "general")])
        .await?;
    println!("export started: task {task_id}");

    let poller = client
        .poller()
        .configure(|p| p.deadline(Duration::from_secs(120)));
    let mut updates = poller.watch(task_id);
    while let Some(update) = updates.next().await {
        match update {
            Update::Polled { phase, .. } => println!("  {phase}"),
            Update::Retrying { error, delay, .. } => {
                println!("  retrying in {delay:?}: {error}")
            }
            Update::Finished(outcome) => {
                let done = outcome.result?;
                println!("export ready: {}", done.result["url"]);
            }
            _ => {}
        }
    }
    Ok(())
}
