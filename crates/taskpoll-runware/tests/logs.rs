//! Every tracing event and span of waits that retry, fail and succeed, and of a
//! submission that is retried, captured at every level: none carries the API key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::fast;
use taskpoll_runware::{RunwareClient, RunwareTaskId, VideoInference};
use taskpoll_sim::faults::{Fault, FaultPlan, FaultScope};
use taskpoll_sim::runware::{MediaKind, RunwareSimConfig, RunwareTaskSpec};

const KEY: &str = "runware-key-DO-NOT-LOG-a41f";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_log_line_carries_the_key() {
    let lines = taskpoll_behavior::support::capture_logs();

    let sim = common::sim_with(
        std::time::Duration::from_millis(100),
        RunwareSimConfig {
            api_key: KEY.into(),
            ..RunwareSimConfig::default()
        },
    )
    .await;
    let client = common::client(&sim);
    // A submission whose first attempt meets a 503 and is retried...
    sim.set_faults(FaultPlan {
        scope: FaultScope::All,
        ..FaultPlan::default().at(1, Fault::ServerError { status: 503 })
    });
    let id = client
        .submit_video(VideoInference::new("klingai:5@3", "a fox in the snow").number_results(2))
        .await
        .unwrap();
    // ...then polls through faults.
    sim.set_faults(
        FaultPlan::default()
            .at(1, Fault::Reset)
            .at(2, Fault::Malformed)
            .at(3, Fault::NonJson { status: 502 }),
    );
    fast(&client).wait(id).await.unwrap();
    let failing = sim.create_task(
        RunwareTaskSpec::new(MediaKind::Image, 2)
            .finish_after_polls([1, 9])
            .fail_after(1, "timeoutProvider", "the provider did not answer"),
    );
    fast(&client)
        .wait(RunwareTaskId::new(failing, 2))
        .await
        .unwrap_err();
    let wrong = RunwareClient::builder("wrong-key-DO-NOT-LOG")
        .base_url(&sim.base_url())
        .build()
        .unwrap();
    fast(&wrong)
        .wait(RunwareTaskId::new(
            "6f1c2a3e-0b7d-4e0a-9a51-2f3c4d5e6f70",
            1,
        ))
        .await
        .unwrap_err();
    sim.shutdown().await;

    let lines = lines.lock().unwrap();
    assert!(
        lines.iter().any(|l| l.contains("retrying")),
        "the poller logs its retries: {lines:#?}"
    );
    for line in lines.iter() {
        assert!(!line.contains(KEY), "the key is logged: {line}");
        assert!(!line.contains("DO-NOT-LOG"), "{line}");
    }
}
