//! Runware: `answer::read_body` (status, `Retry-After`, raw body, as the client reads
//! every answer), `answer::read_poll` for a task alone and in a batch,
//! `answer::read_submission`, then `RunwareSource::classify`.
//! Panics are findings; so is a success with an error or without all its results.
#![no_main]

use std::sync::LazyLock;
use std::time::Duration;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use taskpoll::{Phase, TaskSource};
use taskpoll_runware::answer::{read_body, read_poll, read_submission};
use taskpoll_runware::{RunwareClient, RunwareSource, RunwareTaskId};

static SOURCE: LazyLock<RunwareSource> = LazyLock::new(|| {
    RunwareClient::new("fuzz-key")
        .map(|c| c.source())
        .unwrap_or_else(|e| panic!("client: {e}"))
});

const TASKS: [&str; 2] = [
    "6f1c2a3e-0b7d-4e0a-9a51-2f3c4d5e6f70",
    "3c7d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f",
];

#[derive(Debug, Arbitrary)]
struct Input {
    status: u16,
    retry_after: Option<u64>,
    expected: u8,
    single: bool,
    body: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let retry_after = input.retry_after.map(Duration::from_secs);
    let answer = match read_body(input.status, retry_after, &input.body) {
        Ok(answer) => answer,
        Err(e) => {
            let _ = (e.to_string(), format!("{e:?}"), e.class());
            return;
        }
    };
    for (i, uuid) in TASKS.iter().enumerate() {
        let id = RunwareTaskId::video(*uuid, u32::from(input.expected) % 6);
        let _ = read_submission(&answer, uuid, "videoInference");
        let Some(entry) = read_poll(&answer, &id, input.single && i == 0) else {
            continue;
        };
        match entry {
            Ok(status) => {
                let has_errors = !status.envelope.all_errors().is_empty();
                match SOURCE.classify(status) {
                    Phase::Succeeded(out) => {
                        assert!(!has_errors);
                        assert!(out.results.len() >= id.expected());
                    }
                    Phase::Failed(f) => assert!(!f.errors.is_empty()),
                    Phase::Pending(p) | Phase::Running(p) => {
                        assert!(!has_errors);
                        assert!(p.partials.len() < id.expected());
                    }
                }
            }
            Err(e) => {
                let _ = (e.to_string(), format!("{e:?}"), e.class());
            }
        }
    }
});
