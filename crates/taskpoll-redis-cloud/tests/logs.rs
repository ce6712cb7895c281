//! Every tracing event and span of waits that start, retry, fail and succeed, captured
//! at every level: none carries the account key or the secret key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fmt::{Debug, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::{failure, fast, polls, quick, success};
use serde_json::json;
use taskpoll_redis_cloud::RedisCloudClient;
use taskpoll_sim::faults::{Fault, FaultPlan};
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig, TaskOptions};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

const KEY: &str = "redis-key-DO-NOT-LOG-41a7";
const SECRET: &str = "redis-secret-DO-NOT-LOG-9c3e";

/// Writes every field of every span and event, at every level, as text.
struct Capture {
    lines: Arc<Mutex<Vec<String>>>,
    next_id: AtomicU64,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

impl Capture {
    fn push(&self, target: &str, visit: impl FnOnce(&mut Fields<'_>)) {
        let mut line = format!("{target}: ");
        visit(&mut Fields(&mut line));
        self.lines.lock().unwrap().push(line);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        self.push(attrs.metadata().target(), |f| attrs.record(f));
        Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    fn record(&self, _: &Id, values: &Record<'_>) {
        self.push("record", |f| values.record(f));
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        self.push(event.metadata().target(), |f| event.record(f));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_log_line_carries_the_keys() {
    let lines = Arc::new(Mutex::new(Vec::new()));
    tracing::subscriber::set_global_default(Capture {
        lines: Arc::clone(&lines),
        next_id: AtomicU64::new(1),
    })
    .unwrap();

    let sim = RedisCloudSim::start(RedisCloudSimConfig {
        api_key: KEY.into(),
        secret_key: SECRET.into(),
        ..quick()
    })
    .await
    .unwrap();
    let client = RedisCloudClient::builder(KEY, SECRET)
        .base_url(&sim.base_url())
        .build()
        .unwrap();
    let id = client
        .create_subscription(json!({"name": "logs"}))
        .await
        .unwrap();
    sim.set_faults(
        FaultPlan::default()
            .at(1, Fault::ServerError { status: 503 })
            .at(2, Fault::Reset)
            .at(3, Fault::Malformed)
            .at(4, Fault::NonJson { status: 502 }),
    );
    fast(client.poller()).wait(id).await.unwrap();
    let odd = sim.create_task_with(
        success(vec![polls("processing-paused", 1)], json!({})),
        TaskOptions {
            not_found_polls: Some(1),
            ..TaskOptions::default()
        },
    );
    fast(client.poller()).wait(odd).await.unwrap();
    let failing = sim.create_task(failure(vec![], json!("SUBSCRIPTION_NOT_FOUND")));
    fast(client.poller()).wait(failing).await.unwrap_err();
    let wrong = RedisCloudClient::builder(KEY, "wrong")
        .base_url(&sim.base_url())
        .build()
        .unwrap();
    fast(wrong.poller()).wait("t".into()).await.unwrap_err();
    sim.shutdown().await;

    let lines = lines.lock().unwrap();
    assert!(
        lines.iter().any(|l| l.contains("redis-cloud response")),
        "the adapter logs its requests: {lines:#?}"
    );
    assert!(lines.iter().any(|l| l.contains("processing-paused")));
    for line in lines.iter() {
        assert!(!line.contains(KEY), "the key is logged: {line}");
        assert!(!line.contains(SECRET), "the secret is logged: {line}");
        assert!(!line.contains("DO-NOT-LOG"), "{line}");
    }
}
