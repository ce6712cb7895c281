//! A raw HTTP/1.1 server on loopback, for answers no simulator sends: bodies without
//! end, `Content-Length`s announcing more than will ever come.

use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::oneshot;

/// What the raw server sends after the response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// Nothing: the connection stays open until the client closes it.
    Nothing,
    /// Chunks of JSON whitespace, without end (until the client hangs up, or 1 GiB).
    Endless,
    /// These bytes.
    Exact(Vec<u8>),
}

/// A one-connection HTTP/1.1 server on loopback: it answers the first request it gets
/// with a head and a [`Body`], then holds the connection until the client closes it.
#[derive(Debug)]
pub struct RawServer {
    base: String,
    written: Arc<AtomicU64>,
    request: Arc<Mutex<Vec<u8>>>,
    done: oneshot::Receiver<()>,
}

impl RawServer {
    /// Starts the server on a free loopback port, on a thread of its own.
    pub fn start(head: String, body: Body) -> io::Result<RawServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let base = format!("http://{}", listener.local_addr()?);
        let written = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&written);
        let request = Arc::new(Mutex::new(Vec::new()));
        let received = Arc::clone(&request);
        let (done_tx, done) = oneshot::channel();
        std::thread::spawn(move || {
            serve(&listener, &head, body, &counter, &received);
            let _ = done_tx.send(());
        });
        Ok(RawServer {
            base,
            written,
            request,
            done,
        })
    }

    /// The server's base URL (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The request head the server received (request line and headers), as text; empty
    /// before a request came.
    pub fn request_head(&self) -> String {
        let bytes = self.request.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Body bytes written so far.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }

    /// Waits until the server is done with its connection (the client hung up, or the
    /// body was written and the client closed); returns the body bytes it wrote.
    pub async fn finished(self) -> u64 {
        let _ = self.done.await;
        self.written.load(Ordering::SeqCst)
    }
}

fn serve(
    listener: &TcpListener,
    head: &str,
    body: Body,
    written: &AtomicU64,
    received: &Mutex<Vec<u8>>,
) {
    let Ok((mut conn, _)) = listener.accept() else {
        return;
    };
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
        *received.lock().unwrap_or_else(PoisonError::into_inner) = request[..end].to_vec();
    }
    if conn.write_all(head.as_bytes()).is_err() {
        return;
    }
    match body {
        Body::Nothing => {}
        Body::Endless => {
            let chunk = format!("2000\r\n{}\r\n", " ".repeat(0x2000));
            // Stops when the client hangs up (or at 1 GiB, far past any cap).
            while written.load(Ordering::SeqCst) < 1 << 30 {
                if conn.write_all(chunk.as_bytes()).is_err() {
                    return;
                }
                written.fetch_add(0x2000, Ordering::SeqCst);
            }
        }
        Body::Exact(bytes) => {
            if conn.write_all(&bytes).is_ok() {
                written.fetch_add(bytes.len() as u64, Ordering::SeqCst);
            }
        }
    }
    // Hold the connection until the client closes it.
    let _ = conn.read(&mut buf);
}

/// A `200 OK` JSON response head: with `Content-Length: n`, or chunked when `None`.
pub fn head(length: Option<u64>) -> String {
    let framing = match length {
        Some(n) => format!("content-length: {n}"),
        None => "transfer-encoding: chunked".to_owned(),
    };
    format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{framing}\r\n\r\n")
}
