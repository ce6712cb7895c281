//! [`RedisBudget`]: one vendor credential's request budget, shared by every process
//! through Redis.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use taskpoll::{Admission, RecentLatency, RequestBudget};
use tokio::time::Instant;

use crate::error::FleetError;
use crate::keys::{budget_keys, check_vendor, credential_hash};
use crate::scripts::{ACQUIRE, PAUSE};
use crate::store::Fleet;

/// The first delay a budget answers while Redis is unreachable; it doubles up to
/// [`DOWN_MAX`].
const DOWN_FIRST: Duration = Duration::from_millis(100);
const DOWN_MAX: Duration = Duration::from_secs(2);

#[derive(Debug, Default)]
struct Local {
    /// No request before this (the window is full until then, or a pause runs): known
    /// without asking Redis.
    not_before: Option<Instant>,
    /// The longest a request took lately.
    latency: RecentLatency,
    /// Since when Redis has been unreachable, and the next delay to answer.
    down: Option<(Instant, Duration)>,
}

/// A [`RequestBudget`] kept in Redis: at most N requests in any window, and a shared
/// pause after a 429, for every process drawing on one vendor credential.
///
/// Each [`acquire`](RequestBudget::acquire) runs one Lua script: on the Redis server's
/// clock (`TIME`, so hosts' clocks do not matter) it drops grants older than the window
/// from a sorted set, and grants if fewer than N remain, or answers how long until the
/// oldest leaves. The script is atomic, so N processes with the same limit together
/// never exceed it. Like the in-process budget it is paced: after a burst of a tenth of
/// N, grants are window/N apart, so the budget is spent across its window. [`pause`](RequestBudget::pause) writes a pause-until key every
/// process reads before granting. The keys are named after the vendor and a SHA-256
/// fingerprint of the credential, never the credential itself.
///
/// Like the in-process budget, the window is widened by the longest a request took
/// lately (at most a tenth of the window): the vendor receives each request somewhere
/// between its grant and its answer.
///
/// When Redis cannot be reached (or does not answer in time), `acquire` answers
/// [`Admission::RetryIn`] with a short delay (100 ms, doubling to 2 s) and logs a
/// warning once per outage: it never grants blindly.
///
/// Every process should give the same limit for one credential: each enforces the limit
/// it was given over the shared window.
pub struct RedisBudget {
    fleet: Fleet,
    vendor: String,
    hash: String,
    window_key: String,
    pause_key: String,
    pace_key: String,
    limit: Option<(u32, Duration)>,
    /// Grants are named `{instance}:{seq}`: unique across processes.
    instance: String,
    seq: AtomicU64,
    local: Mutex<Local>,
}

impl fmt::Debug for RedisBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBudget")
            .field("server", &self.fleet.server())
            .field("vendor", &self.vendor)
            .field("credential_hash", &self.hash)
            .field("limit", &self.limit)
            .finish()
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl RedisBudget {
    /// The budget of `vendor`'s `credential` (an API key: only its hash is used) on
    /// `fleet`'s Redis: at most `requests` in any `window`.
    pub fn per_window(
        fleet: &Fleet,
        vendor: &str,
        credential: &str,
        requests: u32,
        window: Duration,
    ) -> Result<Self, FleetError> {
        Self::new(
            fleet,
            vendor,
            credential,
            Some((requests.max(1), window.max(Duration::from_millis(1)))),
        )
    }

    /// The budget of `vendor`'s `credential` with no rate limit: only the shared pause
    /// after a 429 applies.
    pub fn unlimited(fleet: &Fleet, vendor: &str, credential: &str) -> Result<Self, FleetError> {
        Self::new(fleet, vendor, credential, None)
    }

    fn new(
        fleet: &Fleet,
        vendor: &str,
        credential: &str,
        limit: Option<(u32, Duration)>,
    ) -> Result<Self, FleetError> {
        check_vendor(vendor)?;
        if credential.is_empty() {
            return Err(FleetError::Invalid(
                "an empty credential: the budget is per credential".into(),
            ));
        }
        let hash = credential_hash(vendor, credential);
        let [window_key, pause_key, pace_key] = budget_keys(fleet.namespace_name(), vendor, &hash);
        Ok(RedisBudget {
            fleet: fleet.clone(),
            vendor: vendor.to_owned(),
            hash,
            window_key,
            pause_key,
            pace_key,
            limit,
            instance: uuid::Uuid::new_v4().simple().to_string(),
            seq: AtomicU64::new(0),
            local: Mutex::default(),
        })
    }

    /// The limit: requests per window, if any.
    pub fn limit(&self) -> Option<(u32, Duration)> {
        self.limit
    }

    /// The credential's fingerprint, as it appears in the keys.
    pub fn credential_hash(&self) -> &str {
        &self.hash
    }

    fn local(&self) -> MutexGuard<'_, Local> {
        self.local.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One answer from Redis: granted, or the delay it asks for.
    async fn ask(&self) -> Result<Admission, FleetError> {
        let (n, window) = match self.limit {
            Some((n, window)) => {
                let latency = self.local().latency.current(Instant::now(), window);
                (n, window + latency.min(window / 10))
            }
            None => (0, Duration::ZERO),
        };
        let member = format!(
            "{}:{}",
            self.instance,
            self.seq.fetch_add(1, Ordering::Relaxed)
        );
        let (granted, wait): (i64, i64) = self
            .fleet
            .script(
                "asking the shared request budget",
                ACQUIRE
                    .key(&self.window_key)
                    .key(&self.pause_key)
                    .key(&self.pace_key)
                    .arg(n)
                    .arg(ms(window))
                    .arg(member),
            )
            .await?;
        Ok(if granted == 1 {
            Admission::Granted
        } else {
            Admission::RetryIn(Duration::from_millis(u64::try_from(wait).unwrap_or(1)))
        })
    }
}

#[async_trait]
impl RequestBudget for RedisBudget {
    async fn acquire(&self) -> Admission {
        let now = Instant::now();
        if let Some(at) = self.local().not_before
            && at > now
        {
            return Admission::RetryIn(at - now);
        }
        match self.ask().await {
            Ok(answer) => {
                let mut local = self.local();
                if let Some((since, _)) = local.down.take() {
                    tracing::warn!(
                        vendor = %self.vendor,
                        server = %self.fleet.server(),
                        "the shared request budget's Redis answers again after {:?}: requests resume",
                        since.elapsed()
                    );
                }
                if let Admission::RetryIn(d) = answer {
                    local.not_before = Some(now + d);
                }
                answer
            }
            Err(e) => {
                let mut local = self.local();
                let delay = match local.down {
                    None => {
                        tracing::warn!(
                            vendor = %self.vendor,
                            "{e}; requests are held (never sent without the shared budget) until it answers"
                        );
                        DOWN_FIRST
                    }
                    Some((_, last)) => {
                        tracing::debug!(vendor = %self.vendor, "shared budget still unreachable: {e}");
                        (last * 2).min(DOWN_MAX)
                    }
                };
                let since = local.down.map_or(now, |(s, _)| s);
                local.down = Some((since, delay));
                Admission::RetryIn(delay)
            }
        }
    }

    fn release(&self, took: Duration) {
        let window = self.limit.map_or(Duration::ZERO, |(_, w)| w);
        self.local().latency.record(took, Instant::now(), window);
    }

    fn pause(&self, duration: Duration) {
        let until = Instant::now() + duration;
        {
            let mut local = self.local();
            if local.not_before.is_none_or(|p| p < until) {
                local.not_before = Some(until);
            }
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(vendor = %self.vendor, "no runtime to write the shared pause: this process pauses alone");
            return;
        };
        let fleet = self.fleet.clone();
        let key = self.pause_key.clone();
        let vendor = self.vendor.clone();
        runtime.spawn(async move {
            let written: Result<i64, FleetError> = fleet
                .script(
                    "writing the shared pause after a 429",
                    PAUSE.key(&key).arg(ms(duration).max(1)),
                )
                .await;
            if let Err(e) = written {
                tracing::warn!(%vendor, "{e}; the other processes are not paused");
            }
        });
    }
}

/// The budget as the trait object schedulers and clients take.
impl From<RedisBudget> for Arc<dyn RequestBudget> {
    fn from(budget: RedisBudget) -> Self {
        Arc::new(budget)
    }
}
