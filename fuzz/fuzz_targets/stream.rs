//! Stream: `TaskResponse::decode` (status, rate-limit headers, raw body, as
//! `StreamClient::get_task` reads an answer), then `StreamSource::classify`.
//! Panics are findings; so are answers of the wrong kind for their status.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use taskpoll::{Phase, TaskSource};
use taskpoll_stream::{StreamClient, StreamError, StreamSource, TaskResponse};

static SOURCE: LazyLock<StreamSource> = LazyLock::new(|| {
    StreamClient::new("fuzz-key", "fuzz-secret")
        .map(|c| c.source())
        .unwrap_or_else(|e| panic!("client: {e}"))
});

#[derive(Debug, Arbitrary)]
struct Input {
    status: u16,
    retry_after: Option<String>,
    limit: Option<String>,
    remaining: Option<String>,
    reset: Option<String>,
    body: Vec<u8>,
}

fn headers(input: &Input) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (name, value) in [
        ("retry-after", &input.retry_after),
        ("x-ratelimit-limit", &input.limit),
        ("x-ratelimit-remaining", &input.remaining),
        ("x-ratelimit-reset", &input.reset),
    ] {
        if let Some(v) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            h.insert(HeaderName::from_static(name), v);
        }
    }
    h
}

fuzz_target!(|input: Input| {
    let status = input.status;
    match TaskResponse::decode(status, &headers(&input), &input.body) {
        Ok(task) => {
            assert!((200..300).contains(&status), "a task from HTTP {status}");
            let completed = task.status.eq_ignore_ascii_case("completed");
            let phase = SOURCE.classify(task);
            // A completed task succeeded, unless an item of its per-item results failed.
            let item_failed = matches!(&phase, Phase::Failed(f) if f.as_task().is_none());
            assert_eq!(completed, matches!(phase, Phase::Succeeded(_)) || item_failed);
        }
        Err(e) => {
            let _ = (e.to_string(), format!("{e:?}"), e.class(), e.retry_after());
            if (200..300).contains(&status) {
                assert!(matches!(e, StreamError::Malformed { .. }), "{e:?}");
            }
        }
    }
});
