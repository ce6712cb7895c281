//! Submits an async video inference with two results and prints each result as soon as
//! it is ready, then the whole output.
//!
//! Against the simulator: run `taskpoll sim` (or `cargo run -p taskpoll-sim`), export
//! the variables its `runware` line prints, then
//! `cargo run -p taskpoll-runware --example video`.
//! The key comes from `RUNWARE_API_KEY` (as for `taskpoll wait runware`);
//! `RUNWARE_BASE_URL` defaults to Runware's production API.

use futures_util::StreamExt;
use taskpoll::Update;
use taskpoll_runware::{DEFAULT_BASE_URL, RunwareClientBuilder, VideoInference};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base_url = std::env::var("RUNWARE_BASE_URL").unwrap_or_else(|_| DEFAULT_BASE_URL.into());
    let client = RunwareClientBuilder::from_env()?
        .base_url(&base_url)
        .build()?;

    let task = VideoInference::new("klingai:5@3", "A red fox in fresh snow").number_results(2);
    let id = client.submit_video(task).await?;
    println!("video submitted: task {id}");

    // Runware's defaults: the first poll after 3 s for a video, then 0.5 s growing to 10 s.
    let poller = client.poller();
    let mut updates = poller.watch(id);
    while let Some(update) = updates.next().await {
        match update {
            Update::Partial { index, result } => {
                println!("  result {index}: {}", result.url().unwrap_or("-"));
            }
            Update::Finished(outcome) => {
                let output = outcome.result?;
                println!("done: {} results", output.results.len());
            }
            _ => {}
        }
    }
    Ok(())
}
