//! One request budget per vendor credential in a process.
//!
//! A vendor counts requests per credential (Redis Cloud: 400 a minute per API key),
//! not per client object: two clients built from one key, or one client's task and
//! subscription waits, must draw from one budget. [`shared_budget`] hands every client
//! of the same vendor, credential and limit the same [`LocalBudget`] while any of them
//! lives.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use taskpoll::{Admission, Budget, LocalBudget, RequestBudget};

use crate::Secret;

/// Vendor, a fingerprint of the credential (never the credential), and the limit.
type Key = (&'static str, u64, Option<u32>, Duration);

fn registry() -> &'static Mutex<HashMap<Key, Weak<LocalBudget>>> {
    static REGISTRY: OnceLock<Mutex<HashMap<Key, Weak<LocalBudget>>>> = OnceLock::new();
    REGISTRY.get_or_init(Mutex::default)
}

/// The in-process budget of `vendor` for `credential` under `limits`' request rate:
/// the same one for every caller with the same three while any of them holds it.
///
/// Clients that set a different limit get a budget of their own (the limit is part of
/// the key), so an explicit setting is never silently replaced by another client's.
pub fn shared_budget(
    vendor: &'static str,
    credential: &Secret,
    limits: &Budget,
) -> Arc<dyn RequestBudget> {
    let mut hasher = DefaultHasher::new();
    credential.expose().hash(&mut hasher);
    let key = (
        vendor,
        hasher.finish(),
        limits.requests_per_minute,
        limits.window,
    );
    let mut map = registry().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(budget) = map.get(&key).and_then(Weak::upgrade) {
        return budget;
    }
    map.retain(|_, w| w.strong_count() > 0);
    let budget = Arc::new(limits.local());
    map.insert(key, Arc::downgrade(&budget));
    budget
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_budget_per_vendor_credential_and_limit() {
        let limits = Budget::default().per_minute(300);
        let a = shared_budget("v", &Secret::new("key-one"), &limits);
        let b = shared_budget("v", &Secret::new("key-one"), &limits);
        let other_key = shared_budget("v", &Secret::new("key-two"), &limits);
        let other_vendor = shared_budget("w", &Secret::new("key-one"), &limits);
        let other_limit = shared_budget("v", &Secret::new("key-one"), &limits.per_minute(10));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &other_key));
        assert!(!Arc::ptr_eq(&a, &other_vendor));
        assert!(!Arc::ptr_eq(&a, &other_limit));
        // No key in its Debug output.
        assert!(!format!("{a:?}").contains("key-one"));
    }

    #[test]
    fn a_plugged_budget_replaces_the_process_one() {
        let limits = Budget::default().per_minute(300);
        let key = Secret::new("key-plugged");
        let mut settings = crate::HttpSettings::new("https://example.com", Duration::from_secs(5));
        let own = settings.budget_for("v", &key, &limits);
        assert!(Arc::ptr_eq(&own, &shared_budget("v", &key, &limits)));
        let plugged: Arc<dyn RequestBudget> =
            Arc::new(LocalBudget::per_window(1, Duration::from_secs(60)));
        settings.request_budget = Some(Arc::clone(&plugged));
        assert!(Arc::ptr_eq(
            &settings.budget_for("v", &key, &limits),
            &plugged
        ));
    }
}

/// Sends `request` within `budget`: waits until the budget grants it, then tells the
/// budget when it ended.
///
/// For requests a source sends beyond the one its scheduler granted (a batch's
/// per-task fallbacks): every request that leaves the process must count, or a
/// vendor's per-key limit can be passed while the budget believes it holds.
pub async fn spend<T>(budget: &dyn RequestBudget, request: impl Future<Output = T>) -> T {
    // Granted, or an answer this version does not know: send it.
    while let Admission::RetryIn(delay) = budget.acquire().await {
        tokio::time::sleep(delay).await;
    }
    let sent = tokio::time::Instant::now();
    let out = request.await;
    budget.release(sent.elapsed());
    out
}

#[cfg(test)]
mod spend_tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_spent_request_waits_for_its_place_in_the_window() {
        let budget = LocalBudget::per_window(2, Duration::from_secs(60));
        let start = tokio::time::Instant::now();
        for _ in 0..3 {
            spend(&budget, async {}).await;
        }
        // The third waited for the first to leave the window.
        assert_eq!(start.elapsed(), Duration::from_secs(60));
    }
}
