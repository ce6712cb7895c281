//! Request accounting: counts per endpoint, per task and per status code, a bounded
//! request log, and a check that clients honour `Retry-After`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// Request counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Every vendor request (the control API is not counted).
    pub total: u64,
    /// Per endpoint label (e.g. `"GET /api/v2/tasks/{id}"`).
    pub by_endpoint: BTreeMap<String, u64>,
    /// Per task id (a batched request counts once for each id it names).
    pub by_task: BTreeMap<String, u64>,
    /// Per HTTP status code sent.
    pub by_status: BTreeMap<u16, u64>,
    /// Faults injected.
    pub faults: u64,
    /// Requests for a task that came before the `Retry-After` it was sent allowed.
    pub retry_after_violations: u64,
}

impl Counts {
    /// Requests to one endpoint label.
    pub fn endpoint(&self, label: &str) -> u64 {
        self.by_endpoint.get(label).copied().unwrap_or(0)
    }

    /// Requests naming one task.
    pub fn task(&self, id: &str) -> u64 {
        self.by_task.get(id).copied().unwrap_or(0)
    }

    /// Responses with one status code.
    pub fn status(&self, code: u16) -> u64 {
        self.by_status.get(&code).copied().unwrap_or(0)
    }
}

/// One logged request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// Order of arrival, from 1.
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// The raw request target: path and query exactly as sent (percent-encoding kept).
    pub target: String,
    /// The endpoint label it matched.
    pub endpoint: String,
    /// Task ids it named (decoded).
    pub task_ids: Vec<String>,
    /// Status code sent.
    pub status: u16,
    /// Milliseconds since the server started.
    pub at_ms: u64,
}

/// The most requests the log keeps (older ones are dropped).
pub const LOG_CAPACITY: usize = 100_000;

/// Counts, log and `Retry-After` tracking of one server.
#[derive(Debug)]
pub struct Ledger {
    started: Instant,
    counts: Counts,
    log: VecDeque<RequestRecord>,
    seq: u64,
    not_before: HashMap<String, Instant>,
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger {
            started: Instant::now(),
            counts: Counts::default(),
            log: VecDeque::new(),
            seq: 0,
            not_before: HashMap::new(),
        }
    }
}

/// What [`Ledger::record`] needs to know about a request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Raw path and query.
    pub target: &'a str,
    /// Endpoint label.
    pub endpoint: &'a str,
    /// Task ids named.
    pub task_ids: &'a [String],
}

impl Ledger {
    /// Records a request answered with `status`; checks it against earlier
    /// `Retry-After`s, and when `retry_after` is set, remembers that its tasks may not
    /// be asked for again before then.
    pub fn record(
        &mut self,
        req: Request<'_>,
        status: u16,
        retry_after: Option<Duration>,
        fault: bool,
    ) {
        let now = Instant::now();
        self.seq += 1;
        let c = &mut self.counts;
        c.total += 1;
        *c.by_endpoint.entry(req.endpoint.to_owned()).or_default() += 1;
        *c.by_status.entry(status).or_default() += 1;
        if fault {
            c.faults += 1;
        }
        for id in req.task_ids {
            *c.by_task.entry(id.clone()).or_default() += 1;
            if let Some(until) = self.not_before.remove(id)
                && now < until
            {
                c.retry_after_violations += 1;
            }
            if let Some(ra) = retry_after {
                self.not_before.insert(id.clone(), now + ra);
            }
        }
        if self.log.len() >= LOG_CAPACITY {
            self.log.pop_front();
        }
        self.log.push_back(RequestRecord {
            seq: self.seq,
            method: req.method.to_owned(),
            target: req.target.to_owned(),
            endpoint: req.endpoint.to_owned(),
            task_ids: req.task_ids.to_vec(),
            status,
            at_ms: u64::try_from(now.saturating_duration_since(self.started).as_millis())
                .unwrap_or(u64::MAX),
        });
    }

    /// The counts so far.
    pub fn counts(&self) -> Counts {
        self.counts.clone()
    }

    /// The logged requests, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.log.iter().cloned().collect()
    }

    /// Clears counts, log and `Retry-After` tracking.
    pub fn reset(&mut self) {
        *self = Ledger::default();
    }
}
