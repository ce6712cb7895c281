//! The cases that need more than the harness's server: the response size cap, against
//! a raw server of the suite's own, and credentials in logs, against a capturing
//! subscriber.

use std::time::Duration;

use taskpoll::{Phase, Poller, TaskSource};

use super::cases::{CaseResult, describe, poller};
use super::{Fault, Harness, Scenario};
use crate::expect::permanent_at_first_poll;
use crate::logs;
use crate::server::{Body, RawServer, head};

const KIB: usize = 1024;

/// The cap adapters read bodies up to by default.
const DEFAULT_CAP: usize = 16 * 1024 * 1024;

/// How long a refused body may take: far less than reading a gigabyte or a body
/// without end.
const PROMPTLY: Duration = Duration::from_secs(5);

/// Waits on the harness's unknown id through a source pointed at `server`: the wait must
/// end at its first request with a permanent fetch error that names the cap.
async fn refused<H: Harness>(h: &H, server: &RawServer, cap: Option<usize>) -> CaseResult {
    let source = h
        .source_at(server.base_url(), cap)
        .ok_or("source_at gave a source for one URL but not another")?;
    let policy = h.fast_policy().deadline(Duration::from_secs(10));
    let poller = Poller::new(source).configure(|_| policy);
    let wait = poller.wait(h.unknown_id());
    let shown = cap.unwrap_or(DEFAULT_CAP).to_string();
    let result = tokio::time::timeout(PROMPTLY, wait)
        .await
        .map_err(|_| format!("the body was still being read after {PROMPTLY:?}"))?;
    let error = permanent_at_first_poll(result)?;
    let message = error.to_string();
    ensure!(
        message.contains(&shown),
        "the error does not name the {shown}-byte cap: {message}"
    );
    Ok(())
}

pub(super) async fn announced_body_over_the_cap<H: Harness>(h: &H) -> CaseResult {
    // A gigabyte announced, not one byte of it sent: reading would wait for ever.
    let server = RawServer::start(head(Some(1 << 30)), Body::Nothing).map_err(|e| e.to_string())?;
    refused(h, &server, Some(KIB)).await
}

pub(super) async fn streamed_body_over_the_cap<H: Harness>(h: &H) -> CaseResult {
    // No Content-Length, and a body that never ends: only a check while streaming stops it.
    let server = RawServer::start(head(None), Body::Endless).map_err(|e| e.to_string())?;
    refused(h, &server, Some(KIB)).await?;
    // The server stops writing when the client hangs up; by then it can have written no
    // more than the socket buffers hold: far less than the gigabyte it had to send.
    let written = tokio::time::timeout(PROMPTLY, server.finished())
        .await
        .map_err(|_| "the client still held the connection of a refused body".to_owned())?;
    ensure!(
        written < 64 << 20,
        "the server wrote {written} bytes before the client hung up"
    );
    Ok(())
}

pub(super) async fn default_cap<H: Harness>(h: &H) -> CaseResult {
    let announced = DEFAULT_CAP as u64 + 1;
    let server =
        RawServer::start(head(Some(announced)), Body::Nothing).map_err(|e| e.to_string())?;
    refused(h, &server, None).await
}

pub(super) async fn body_of_exactly_the_cap<H: Harness>(h: &H) -> CaseResult {
    let id = h.unknown_id();
    let mut body = h.running_answer(&id).ok_or("running_answer gave no body")?;
    ensure!(
        body.len() <= DEFAULT_CAP,
        "the running answer is {} bytes, over the cap",
        body.len()
    );
    body.resize(DEFAULT_CAP, b' ');
    let server = RawServer::start(head(Some(DEFAULT_CAP as u64)), Body::Exact(body))
        .map_err(|e| e.to_string())?;
    let source = h
        .source_at(server.base_url(), None)
        .ok_or("source_at gave a source for one URL but not another")?;
    match tokio::time::timeout(PROMPTLY, source.fetch(&id)).await {
        Err(_) => Err(format!("the body was still being read after {PROMPTLY:?}")),
        Ok(Err(e)) => Err(format!("a body of exactly the cap was refused: {e}")),
        Ok(Ok(status)) => match source.classify(status) {
            Phase::Pending(_) | Phase::Running(_) => Ok(()),
            other => Err(format!("the running answer was read as {}", other.kind())),
        },
    }
}

pub(super) async fn error_status_over_the_cap<H: Harness>(h: &H) -> CaseResult {
    // A gateway's 503 announcing a megabyte of page: over a 64-byte cap, and never sent.
    let head = "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/html\r\ncontent-length: 1048576\r\n\r\n";
    let server = RawServer::start(head.to_owned(), Body::Nothing).map_err(|e| e.to_string())?;
    let source = h
        .source_at(server.base_url(), Some(64))
        .ok_or("source_at gave a source for one URL but not another")?;
    match tokio::time::timeout(PROMPTLY, source.fetch(&h.unknown_id())).await {
        Err(_) => Err(format!("the body was still being read after {PROMPTLY:?}")),
        Ok(Ok(_)) => Err("a 503 was read as a status".into()),
        Ok(Err(e)) => {
            let class = source.error_class(&e);
            ensure!(
                class.is_transient(),
                "a 503 with a body over the cap is {class:?}, not transient: {e}"
            );
            Ok(())
        }
    }
}

pub(super) async fn user_agent<H: Harness>(h: &H) -> CaseResult {
    const AGENT: &str = "taskpoll-behavior-suite/1.0";
    let server =
        RawServer::start(head(Some(2)), Body::Exact(b"{}".to_vec())).map_err(|e| e.to_string())?;
    let source = h
        .source_with_user_agent(server.base_url(), AGENT)
        .ok_or("source_with_user_agent gave a source for one URL but not another")?;
    // The answer does not matter: the request does.
    let _ = tokio::time::timeout(PROMPTLY, source.fetch(&h.unknown_id())).await;
    let request = server.request_head();
    let sent = request
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("user-agent"))
        .map(|(_, value)| value.trim().to_owned());
    ensure!(
        sent.as_deref() == Some(AGENT),
        "the request carried user-agent {sent:?}, not the builder's {AGENT:?}"
    );
    Ok(())
}

pub(super) async fn no_credential_in_logs<H: Harness>(h: &H) -> CaseResult {
    let captured = logs::capture().map_err(|e| e.to_string())?;
    let p = poller(h);
    // A wait through transient faults, a failure, an unknown word, refused credentials.
    let id = h.create(Scenario::Succeeds { polls: 1 }).await;
    h.inject(Fault::Transient { count: 2 }).await;
    let succeeded = p.wait(id).await;
    h.clear_faults().await;
    succeeded.map_err(|e| format!("expected success, got {}", describe(&e)))?;
    let failing = h.create(Scenario::Fails { polls: 0 }).await;
    let _ = p.wait(failing).await;
    if h.capabilities().unknown_status {
        let odd = h
            .create(Scenario::UnknownStatusThenSucceeds { polls: 1 })
            .await;
        let _ = p.wait(odd).await;
    }
    let refused = h.create(Scenario::Succeeds { polls: 0 }).await;
    let policy = h.fast_policy();
    let _ = h
        .poller_with_bad_credentials()
        .configure(|_| policy)
        .wait(refused)
        .await;

    let lines = captured.lines();
    ensure!(
        !lines.is_empty(),
        "no span or event was captured: the adapter logs nothing at all"
    );
    for secret in h.secrets().iter().filter(|s| !s.is_empty()) {
        if let Some(line) = lines.iter().find(|l| l.contains(secret.as_str())) {
            return Err(format!(
                "a log line carries a credential (shown here as ***): {}",
                line.replace(secret.as_str(), "***")
            ));
        }
    }
    Ok(())
}
