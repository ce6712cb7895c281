//! A tracing subscriber that records every span and event, at every level, as a line of
//! text: for checking that no log line carries a credential.

use std::fmt::{Debug, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// The lines a [`capture`] has recorded.
#[derive(Debug, Clone)]
pub struct Captured(Arc<Mutex<Vec<String>>>);

impl Captured {
    /// Every line recorded so far, oldest first.
    pub fn lines(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Another global subscriber was installed first: this process's logs cannot be
/// captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureError;

impl std::fmt::Display for CaptureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("another global tracing subscriber is installed: logs cannot be captured")
    }
}

impl std::error::Error for CaptureError {}

static CAPTURED: OnceLock<Result<Captured, CaptureError>> = OnceLock::new();

/// Installs, the first time it is called in a process, a subscriber that records every
/// span and event at every level as the process's global default; every call returns
/// the same lines, so tests of one binary can share it (a process has one global
/// subscriber).
pub fn capture() -> Result<Captured, CaptureError> {
    CAPTURED
        .get_or_init(|| {
            let lines = Arc::new(Mutex::new(Vec::new()));
            let subscriber = Capture {
                lines: Arc::clone(&lines),
                next_id: AtomicU64::new(1),
            };
            tracing::subscriber::set_global_default(subscriber)
                .map(|()| Captured(lines))
                .map_err(|_| CaptureError)
        })
        .clone()
}

/// Writes every field of every span and event as text.
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
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line);
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
