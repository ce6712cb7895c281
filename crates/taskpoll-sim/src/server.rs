//! Serving a router on a loopback port, with shutdown on drop.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::accounting::{Counts, RequestRecord};
use crate::control::SimState;
use crate::faults::FaultPlan;

/// A running HTTP server. Dropping it shuts the server down.
#[derive(Debug)]
pub struct SimServer {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SimServer {
    /// Binds `addr` (port 0 for a free port) and serves `router` on the current runtime.
    pub async fn bind(addr: SocketAddr, router: Router) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "simulator server stopped with an error");
            }
        });
        Ok(SimServer {
            addr,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// `127.0.0.1:0`: loopback, any free port.
pub fn any_loopback_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// A running simulator of one vendor: its server and its state. Each vendor's handle
/// (`StreamSim`, `RedisCloudSim`, `RunwareSim`) is this type with the vendor's own
/// methods (start, credentials, tasks) added.
#[derive(Debug)]
pub struct Sim<S: SimState> {
    server: SimServer,
    state: Arc<S>,
}

impl<S: SimState> Sim<S> {
    /// Serves `state` on `addr` with the routes `router` builds.
    pub(crate) async fn serve(
        addr: SocketAddr,
        state: S,
        router: impl FnOnce(Arc<S>) -> Router,
    ) -> std::io::Result<Self> {
        let state = Arc::new(state);
        let server = SimServer::bind(addr, router(Arc::clone(&state))).await?;
        Ok(Sim { server, state })
    }

    pub(crate) fn state(&self) -> &S {
        &self.state
    }

    pub(crate) fn server(&self) -> &SimServer {
        &self.server
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Sets the fault plan.
    pub fn set_faults(&self, plan: FaultPlan) {
        self.state.common().set_faults(plan);
    }

    /// Request counts.
    pub fn counts(&self) -> Counts {
        self.state.common().counts()
    }

    /// The request log.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.state.common().requests()
    }

    /// Forgets tasks, counts, log and faults.
    pub fn reset(&self) {
        self.state.common().reset();
        self.state.clear_tasks();
    }

    /// Stops the server.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}
