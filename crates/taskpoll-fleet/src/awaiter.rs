//! Awaiting outcomes by task id: read what is stored, subscribe, read again, then take
//! each outcome as it is published; after a lost connection, do it all again.

use std::collections::HashMap;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

use crate::error::FleetError;
use crate::outcome::{FleetOutcome, now_ms};
use crate::store::Fleet;
use crate::waits::{WaitRequest, parse_outcome};

/// How often stored outcomes are read again while subscribed: a safety net for a
/// subscription that silently stopped delivering.
const RECHECK: Duration = Duration::from_secs(15);
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Outcomes of many waits as they are published, from [`Fleet::outcomes`] or
/// [`Fleet::wait_all`].
///
/// Yields `Ok(outcome)` once per task (in the order they finish; those already
/// finished first), and `Err(e)` each time Redis cannot be reached: the stream goes on
/// after an error, reconnecting with backoff (100 ms doubling to 5 s), and ends when
/// every task has its outcome. Dropping it stops the awaiting (not the waits: workers
/// go on and the outcomes are kept).
#[must_use = "a stream does nothing unless polled"]
pub struct OutcomeStream {
    rx: UnboundedReceiver<Result<FleetOutcome, FleetError>>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for OutcomeStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutcomeStream").finish_non_exhaustive()
    }
}

impl Drop for OutcomeStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Stream for OutcomeStream {
    type Item = Result<FleetOutcome, FleetError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

struct Awaiting {
    fleet: Fleet,
    vendor: String,
    /// Tasks without an outcome yet, with the request that enqueued them (to enqueue
    /// again a wait Redis lost), if this stream enqueued them.
    pending: HashMap<String, Option<WaitRequest>>,
    tx: UnboundedSender<Result<FleetOutcome, FleetError>>,
}

enum Stop {
    /// Every task has its outcome, or nobody listens.
    Done,
    /// Redis failed: try again after a pause.
    Retry(FleetError),
}

impl Awaiting {
    fn emit(&mut self, outcome: FleetOutcome) -> Result<(), Stop> {
        if self.pending.remove(&outcome.task_id).is_some() && self.tx.send(Ok(outcome)).is_err() {
            return Err(Stop::Done);
        }
        if self.pending.is_empty() {
            return Err(Stop::Done);
        }
        Ok(())
    }

    /// Enqueues (again) the waits this stream owns and has no outcome for: a wait
    /// Redis lost comes back with its original start, one that exists is joined.
    async fn enqueue(&mut self) -> Result<(), Stop> {
        let requests: Vec<WaitRequest> = self.pending.values().flatten().cloned().collect();
        if requests.is_empty() {
            return Ok(());
        }
        self.fleet
            .enqueue(&self.vendor, requests)
            .await
            .map(drop)
            .map_err(Stop::Retry)
    }

    /// Reads the stored outcomes of every pending task.
    async fn read(&mut self) -> Result<(), Stop> {
        let ids: Vec<String> = self.pending.keys().cloned().collect();
        let found = self
            .fleet
            .outcomes_of(&self.vendor, &ids)
            .await
            .map_err(Stop::Retry)?;
        for outcome in found.into_iter().flatten() {
            self.emit(outcome)?;
        }
        Ok(())
    }

    /// One round: enqueue, read, subscribe, read again, listen until the connection
    /// is lost.
    async fn round(&mut self) -> Result<(), Stop> {
        self.enqueue().await?;
        self.read().await?;
        let keys = self.fleet.keys(&self.vendor).map_err(Stop::Retry)?;
        let mut pubsub = self.fleet.pubsub().await.map_err(Stop::Retry)?;
        let channel = keys.channel();
        pubsub
            .subscribe(&channel)
            .await
            .map_err(|e| Stop::Retry(self.fail("subscribing to outcomes", &e)))?;
        self.read().await?;
        let mut messages = pubsub.on_message();
        let mut recheck = tokio::time::interval(RECHECK);
        recheck.tick().await;
        loop {
            tokio::select! {
                msg = messages.next() => match msg {
                    Some(msg) => {
                        let Ok(text) = msg.get_payload::<String>() else { continue };
                        match parse_outcome(&text) {
                            Ok(outcome) => self.emit(outcome)?,
                            Err(e) => tracing::warn!(vendor = %self.vendor, "{e}: a published outcome skipped"),
                        }
                    }
                    None => {
                        return Err(Stop::Retry(FleetError::Redis {
                            server: self.fleet.server().to_owned(),
                            during: "awaiting outcomes",
                            message: "the subscription connection was closed".into(),
                        }));
                    }
                },
                _ = recheck.tick() => self.read().await?,
            }
        }
    }

    fn fail(&self, during: &'static str, e: &redis::RedisError) -> FleetError {
        FleetError::Redis {
            server: self.fleet.server().to_owned(),
            during,
            message: e.to_string(),
        }
    }

    async fn run(mut self) {
        let mut backoff = BACKOFF_FIRST;
        let mut down = false;
        loop {
            if self.pending.is_empty() {
                return;
            }
            match self.round().await {
                Ok(()) | Err(Stop::Done) => return,
                Err(Stop::Retry(e)) => {
                    if !e.is_transient() {
                        let _ = self.tx.send(Err(e));
                        return;
                    }
                    if !down {
                        tracing::warn!(vendor = %self.vendor, "{e}; reconnecting");
                        down = true;
                    }
                    if self.tx.send(Err(e)).is_err() {
                        return;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    continue;
                }
            }
        }
    }
}

impl Fleet {
    fn awaiting(
        &self,
        vendor: &str,
        pending: HashMap<String, Option<WaitRequest>>,
    ) -> OutcomeStream {
        let (tx, rx) = unbounded_channel();
        let task = tokio::spawn(
            Awaiting {
                fleet: self.clone(),
                vendor: vendor.to_owned(),
                pending,
                tx,
            }
            .run(),
        );
        OutcomeStream { rx, task }
    }

    /// Awaits the outcomes of `vendor`'s tasks, enqueued by this or any other process
    /// (or finished already): each arrives once, as it is published.
    pub fn outcomes(
        &self,
        vendor: &str,
        task_ids: impl IntoIterator<Item = String>,
    ) -> OutcomeStream {
        self.awaiting(vendor, task_ids.into_iter().map(|id| (id, None)).collect())
    }

    /// Enqueues waits and awaits their outcomes. After Redis comes back from an outage,
    /// waits it lost are enqueued again with their original start, so
    /// a Redis restarted without persistence loses no wait while this stream lives.
    pub fn wait_all(
        &self,
        vendor: &str,
        requests: impl IntoIterator<Item = WaitRequest>,
    ) -> OutcomeStream {
        let started = now_ms();
        let pending = requests
            .into_iter()
            .map(|r| {
                let r = if r.started_unix_ms.is_none() {
                    r.started_at(started)
                } else {
                    r
                };
                (r.task_id.clone(), Some(r))
            })
            .collect();
        self.awaiting(vendor, pending)
    }

    /// Awaits one task's outcome (enqueued by any process, or finished already; kept
    /// for the outcome TTL). Redis outages are logged and retried; only a request that
    /// can never succeed (an invalid vendor name) or a corrupt outcome is an error.
    pub async fn await_outcome(
        &self,
        vendor: &str,
        task_id: &str,
    ) -> Result<FleetOutcome, FleetError> {
        let mut stream = self.outcomes(vendor, [task_id.to_owned()]);
        loop {
            match stream.next().await {
                Some(Ok(outcome)) => return Ok(outcome),
                Some(Err(e)) if e.is_transient() => {}
                Some(Err(e)) => return Err(e),
                None => {
                    return Err(FleetError::Invalid(format!(
                        "awaiting {task_id} stopped without an outcome"
                    )));
                }
            }
        }
    }
}
