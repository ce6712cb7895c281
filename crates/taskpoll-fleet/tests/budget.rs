//! The shared budget against a real `redis-server` (started by the tests on a free
//! loopback port; install redis-server to run them).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use taskpoll::{Admission, RequestBudget};
use taskpoll_fleet::testing::RedisServer;
use taskpoll_fleet::{Fleet, RedisBudget};

fn redis() -> RedisServer {
    RedisServer::start().unwrap_or_else(|e| panic!("{e}"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Grants of `threads` processes-alike (each its own runtime, connection and budget
/// object) drawing on one credential for `run`.
fn grants(url: &str, threads: usize, n: u32, window: Duration, run: Duration) -> Vec<Instant> {
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let url = url.to_owned();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                runtime().block_on(async move {
                    let fleet = Fleet::open(&url).unwrap().namespace("budget-test");
                    let budget =
                        RedisBudget::per_window(&fleet, "redis-cloud", "account-key-1", n, window)
                            .unwrap();
                    fleet.ping().await.unwrap();
                    barrier.wait();
                    let start = Instant::now();
                    let mut granted = Vec::new();
                    while start.elapsed() < run {
                        match budget.acquire().await {
                            Admission::Granted => {
                                granted.push(Instant::now());
                                budget.release(Duration::ZERO);
                            }
                            Admission::RetryIn(d) => tokio::time::sleep(d).await,
                            _ => unreachable!(),
                        }
                    }
                    granted
                })
            })
        })
        .collect();
    let mut all: Vec<Instant> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort();
    all
}

#[test]
fn processes_sharing_a_budget_never_exceed_its_limit() {
    let server = redis();
    let (n, window) = (25u32, Duration::from_millis(1000));
    let all = grants(&server.url(), 4, n, window, Duration::from_millis(3200));
    // Grants are timed on arrival of the answer, after Redis counted them (later still
    // on a loaded machine): a window shortened by that much never holds more than n.
    // Four budgets of their own would put about 4n in it.
    let slack = Duration::from_millis(150);
    let worst = all
        .iter()
        .enumerate()
        .map(|(i, t)| {
            all[i..]
                .iter()
                .take_while(|u| **u < *t + window - slack)
                .count()
        })
        .max()
        .unwrap_or(0);
    assert!(
        worst <= n as usize,
        "{worst} grants within one window of {window:?}, limit {n}"
    );
    // And the four together used the budget: about n per window over 3.2 windows
    // (paced: a burst of n/10, then one every window/n).
    assert!(all.len() >= 5 * n as usize / 2, "only {} grants", all.len());
    assert!(all.len() <= 4 * n as usize, "{} grants", all.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pause_holds_every_process() {
    let server = redis();
    let a_fleet = Fleet::open(&server.url()).unwrap();
    let b_fleet = Fleet::open(&server.url()).unwrap();
    let a =
        RedisBudget::per_window(&a_fleet, "stream", "key", 100, Duration::from_secs(1)).unwrap();
    let b =
        RedisBudget::per_window(&b_fleet, "stream", "key", 100, Duration::from_secs(1)).unwrap();
    assert_eq!(b.acquire().await, Admission::Granted);
    a.pause(Duration::from_millis(800));
    // This process knows at once; the other once the pause is written.
    assert!(matches!(a.acquire().await, Admission::RetryIn(_)));
    tokio::time::sleep(Duration::from_millis(150)).await;
    match b.acquire().await {
        Admission::RetryIn(d) => assert!(
            d > Duration::from_millis(400) && d <= Duration::from_millis(800),
            "{d:?}"
        ),
        other => panic!("granted during another process's pause: {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(b.acquire().await, Admission::Granted);
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_are_kept_apart_and_never_stored() {
    let server = redis();
    let fleet = Fleet::open(&server.url()).unwrap();
    let one = RedisBudget::per_window(
        &fleet,
        "runware",
        "secret-key-one",
        1,
        Duration::from_secs(30),
    )
    .unwrap();
    let one_again = RedisBudget::per_window(
        &fleet,
        "runware",
        "secret-key-one",
        1,
        Duration::from_secs(30),
    )
    .unwrap();
    let two = RedisBudget::per_window(
        &fleet,
        "runware",
        "secret-key-two",
        1,
        Duration::from_secs(30),
    )
    .unwrap();
    assert_eq!(one.acquire().await, Admission::Granted);
    assert!(
        matches!(one_again.acquire().await, Admission::RetryIn(d) if d > Duration::from_secs(29))
    );
    assert_eq!(two.acquire().await, Admission::Granted);

    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    // Per credential: its window and its pacing (no pause was asked for).
    assert_eq!(keys.len(), 4, "{keys:?}");
    for k in &keys {
        assert!(!k.contains("secret-key"), "{k}");
        assert!(k.starts_with("taskpoll:budget:runware:"), "{k}");
    }
    assert!(keys.iter().any(|k| k.contains(one.credential_hash())));
    assert!(!format!("{one:?}").contains("secret-key"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_redis_never_grants_and_recovery_resumes() {
    let mut server = redis();
    let fleet = Fleet::open(&server.url()).unwrap();
    let budget =
        RedisBudget::per_window(&fleet, "redis-cloud", "key", 10, Duration::from_secs(1)).unwrap();
    assert_eq!(budget.acquire().await, Admission::Granted);
    server.kill();
    let start = Instant::now();
    for _ in 0..3 {
        match budget.acquire().await {
            Admission::RetryIn(d) => assert!(d <= Duration::from_secs(2), "{d:?}"),
            other => panic!("granted without Redis: {other:?}"),
        }
    }
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
    server.restart().unwrap();
    let start = Instant::now();
    loop {
        match budget.acquire().await {
            Admission::Granted => break,
            Admission::RetryIn(d) => tokio::time::sleep(d).await,
            _ => unreachable!(),
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no grant after Redis came back"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unlimited_budget_only_pauses() {
    let server = redis();
    let fleet = Fleet::open(&server.url()).unwrap();
    let budget = RedisBudget::unlimited(&fleet, "runware", "key").unwrap();
    for _ in 0..200 {
        assert_eq!(budget.acquire().await, Admission::Granted);
    }
    budget.pause(Duration::from_millis(300));
    assert!(matches!(budget.acquire().await, Admission::RetryIn(_)));
}

#[tokio::test(flavor = "multi_thread")]
async fn grants_are_paced_across_the_window() {
    let server = redis();
    let fleet = Fleet::open(&server.url()).unwrap();
    let other = Fleet::open(&server.url()).unwrap();
    // 20 a second: a burst of 2, then one every 50 ms, whoever asks.
    let a = RedisBudget::per_window(&fleet, "stream", "k", 20, Duration::from_secs(1)).unwrap();
    let b = RedisBudget::per_window(&other, "stream", "k", 20, Duration::from_secs(1)).unwrap();
    assert_eq!(a.acquire().await, Admission::Granted);
    assert_eq!(b.acquire().await, Admission::Granted);
    match a.acquire().await {
        Admission::RetryIn(d) => assert!(d <= Duration::from_millis(50), "{d:?}"),
        other => panic!("a third grant at once: {other:?}"),
    }
    let start = Instant::now();
    let mut granted = 0;
    while start.elapsed() < Duration::from_millis(500) {
        for budget in [&a, &b] {
            match budget.acquire().await {
                Admission::Granted => granted += 1,
                Admission::RetryIn(d) => tokio::time::sleep(d.min(Duration::from_millis(5))).await,
                _ => unreachable!(),
            }
        }
    }
    // About one per 50 ms over half a second, not the window's 18 left at once.
    assert!((8..=12).contains(&granted), "{granted} grants in 500 ms");
}
