//! The client requests go through: the one built here, or the user's own, with the
//! request timeout and user agent applied to every request. Checked against a loopback
//! server that records each request's head.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use taskpoll_http::{ConfigError, HttpSettings, TransportKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A server answering `200 {}` to every request (or never, when `answer` is false),
/// keeping each request's head in lower case.
async fn server(answer: bool) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&heads);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf).to_lowercase());
                if answer {
                    let reply =
                        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
                    let _ = socket.write_all(reply.as_bytes()).await;
                } else {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
            });
        }
    });
    (url, heads)
}

fn settings(url: &str) -> HttpSettings {
    HttpSettings::new(url, Duration::from_secs(5))
}

async fn send(settings: &HttpSettings) -> Result<(), taskpoll_http::Transport> {
    let c = settings.connect("taskpoll-test/1.0").unwrap();
    c.client
        .get(c.base.join("v1/tasks/t-1"))
        .send()
        .await
        .map(drop)
        .map_err(Into::into)
}

#[tokio::test]
async fn the_adapters_user_agent_by_default_or_the_one_set() {
    let (url, heads) = server(true).await;
    send(&settings(&url)).await.unwrap();
    let mut custom = settings(&url);
    custom.user_agent = Some("billing-exports/2.1".into());
    send(&custom).await.unwrap();
    let heads = heads.lock().unwrap().clone();
    assert!(
        heads[0].contains("user-agent: taskpoll-test/1.0\r\n"),
        "{}",
        heads[0]
    );
    assert!(
        heads[1].contains("user-agent: billing-exports/2.1\r\n"),
        "{}",
        heads[1]
    );
}

#[tokio::test]
async fn a_users_client_is_the_one_used() {
    let (url, heads) = server(true).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-corp-tenant", "emea".parse().unwrap());
    let own = reqwest::Client::builder()
        .default_headers(headers)
        .user_agent("corp-gateway/7")
        .build()
        .unwrap();
    let mut with_own = settings(&url);
    with_own.http_client = Some(own.clone());
    send(&with_own).await.unwrap();
    // A user agent set on the builder wins over the client's own.
    with_own.user_agent = Some("billing-exports/2.1".into());
    send(&with_own).await.unwrap();
    let heads = heads.lock().unwrap().clone();
    assert!(heads[0].contains("x-corp-tenant: emea\r\n"), "{}", heads[0]);
    assert!(
        heads[0].contains("user-agent: corp-gateway/7\r\n"),
        "{}",
        heads[0]
    );
    assert!(heads[1].contains("x-corp-tenant: emea\r\n"), "{}", heads[1]);
    assert!(
        heads[1].contains("user-agent: billing-exports/2.1\r\n"),
        "{}",
        heads[1]
    );
    assert!(!heads[1].contains("corp-gateway"), "{}", heads[1]);
}

#[tokio::test]
async fn the_request_timeout_applies_to_a_users_client() {
    let (url, _heads) = server(false).await;
    // The user's client has no timeout of its own.
    let mut s = settings(&url);
    s.http_client = Some(reqwest::Client::new());
    s.request_timeout = Duration::from_millis(200);
    let started = std::time::Instant::now();
    let err = send(&s).await.unwrap_err();
    assert_eq!(err.kind, TransportKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn the_built_client_still_checks_its_settings() {
    let mut s = settings("https://api.example.com");
    s.request_timeout = Duration::ZERO;
    s.http_client = Some(reqwest::Client::new());
    assert!(matches!(
        s.connect("taskpoll-test/1.0"),
        Err(ConfigError::InvalidSetting {
            setting: "request_timeout",
            ..
        })
    ));
}
