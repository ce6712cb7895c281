//! Test support for adapter crates: a raw HTTP server for answers no simulator sends,
//! and a tracing subscriber that captures every span and event, to check that no log
//! line carries a credential.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fmt::{Debug, Write as _};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// What the raw server sends after the response head.
pub enum Body {
    /// Nothing: the connection stays open until the client closes it.
    Nothing,
    /// Chunks of JSON whitespace, without end.
    Endless,
    /// These bytes.
    Exact(Vec<u8>),
}

/// A one-connection HTTP/1.1 server on loopback (for what a simulator will not send:
/// bodies without end, lying `Content-Length`s): it answers any request with `head`
/// and `body`. Returns its base URL and the body bytes it managed to write.
pub fn raw_server(head: String, body: Body) -> (String, Arc<AtomicU64>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("a bound address"));
    let written = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&written);
    std::thread::spawn(move || {
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
        if conn.write_all(head.as_bytes()).is_err() {
            return;
        }
        match body {
            Body::Nothing => {}
            Body::Endless => {
                let chunk = format!("2000\r\n{}\r\n", " ".repeat(0x2000));
                // Stops when the client hangs up (or at 1 GiB, far past any cap here).
                while counter.load(Ordering::SeqCst) < 1 << 30 {
                    if conn.write_all(chunk.as_bytes()).is_err() {
                        return;
                    }
                    counter.fetch_add(0x2000, Ordering::SeqCst);
                }
            }
            Body::Exact(bytes) => {
                if conn.write_all(&bytes).is_ok() {
                    counter.fetch_add(bytes.len() as u64, Ordering::SeqCst);
                }
            }
        }
        // Hold the connection until the client closes it.
        let _ = conn.read(&mut buf);
    });
    (base, written)
}

/// A `200 OK` JSON response head: with `Content-Length: n`, or chunked when `None`.
pub fn head(length: Option<u64>) -> String {
    let framing = match length {
        Some(n) => format!("content-length: {n}"),
        None => "transfer-encoding: chunked".to_owned(),
    };
    format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{framing}\r\n\r\n")
}

/// Writes every field of every span and event, at every level, as text.
struct Capture {
    lines: Arc<Mutex<Vec<String>>>,
    next_id: AtomicU64,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

impl Capture {
    fn push(&self, target: &str, visit: impl FnOnce(&mut Fields<'_>)) {
        let mut line = format!("{target}: ");
        visit(&mut Fields(&mut line));
        self.lines.lock().unwrap().push(line);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        self.push(attrs.metadata().target(), |f| attrs.record(f));
        Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    fn record(&self, _: &Id, values: &Record<'_>) {
        self.push("record", |f| values.record(f));
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        self.push(event.metadata().target(), |f| event.record(f));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Installs a subscriber that records every span and event, at every level, as a line
/// of text, as the process's global default; returns the lines. Call it once per test
/// binary (a process has one global subscriber).
pub fn capture_logs() -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    tracing::subscriber::set_global_default(Capture {
        lines: Arc::clone(&lines),
        next_id: AtomicU64::new(1),
    })
    .expect("no other global subscriber in this test binary");
    lines
}
