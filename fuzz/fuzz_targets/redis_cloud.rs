//! Redis Cloud: the functions of `decode` (status, headers, raw body, as the client
//! reads every answer), then the task and subscription sources' `classify`.
//! Panics are findings; so are answers of the wrong kind for their status.
#![no_main]

use std::sync::LazyLock;
use std::time::Duration;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use taskpoll::{Phase, TaskSource};
use taskpoll_redis_cloud::{Operation, RedisCloudClient, RedisCloudError, TaskStatus, decode};

static CLIENT: LazyLock<RedisCloudClient> = LazyLock::new(|| {
    RedisCloudClient::new("fuzz-key", "fuzz-secret").unwrap_or_else(|e| panic!("client: {e}"))
});

#[derive(Debug, Arbitrary)]
struct Input {
    status: u16,
    task_id: String,
    retry_after: Option<String>,
    remaining: Option<String>,
    body: Vec<u8>,
}

fn headers(input: &Input) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (name, value) in [
        ("retry-after", &input.retry_after),
        ("x-rate-limit-remaining", &input.remaining),
    ] {
        if let Some(v) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            h.insert(HeaderName::from_static(name), v);
        }
    }
    h
}

fn check_error(status: u16, e: &RedisCloudError) {
    let _ = (
        e.to_string(),
        format!("{e:?}"),
        e.class(Duration::from_secs(30)),
    );
    if (200..300).contains(&status) {
        assert!(
            matches!(
                e,
                RedisCloudError::Decode { .. } | RedisCloudError::NoTaskId { .. }
            ),
            "HTTP {status}: {e:?}"
        );
    }
}

fuzz_target!(|input: Input| {
    let (status, h) = (input.status, headers(&input));
    let source = CLIENT.source();
    match decode::task(&input.task_id, status, &h, &input.body) {
        Ok(task) => {
            assert!((200..300).contains(&status));
            let completed =
                task.error().is_none() && task.status == Some(TaskStatus::ProcessingCompleted);
            let _ = task.timestamp();
            let phase = source.classify(task);
            assert_eq!(completed, matches!(phase, Phase::Succeeded(_)));
        }
        Err(e) => check_error(status, &e),
    }
    match decode::task_list(status, &h, &input.body) {
        Ok(tasks) => tasks.into_iter().for_each(|t| {
            let _ = source.classify(t);
        }),
        Err(e) => check_error(status, &e),
    }
    match decode::subscription(1, status, &h, &input.body) {
        Ok(s) => {
            let _ = CLIENT.subscription_source().classify(s);
        }
        Err(e) => check_error(status, &e),
    }
    if let Err(e) = decode::start(Operation::CreateSubscription, status, &h, &input.body) {
        check_error(status, &e);
    }
});
