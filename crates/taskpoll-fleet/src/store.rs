//! [`Fleet`]: the connection to the fleet's Redis, its namespace and settings.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, ScriptInvocation};

use crate::error::FleetError;
use crate::keys::Keys;

/// How long one Redis call may take before it is reported as a timeout.
const OP_TIMEOUT: Duration = Duration::from_secs(5);
/// Outcomes are kept this long by default.
const OUTCOME_TTL: Duration = Duration::from_secs(24 * 3600);

/// The fleet's Redis: where waits, outcomes and shared budgets live.
///
/// Cheap to clone (clones share one multiplexed connection, which reconnects by itself
/// after Redis restarts). Opening connects lazily: a fleet can be made while Redis is
/// down, and every call reports a down Redis as a [`FleetError`] that
/// [`is_transient`](FleetError::is_transient). Needs a tokio runtime.
///
/// Every key lives under a namespace (`taskpoll` unless changed), so several fleets (or
/// tests) can share one Redis. Standalone Redis only (or a primary with replicas): the
/// scripts compute their keys, which Redis Cluster does not allow.
///
/// ```no_run
/// # async fn example() -> Result<(), taskpoll_fleet::FleetError> {
/// use taskpoll_fleet::{Fleet, WaitRequest};
///
/// let fleet = Fleet::open("redis://127.0.0.1:6379")?.namespace("billing");
/// fleet.enqueue("runware", [WaitRequest::new("6f1c2a3e-0b7d-4e0a-9a51-2f3c4d5e6f70")]).await?;
/// let outcome = fleet.await_outcome("runware", "6f1c2a3e-0b7d-4e0a-9a51-2f3c4d5e6f70").await?;
/// println!("{}", outcome.outcome);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Fleet {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    client: redis::Client,
    conn: ConnectionManager,
    /// The URL without a password: what messages and logs show.
    server: String,
    pub(crate) namespace: String,
    pub(crate) outcome_ttl: Duration,
}

impl fmt::Debug for Fleet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fleet")
            .field("server", &self.inner.server)
            .field("namespace", &self.inner.namespace)
            .field("outcome_ttl", &self.inner.outcome_ttl)
            .finish()
    }
}

/// `redis://user:secret@host:6379/0` shown as `redis://***@host:6379/0`.
pub(crate) fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            match authority.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://***@{host}{path}"),
                None => format!("{scheme}://{authority}{path}"),
            }
        }
        None => "(unparsed URL)".to_owned(),
    }
}

impl Fleet {
    /// A fleet on the Redis at `url` (`redis://[:PASSWORD@]HOST[:PORT][/DB]`), in the
    /// namespace `taskpoll`, keeping outcomes 24 hours. Connects lazily.
    pub fn open(url: &str) -> Result<Fleet, FleetError> {
        let server = redact(url);
        let client = redis::Client::open(url).map_err(|e| FleetError::InvalidUrl {
            reason: format!("{server}: {}", e.detail().unwrap_or("not a Redis URL")),
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(None)
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let conn =
            ConnectionManager::new_lazy_with_config(client.clone(), config).map_err(|e| {
                FleetError::InvalidUrl {
                    reason: format!("{server}: {e}"),
                }
            })?;
        Ok(Fleet {
            inner: Arc::new(Inner {
                client,
                conn,
                server,
                namespace: "taskpoll".to_owned(),
                outcome_ttl: OUTCOME_TTL,
            }),
        })
    }

    fn with(&self, f: impl FnOnce(&mut Inner)) -> Fleet {
        let mut inner = Inner {
            client: self.inner.client.clone(),
            conn: self.inner.conn.clone(),
            server: self.inner.server.clone(),
            namespace: self.inner.namespace.clone(),
            outcome_ttl: self.inner.outcome_ttl,
        };
        f(&mut inner);
        Fleet {
            inner: Arc::new(inner),
        }
    }

    /// Puts every key under `namespace` instead of `taskpoll` (letters, digits, `-`,
    /// `_` and `.`; anything else is replaced by `_`).
    pub fn namespace(&self, namespace: &str) -> Fleet {
        let clean: String = namespace
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let clean = if clean.is_empty() {
            "taskpoll".to_owned()
        } else {
            clean
        };
        self.with(|i| i.namespace = clean)
    }

    /// Keeps each outcome this long after it is published (default 24 hours; at least
    /// a second), then lets Redis expire it.
    pub fn outcome_ttl(&self, ttl: Duration) -> Fleet {
        self.with(|i| i.outcome_ttl = ttl.max(Duration::from_secs(1)))
    }

    /// The server's URL, without any password.
    pub fn server(&self) -> &str {
        &self.inner.server
    }

    /// The namespace every key lives under.
    pub fn namespace_name(&self) -> &str {
        &self.inner.namespace
    }

    /// How long outcomes are kept.
    pub fn outcome_ttl_value(&self) -> Duration {
        self.inner.outcome_ttl
    }

    /// Checks that Redis answers.
    pub async fn ping(&self) -> Result<(), FleetError> {
        self.query::<String>("pinging", redis::cmd("PING"))
            .await
            .map(drop)
    }

    pub(crate) fn keys(&self, vendor: &str) -> Result<Keys, FleetError> {
        Keys::new(&self.inner.namespace, vendor)
    }

    fn fail(&self, during: &'static str, e: &redis::RedisError) -> FleetError {
        FleetError::Redis {
            server: self.inner.server.clone(),
            during,
            message: e.to_string(),
        }
    }

    async fn timed<T>(
        &self,
        during: &'static str,
        fut: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, FleetError> {
        match tokio::time::timeout(OP_TIMEOUT, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.fail(during, &e)),
            Err(_) => Err(FleetError::Timeout {
                server: self.inner.server.clone(),
                during,
                timeout: OP_TIMEOUT,
            }),
        }
    }

    /// Runs one command.
    pub(crate) async fn query<T: FromRedisValue>(
        &self,
        during: &'static str,
        cmd: redis::Cmd,
    ) -> Result<T, FleetError> {
        let mut conn = self.inner.conn.clone();
        self.timed(during, async move { cmd.query_async(&mut conn).await })
            .await
    }

    /// Runs one script (loading it first if Redis does not know it, as after a restart).
    pub(crate) async fn script<T: FromRedisValue>(
        &self,
        during: &'static str,
        invocation: &ScriptInvocation<'_>,
    ) -> Result<T, FleetError> {
        let mut conn = self.inner.conn.clone();
        self.timed(
            during,
            async move { invocation.invoke_async(&mut conn).await },
        )
        .await
    }

    /// A new publish/subscribe connection.
    pub(crate) async fn pubsub(&self) -> Result<redis::aio::PubSub, FleetError> {
        let client = self.inner.client.clone();
        self.timed("opening a subscription connection", async move {
            client.get_async_pubsub().await
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("redis://:hunter2@cache:6379/1"),
            "redis://***@cache:6379/1"
        );
        assert_eq!(redact("redis://user:p@ss@cache"), "redis://***@cache");
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        assert_eq!(redact("nonsense"), "(unparsed URL)");
    }
}
