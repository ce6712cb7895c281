//! Fault injection, deterministic from a seed: by rate, or at exact request numbers.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Fault {
    /// An HTTP error status (500, 502, 503, 504) with the vendor's error body.
    ServerError {
        /// The status code.
        status: u16,
    },
    /// 429 with the vendor's body, and `Retry-After` when set.
    RateLimited {
        /// `Retry-After` in seconds.
        retry_after_secs: Option<u64>,
    },
    /// The connection is cut mid-response.
    Reset,
    /// 200 with a body that is not JSON at all.
    Malformed,
    /// 200 with the real body cut in half.
    Truncated,
    /// An error status with an HTML body (a proxy or gateway page).
    NonJson {
        /// The status code.
        status: u16,
    },
    /// The real response, sent after this delay.
    Slow {
        /// Delay in milliseconds.
        millis: u64,
    },
}

/// Fault probabilities per request (each in 0..=1; their sum should not pass 1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultRates {
    /// 500/502/503/504.
    pub server_error: f64,
    /// Connection reset.
    pub reset: f64,
    /// 429.
    pub rate_limited: f64,
    /// Non-JSON 200 body.
    pub malformed: f64,
    /// Truncated 200 body.
    pub truncated: f64,
    /// HTML error page.
    pub non_json: f64,
    /// Slow response.
    pub slow: f64,
}

/// Which requests faults apply to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultScope {
    /// Task status requests only (the default).
    #[default]
    Status,
    /// Every vendor request (start calls too); never the control API.
    All,
}

/// A fault plan. Request numbers count the requests in scope, from 1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultPlan {
    /// Seed of the per-request draws.
    pub seed: u64,
    /// Probabilities.
    pub rates: FaultRates,
    /// Faults at exact request numbers (they take precedence over rates).
    pub at: BTreeMap<u64, Fault>,
    /// `Retry-After` seconds sent with rate-drawn 429s (`None`: no header).
    pub retry_after_secs: Option<u64>,
    /// Delay of rate-drawn slow responses, in milliseconds.
    pub slow_millis: u64,
    /// Which requests faults apply to.
    pub scope: FaultScope,
}

impl FaultPlan {
    /// A plan with these rates and seed.
    pub fn with_rates(seed: u64, rates: FaultRates) -> Self {
        FaultPlan {
            seed,
            rates,
            retry_after_secs: Some(1),
            slow_millis: 1_000,
            ..FaultPlan::default()
        }
    }

    /// Adds a fault at request number `n` (from 1).
    pub fn at(mut self, n: u64, fault: Fault) -> Self {
        self.at.insert(n, fault);
        self
    }
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit(seed: u64, n: u64, salt: u64) -> f64 {
    (mix(seed ^ mix(n ^ salt)) >> 11) as f64 / (1u64 << 53) as f64
}

/// Draws the fault of each request in scope.
#[derive(Debug, Default)]
pub struct FaultInjector {
    plan: std::sync::RwLock<FaultPlan>,
    counter: AtomicU64,
}

impl FaultInjector {
    /// Replaces the plan and restarts request numbering.
    pub fn set(&self, plan: FaultPlan) {
        *self.plan.write().unwrap_or_else(|e| e.into_inner()) = plan;
        self.counter.store(0, Ordering::SeqCst);
    }

    /// The current plan.
    pub fn plan(&self) -> FaultPlan {
        self.plan.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The fault for the next request of this kind, if any.
    pub fn draw(&self, is_status_request: bool) -> Option<Fault> {
        let plan = self.plan.read().unwrap_or_else(|e| e.into_inner());
        if plan.scope == FaultScope::Status && !is_status_request {
            return None;
        }
        let n = self.counter.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(f) = plan.at.get(&n) {
            return Some(*f);
        }
        let r = plan.rates;
        let x = unit(plan.seed, n, 1);
        let mut edge = 0.0;
        let mut hit = |rate: f64| {
            edge += rate;
            x < edge
        };
        if hit(r.server_error) {
            let codes = [500, 502, 503, 504];
            let i = (unit(plan.seed, n, 2) * codes.len() as f64) as usize;
            return Some(Fault::ServerError {
                status: codes.get(i).copied().unwrap_or(503),
            });
        }
        if hit(r.reset) {
            return Some(Fault::Reset);
        }
        if hit(r.rate_limited) {
            return Some(Fault::RateLimited {
                retry_after_secs: plan.retry_after_secs,
            });
        }
        if hit(r.malformed) {
            return Some(Fault::Malformed);
        }
        if hit(r.truncated) {
            return Some(Fault::Truncated);
        }
        if hit(r.non_json) {
            return Some(Fault::NonJson { status: 502 });
        }
        if hit(r.slow) {
            return Some(Fault::Slow {
                millis: plan.slow_millis,
            });
        }
        None
    }
}

/// A body that sends a prefix and then fails, so the server drops the connection.
struct ResetBody {
    sent: bool,
}

impl futures_core::Stream for ResetBody {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.sent {
            Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "simulated connection reset",
            ))))
        } else {
            self.sent = true;
            Poll::Ready(Some(Ok(Bytes::from_static(b"{\"data\":"))))
        }
    }
}

/// A response whose connection is cut mid-body.
pub fn reset_response() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(ResetBody { sent: false }),
    )
        .into_response()
}

/// A 200 whose body is not JSON.
pub fn malformed_response() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        "<<garbage>> not json {",
    )
        .into_response()
}

/// A 200 carrying the first half of `body`.
pub fn truncated_response(body: &[u8]) -> Response {
    let half = body.get(..body.len() / 2).unwrap_or_default().to_vec();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        half,
    )
        .into_response()
}

/// An error status with an HTML page, as a proxy or gateway sends.
pub fn html_response(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let reason = code.canonical_reason().unwrap_or("Error");
    let page = format!(
        "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    (code, [(header::CONTENT_TYPE, "text/html")], page).into_response()
}

/// A JSON answer, or an empty one for `None`, with its status.
pub(crate) fn json_answer(
    status: StatusCode,
    body: Option<&serde_json::Value>,
) -> (StatusCode, Response) {
    match body {
        Some(v) => {
            let bytes = serde_json::to_vec(v).unwrap_or_default();
            (
                status,
                (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
            )
        }
        None => (status, status.into_response()),
    }
}

/// What a simulator sends for one request under `fault`. `answer` makes the real
/// answer (status and JSON body, `None` for an empty one); `server_error` and
/// `rate_limited` word the vendor's own 5xx and 429 bodies. A slow answer is the real
/// one, late; a truncated one is the real body cut in half.
pub(crate) async fn answer_under(
    fault: Option<Fault>,
    answer: impl FnOnce() -> (StatusCode, Option<serde_json::Value>),
    server_error: impl FnOnce(StatusCode) -> (StatusCode, Response),
    rate_limited: impl FnOnce() -> (StatusCode, Response),
) -> (StatusCode, Response) {
    match fault {
        Some(Fault::Slow { millis }) => {
            tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
            let (status, body) = answer();
            json_answer(status, body.as_ref())
        }
        Some(Fault::ServerError { status }) => {
            server_error(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        }
        Some(Fault::RateLimited { .. }) => rate_limited(),
        Some(Fault::Reset) => (StatusCode::OK, reset_response()),
        Some(Fault::Malformed) => (StatusCode::OK, malformed_response()),
        Some(Fault::NonJson { status }) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
            html_response(status),
        ),
        Some(Fault::Truncated) => {
            let (_, body) = answer();
            let bytes = body
                .map(|v| serde_json::to_vec(&v).unwrap_or_default())
                .unwrap_or_default();
            (StatusCode::OK, truncated_response(&bytes))
        }
        None => {
            let (status, body) = answer();
            json_answer(status, body.as_ref())
        }
    }
}
