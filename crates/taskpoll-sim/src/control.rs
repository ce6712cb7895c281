//! The parts every simulator shares: request accounting, fault injection, and the
//! control API under `/_sim/` (clearly not part of any vendor API).
//!
//! | Route | What it does |
//! |---|---|
//! | `POST /_sim/tasks` | create a scripted task (body: the vendor's task spec); answers its id |
//! | `GET /_sim/counts` | request counts ([`Counts`]) |
//! | `GET /_sim/requests` | the request log ([`RequestRecord`]s) |
//! | `PUT /_sim/faults` | set the fault plan ([`FaultPlan`]) |
//! | `DELETE /_sim/faults` | clear it |
//! | `POST /_sim/reset` | forget tasks, counts, log and faults |

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};

use crate::accounting::{Counts, Ledger, Request, RequestRecord};
use crate::faults::{Fault, FaultInjector, FaultPlan};

/// Accounting and faults of one simulator.
#[derive(Debug, Default)]
pub struct Common {
    ledger: Mutex<Ledger>,
    faults: FaultInjector,
}

impl Common {
    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a request (see [`Ledger::record`]).
    pub fn record(
        &self,
        req: Request<'_>,
        status: u16,
        retry_after: Option<Duration>,
        fault: bool,
    ) {
        self.ledger().record(req, status, retry_after, fault);
    }

    /// The fault for the next vendor request, if any.
    pub fn draw_fault(&self, is_status_request: bool) -> Option<Fault> {
        self.faults.draw(is_status_request)
    }

    /// Sets the fault plan.
    pub fn set_faults(&self, plan: FaultPlan) {
        self.faults.set(plan);
    }

    /// The fault plan.
    pub fn faults(&self) -> FaultPlan {
        self.faults.plan()
    }

    /// Counts so far.
    pub fn counts(&self) -> Counts {
        self.ledger().counts()
    }

    /// The request log.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.ledger().requests()
    }

    /// Clears counts, log and faults.
    pub fn reset(&self) {
        self.ledger().reset();
        self.faults.set(FaultPlan::default());
    }
}

/// A simulator's shared state, as the control API needs it.
pub trait SimState: Send + Sync + 'static {
    /// Accounting and faults.
    fn common(&self) -> &Common;
    /// Forgets every task.
    fn clear_tasks(&self);
}

/// The control routes every simulator shares (`POST /_sim/tasks` is the vendor's).
pub fn control_routes<S: SimState>() -> Router<Arc<S>> {
    Router::new()
        .route("/_sim/counts", get(counts::<S>))
        .route("/_sim/requests", get(requests::<S>))
        .route(
            "/_sim/faults",
            put(set_faults::<S>)
                .delete(clear_faults::<S>)
                .get(get_faults::<S>),
        )
        .route("/_sim/reset", post(reset::<S>))
}

async fn counts<S: SimState>(State(s): State<Arc<S>>) -> Json<Counts> {
    Json(s.common().counts())
}

async fn requests<S: SimState>(State(s): State<Arc<S>>) -> Json<Vec<RequestRecord>> {
    Json(s.common().requests())
}

async fn get_faults<S: SimState>(State(s): State<Arc<S>>) -> Json<FaultPlan> {
    Json(s.common().faults())
}

async fn set_faults<S: SimState>(
    State(s): State<Arc<S>>,
    Json(plan): Json<FaultPlan>,
) -> StatusCode {
    s.common().set_faults(plan);
    StatusCode::NO_CONTENT
}

async fn clear_faults<S: SimState>(State(s): State<Arc<S>>) -> StatusCode {
    s.common().set_faults(FaultPlan::default());
    StatusCode::NO_CONTENT
}

async fn reset<S: SimState>(State(s): State<Arc<S>>) -> StatusCode {
    s.common().reset();
    s.clear_tasks();
    StatusCode::NO_CONTENT
}
