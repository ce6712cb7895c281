//! Durable waits against a real `redis-server` (started by the tests on a free loopback
//! port; install redis-server to run them): enqueue, claim, leases, outcomes, awaiting,
//! Redis restarts. Workers poll in-memory scripted sources.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use serde_json::json;
use taskpoll::strategy::Fixed;
use taskpoll::testing::{ScriptedSource, Step};
use taskpoll::{ErrorClass, Outcome, Phase, Poller, TaskSource};
use taskpoll_fleet::testing::RedisServer;
use taskpoll_fleet::{
    Enqueued, Fleet, FleetOutcome, OutcomeKind, WaitCodec, WaitRequest, WaitState, Worker,
    WorkerReport, WorkerSettings,
};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const VENDOR: &str = "scripted";

fn redis() -> RedisServer {
    RedisServer::start().unwrap_or_else(|e| panic!("{e}"))
}

/// Outcomes of any source whose id is a string and whose output and failure display.
struct Codec;

impl<S> WaitCodec<S> for Codec
where
    S: TaskSource<Id = String>,
    S::Output: std::fmt::Display,
{
    fn id(&self, task_id: &str, _params: &serde_json::Value) -> Result<String, String> {
        Ok(task_id.to_owned())
    }

    fn task_id(&self, id: &String) -> String {
        id.clone()
    }

    fn outcome(&self, vendor: &str, outcome: Outcome<S>, _last: Option<&str>) -> FleetOutcome {
        let kind = match &outcome.result {
            Ok(_) => OutcomeKind::Completed,
            Err(e) if e.kind() == taskpoll::ErrorKind::Failed => OutcomeKind::Failed,
            Err(e) if e.kind() == taskpoll::ErrorKind::Fetch => OutcomeKind::Error,
            Err(_) => OutcomeKind::TimedOut,
        };
        let mut out = FleetOutcome::new(vendor, &outcome.id, kind);
        out.polls = outcome.polls;
        out.elapsed_ms = outcome.elapsed.as_millis() as u64;
        match &outcome.result {
            Ok(o) => out.result = Some(json!(o.to_string())),
            Err(e) => out.error = Some(json!(e.to_string())),
        }
        out
    }
}

fn poller(source: ScriptedSource) -> Poller<ScriptedSource> {
    Poller::new(source).configure(|p| {
        p.interval(Fixed::new(Duration::from_millis(100)))
            .deadline(Duration::from_secs(30))
    })
}

fn quick() -> WorkerSettings {
    WorkerSettings::default()
        .lease(Duration::from_millis(900))
        .tick(Duration::from_millis(50))
        .persist_every(Duration::from_millis(100))
}

/// A worker running in the background; `stop` hands its waits back, `kill` drops it
/// as a crash would (no hand back, no more lease renewals).
struct Running {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<WorkerReport>,
}

impl Running {
    async fn stop(mut self) -> WorkerReport {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.task.await.unwrap()
    }

    fn kill(self) {
        self.task.abort();
    }
}

fn run<S: TaskSource<Id = String>>(
    fleet: &Fleet,
    poller: Poller<S>,
    settings: WorkerSettings,
) -> Running
where
    S::Output: std::fmt::Display,
{
    let (tx, rx) = oneshot::channel::<()>();
    let worker = Worker::new(fleet, VENDOR, poller, Codec)
        .unwrap()
        .settings(settings);
    let task = tokio::spawn(async move {
        worker
            .run(async move {
                let _ = rx.await;
            })
            .await
            .unwrap()
    });
    Running {
        stop: Some(tx),
        task,
    }
}

/// Every message published on the vendor's outcome channel, counted per task id.
async fn count_published(url: &str) -> Arc<Mutex<HashMap<String, u32>>> {
    let counts = Arc::new(Mutex::new(HashMap::new()));
    let client = redis::Client::open(url).unwrap();
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    pubsub
        .subscribe(format!("taskpoll:{VENDOR}:outcomes"))
        .await
        .unwrap();
    let seen = Arc::clone(&counts);
    tokio::spawn(async move {
        let mut messages = pubsub.into_on_message();
        while let Some(m) = messages.next().await {
            let text: String = m.get_payload().unwrap();
            let o: FleetOutcome = serde_json::from_str(&text).unwrap();
            *seen.lock().unwrap().entry(o.task_id).or_insert(0) += 1;
        }
    });
    counts
}

async fn collect(fleet: &Fleet, ids: &[&str], within: Duration) -> HashMap<String, FleetOutcome> {
    let mut stream = fleet.outcomes(VENDOR, ids.iter().map(|s| s.to_string()));
    let mut out = HashMap::new();
    let deadline = tokio::time::Instant::now() + within;
    while out.len() < ids.len() {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(o))) => {
                out.insert(o.task_id.clone(), o);
            }
            Ok(Some(Err(e))) => eprintln!("transient: {e}"),
            Ok(None) => break,
            Err(_) => panic!(
                "only {} of {} outcomes within {within:?}: {:?}",
                out.len(),
                ids.len(),
                out.keys()
            ),
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_claims_polls_and_publishes_each_outcome_once() {
    let server = redis();
    let fleet = Fleet::open(&server.url()).unwrap();
    let published = count_published(&server.url()).await;
    let source = ScriptedSource::new();
    source.script("ok", [Step::running().times(2), Step::succeed("made it")]);
    source.script("bad", [Step::running(), Step::fail("out of credits")]);
    let answers = fleet
        .enqueue(VENDOR, ["ok", "bad"].map(WaitRequest::new))
        .await
        .unwrap();
    assert_eq!(answers, [Enqueued::New, Enqueued::New]);
    let worker = run(&fleet, poller(source), quick());
    let outcomes = collect(&fleet, &["ok", "bad"], Duration::from_secs(10)).await;
    assert_eq!(outcomes["ok"].outcome, OutcomeKind::Completed);
    assert_eq!(outcomes["ok"].result, Some(json!("made it")));
    assert_eq!(outcomes["ok"].polls, 3);
    assert_eq!(outcomes["bad"].outcome, OutcomeKind::Failed);
    let report = worker.stop().await;
    assert_eq!(
        (report.claimed, report.published, report.duplicates),
        (2, 2, 0)
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let counts = published.lock().unwrap().clone();
    assert_eq!(counts, HashMap::from([("ok".into(), 1), ("bad".into(), 1)]));
    // The waits are gone, the outcomes stay (for the TTL).
    assert!(matches!(
        fleet.wait_state(VENDOR, "ok").await.unwrap(),
        WaitState::Finished(_)
    ));
    assert_eq!(fleet.counts(VENDOR).await.unwrap(), (0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn enqueuing_an_id_already_waiting_joins_it() {
    let server = redis();
    let fleet = Fleet::open(&server.url()).unwrap();
    let other_process = Fleet::open(&server.url()).unwrap();
    let published = count_published(&server.url()).await;
    let first = fleet
        .enqueue(
            VENDOR,
            [WaitRequest::new("t-1").timeout(Duration::from_secs(20))],
        )
        .await
        .unwrap();
    let again = other_process
        .enqueue(VENDOR, [WaitRequest::new("t-1"), WaitRequest::new("t-1")])
        .await
        .unwrap();
    assert_eq!(first, [Enqueued::New]);
    assert_eq!(again, [Enqueued::Joined, Enqueued::Joined]);
    // The first enqueue's deadline stays.
    let WaitState::Waiting(w) = fleet.wait_state(VENDOR, "t-1").await.unwrap() else {
        panic!("not waiting")
    };
    assert_eq!(w.deadline_unix_ms, Some(w.enqueued_unix_ms + 20_000));
    assert_eq!(fleet.counts(VENDOR).await.unwrap().0, 1);

    let source = ScriptedSource::new();
    source.script("t-1", [Step::running(), Step::succeed("done")]);
    let worker = run(&fleet, poller(source), quick());
    // Two processes await the same task: both get the one outcome.
    let (a, b) = tokio::join!(
        fleet.await_outcome(VENDOR, "t-1"),
        other_process.await_outcome(VENDOR, "t-1")
    );
    assert_eq!(a.unwrap(), b.unwrap());
    // Enqueued again after it finished: it is finished, not waited on again.
    assert_eq!(
        fleet
            .enqueue(VENDOR, [WaitRequest::new("t-1")])
            .await
            .unwrap(),
        [Enqueued::Finished]
    );
    let report = worker.stop().await;
    assert_eq!(report.claimed, 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(published.lock().unwrap().get("t-1"), Some(&1));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outcome_is_awaited_after_it_finished() {
    let server = redis();
    let fleet = Fleet::open(&server.url())
        .unwrap()
        .outcome_ttl(Duration::from_secs(2));
    let source = ScriptedSource::new();
    source.script("early", [Step::succeed("long done")]);
    fleet
        .enqueue(VENDOR, [WaitRequest::new("early")])
        .await
        .unwrap();
    let worker = run(&fleet, poller(source), quick());
    // Wait for it to finish, unobserved.
    for _ in 0..100 {
        if fleet.outcome(VENDOR, "early").await.unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.stop().await;
    // A process that starts awaiting now gets it at once.
    let late = Fleet::open(&server.url()).unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(2), late.await_outcome(VENDOR, "early"))
        .await
        .expect("a finished outcome is read, not awaited")
        .unwrap();
    assert_eq!(outcome.result, Some(json!("long done")));
    // Kept for the TTL only.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        late.wait_state(VENDOR, "early").await.unwrap(),
        WaitState::Unknown
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_workers_waits_resume_elsewhere_with_their_deadlines() {
    let server = redis();
    let fleet = Fleet::open(&server.url()).unwrap();
    let published = count_published(&server.url()).await;
    let ids = ["slow-1", "slow-2", "slow-3"];
    let script = |s: &ScriptedSource| {
        for id in ids {
            s.script(id, [Step::running().times(10_000)]);
        }
    };
    fleet
        .enqueue(
            VENDOR,
            ids.map(|id| WaitRequest::new(id).timeout(Duration::from_millis(3000))),
        )
        .await
        .unwrap();
    let a_source = ScriptedSource::new();
    script(&a_source);
    let a = run(&fleet, poller(a_source), quick());
    // A polls for a while and writes its progress down, then dies.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let WaitState::Waiting(before) = fleet.wait_state(VENDOR, "slow-1").await.unwrap() else {
        panic!("not waiting")
    };
    assert!(before.owner.is_some());
    assert!(before.polls >= 3, "{before:?}");
    a.kill();
    let killed = tokio::time::Instant::now();

    let b_source = ScriptedSource::new();
    script(&b_source);
    let b_poller = poller(b_source);
    let b = run(&fleet, b_poller.clone(), quick());
    // B takes them over within the lease and a poll interval.
    let mut resumed_after = None;
    while killed.elapsed() < Duration::from_secs(3) {
        if b_poller.source().total_polls() > 0 {
            resumed_after = Some(killed.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let resumed_after = resumed_after.expect("B never polled the dead worker's waits");
    assert!(
        resumed_after <= Duration::from_millis(900 + 100 + 1000),
        "{resumed_after:?}"
    );
    let outcomes = collect(&fleet, &ids, Duration::from_secs(6)).await;
    for id in ids {
        let o = &outcomes[id];
        assert_eq!(o.outcome, OutcomeKind::TimedOut, "{o:?}");
        // The original deadline: 3 s from the enqueue, not from the takeover.
        assert!((3000..4000).contains(&o.elapsed_ms), "{o:?}");
        // The polls carry over from the dead worker.
        assert!(o.polls > before.polls, "{o:?}");
    }
    let report = b.stop().await;
    assert_eq!(report.resumed, 3);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(published.lock().unwrap().values().all(|n| *n == 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_worker_hands_its_waits_back_at_once() {
    let server = redis();
    let fleet = Fleet::open(&server.url()).unwrap();
    let long_lease = WorkerSettings::default()
        .lease(Duration::from_secs(60))
        .tick(Duration::from_millis(50));
    let a_source = ScriptedSource::new();
    a_source.script("handed", [Step::running().times(10_000)]);
    fleet
        .enqueue(VENDOR, [WaitRequest::new("handed")])
        .await
        .unwrap();
    let a = run(&fleet, poller(a_source), long_lease);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let report = a.stop().await;
    assert_eq!(report.handed_back, 1);
    let WaitState::Waiting(w) = fleet.wait_state(VENDOR, "handed").await.unwrap() else {
        panic!("not waiting")
    };
    assert_eq!(w.owner, None);
    assert!(w.polls >= 2, "{w:?}");
    // Another worker picks it up at once, not after A's 60 s lease.
    let b_source = ScriptedSource::new();
    b_source.script("handed", [Step::succeed("finally")]);
    let b = run(&fleet, poller(b_source), long_lease);
    let outcome = tokio::time::timeout(
        Duration::from_secs(2),
        fleet.await_outcome(VENDOR, "handed"),
    )
    .await
    .expect("the handed-back wait was not taken over at once")
    .unwrap();
    assert_eq!(outcome.polls, w.polls + 1);
    b.stop().await;
}

/// A source whose polls can block the worker's whole thread, as a stalled process would.
struct Stalling {
    stall: Arc<AtomicBool>,
    polls: Arc<AtomicU32>,
}

#[derive(Debug, thiserror::Error)]
#[error("never")]
struct Never;

#[async_trait]
impl TaskSource for Stalling {
    type Id = String;
    type Status = u32;
    type Output = String;
    type Partial = ();
    type Failure = String;
    type Error = Never;

    async fn fetch(&self, _id: &String) -> Result<u32, Never> {
        if self.stall.swap(false, Ordering::SeqCst) {
            // The whole runtime stops: no lease renewal either.
            std::thread::sleep(Duration::from_millis(2500));
        }
        Ok(self.polls.fetch_add(1, Ordering::SeqCst))
    }

    fn classify(&self, polls: u32) -> Phase<String, (), String> {
        if polls >= 3 {
            Phase::Succeeded(format!("done after {polls}"))
        } else {
            Phase::running("working")
        }
    }

    fn error_class(&self, _: &Never) -> ErrorClass {
        ErrorClass::Permanent
    }
}

#[test]
fn a_stalled_worker_loses_its_lease_and_its_late_outcome_is_not_published_twice() {
    let server = redis();
    let url = server.url();
    let stall = Arc::new(AtomicBool::new(false));
    // A: its own single-threaded runtime, which the stall blocks whole.
    let a_stall = Arc::clone(&stall);
    let a_url = url.clone();
    let a = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let fleet = Fleet::open(&a_url).unwrap();
            fleet
                .enqueue(VENDOR, [WaitRequest::new("stalled")])
                .await
                .unwrap();
            let source = Stalling {
                stall: a_stall,
                polls: Arc::default(),
            };
            let poller = Poller::new(source)
                .configure(|p| p.interval(Fixed::new(Duration::from_millis(300))));
            let worker = Worker::new(&fleet, VENDOR, poller, Codec)
                .unwrap()
                .settings(quick());
            worker
                .run(tokio::time::sleep(Duration::from_millis(4500)))
                .await
                .unwrap()
        })
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let fleet = Fleet::open(&url).unwrap();
        let published = count_published(&url).await;
        // Let A claim and poll once, then stall it for longer than its lease.
        tokio::time::sleep(Duration::from_millis(400)).await;
        stall.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let source = Stalling {
            stall: Arc::default(),
            polls: Arc::new(AtomicU32::new(2)),
        };
        let poller =
            Poller::new(source).configure(|p| p.interval(Fixed::new(Duration::from_millis(100))));
        let b = run(&fleet, poller, quick());
        let outcome = fleet.await_outcome(VENDOR, "stalled").await.unwrap();
        assert!(!outcome.worker.is_empty(), "{outcome:?}");
        let report_a = tokio::task::spawn_blocking(move || a.join().unwrap())
            .await
            .unwrap();
        let report_b = b.stop().await;
        // B ended it; A's late end (if A's last poll came before its next tick) was not
        // published again, and A noticed its lease had gone.
        assert_eq!(report_b.published, 1, "{report_b:?}");
        assert_eq!(report_b.reaped, 1, "{report_b:?}");
        assert_eq!(report_a.published, 0, "{report_a:?}");
        assert_eq!(report_a.leases_lost, 1, "{report_a:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(published.lock().unwrap().get("stalled"), Some(&1));
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn waits_and_outcomes_survive_a_redis_outage_with_persistence() {
    let mut server = RedisServer::start_persistent().unwrap_or_else(|e| panic!("{e}"));
    let fleet = Fleet::open(&server.url()).unwrap();
    let ids: Vec<String> = (0..20).map(|i| format!("p-{i}")).collect();
    let source = ScriptedSource::new();
    for id in &ids {
        source.script(
            id.clone(),
            [Step::running().times(12), Step::succeed(format!("{id} ok"))],
        );
    }
    fleet
        .enqueue(VENDOR, ids.iter().map(WaitRequest::new))
        .await
        .unwrap();
    let worker = run(&fleet, poller(source), quick());
    let mut stream = fleet.outcomes(VENDOR, ids.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Down for longer than the lease: tasks end meanwhile (their outcomes wait in the
    // worker), and the worker's own lease has expired when Redis comes back.
    server.kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.restart().unwrap();
    let mut got = HashMap::new();
    let mut errors = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while got.len() < ids.len() {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(o))) => {
                assert!(
                    got.insert(o.task_id.clone(), o).is_none(),
                    "an outcome twice"
                );
            }
            Ok(Some(Err(e))) => {
                assert!(e.is_transient(), "{e}");
                errors += 1;
            }
            Ok(None) => break,
            Err(_) => panic!("{} of {} outcomes after the restart", got.len(), ids.len()),
        }
    }
    assert_eq!(got.len(), ids.len());
    assert!(got.values().all(|o| o.outcome == OutcomeKind::Completed));
    assert!(errors >= 1, "the awaiter never said Redis was gone");
    let report = worker.stop().await;
    assert_eq!(report.published + report.duplicates, 20, "{report:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn waits_an_awaiter_enqueued_come_back_after_redis_lost_everything() {
    let mut server = redis();
    let fleet = Fleet::open(&server.url()).unwrap();
    let ids: Vec<String> = (0..5).map(|i| format!("v-{i}")).collect();
    let source = ScriptedSource::new();
    for id in &ids {
        source.script(id.clone(), [Step::running().times(15), Step::succeed("ok")]);
    }
    let worker = run(&fleet, poller(source), quick());
    let mut stream = fleet.wait_all(VENDOR, ids.iter().map(WaitRequest::new));
    tokio::time::sleep(Duration::from_millis(600)).await;
    // No persistence: everything in Redis is gone.
    server.restart().unwrap();
    let mut got = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while got < ids.len() {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(_))) => got += 1,
            Ok(Some(Err(_))) => {}
            Ok(None) => break,
            Err(_) => panic!("{got} of {} outcomes after Redis lost its data", ids.len()),
        }
    }
    assert_eq!(got, ids.len());
    let report = worker.stop().await;
    assert!(report.leases_lost >= 1, "{report:?}");
}
