//! One budget for every wait of a client: two pollers with their own policies, lone
//! waits and a group, measured in the simulator's request log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{ms, sim};
use futures_util::StreamExt;
use taskpoll::Budget;
use taskpoll::strategy::Fixed;
use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};
use taskpoll_sim::stream::StreamSimConfig;
use taskpoll_stream::StreamClient;

fn task(polls: u32) -> TaskScript {
    TaskScript {
        steps: vec![ScriptStep::for_polls("running", polls)],
        outcome: ScriptOutcome::Success {
            result: serde_json::json!({}),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_pollers_and_a_group_of_one_client_share_its_budget() {
    let sim = sim(StreamSimConfig::default()).await;
    // Its own key, so that no other test's client shares this budget.
    let client = StreamClient::builder(sim.api_key(), sim.api_secret())
        .base_url(&sim.base_url())
        .budget(Budget::default().per_window(10, Duration::from_secs(1)))
        .build()
        .unwrap();
    let quick = client.poller().configure(|p| {
        p.interval(Fixed::new(ms(20)))
            .deadline(Duration::from_secs(60))
    });
    let slow = client.poller().configure(|p| {
        p.interval(Fixed::new(ms(50)))
            .deadline(Duration::from_secs(60))
    });
    let lone: Vec<String> = (0..6).map(|_| sim.create_task(task(3))).collect();
    let grouped: Vec<String> = (0..6).map(|_| sim.create_task(task(3))).collect();
    let mut waits = Vec::new();
    for (i, id) in lone.iter().enumerate() {
        let p = if i % 2 == 0 {
            quick.clone()
        } else {
            slow.clone()
        };
        let id = id.clone();
        waits.push(tokio::spawn(async move { p.wait(id).await }));
    }
    let group = slow
        .wait_all(grouped.clone())
        .outcomes()
        .collect::<Vec<_>>();
    let outcomes = group.await;
    for w in waits {
        w.await.unwrap().unwrap();
    }
    assert!(outcomes.iter().all(|o| o.result.is_ok()));
    // 48 polls: alone, each poller would send its own 10 a second; together, at most
    // 10 in any second as the simulator received them.
    let mut times: Vec<u64> = sim
        .requests()
        .iter()
        .filter(|r| r.endpoint == "GET /api/v2/tasks/{id}")
        .map(|r| r.at_ms)
        .collect();
    times.sort();
    assert_eq!(times.len(), 48);
    for (i, t) in times.iter().enumerate() {
        let within = times[i..].iter().take_while(|u| **u < t + 1000).count();
        assert!(within <= 10, "{within} requests within a second: {times:?}");
    }
    let span = times.last().unwrap() - times.first().unwrap();
    assert!(span >= 4000, "48 requests at 10 a second took {span} ms");
    assert_eq!(client.scheduler().requests_sent(), 48);
}
