//! The names of the fleet's keys (docs/fleet.md lists them all).

use sha2::{Digest, Sha256};

use crate::error::FleetError;

/// The keys of one vendor's waits in one namespace: `{ns}:{vendor}:...`.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    /// `{ns}:{vendor}`, the prefix the scripts build per-wait keys from.
    pub(crate) prefix: String,
}

/// A vendor name is one key segment: no colon, no braces, not empty.
pub(crate) fn check_vendor(vendor: &str) -> Result<(), FleetError> {
    if vendor.is_empty()
        || vendor.len() > 64
        || !vendor
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(FleetError::Invalid(format!(
            "vendor name {vendor:?}: use 1 to 64 letters, digits, '-', '_' or '.'"
        )));
    }
    Ok(())
}

/// A task id may be any text without control characters, up to 512 bytes.
pub(crate) fn check_task_id(id: &str) -> Result<(), FleetError> {
    if id.is_empty() || id.len() > 512 || id.chars().any(char::is_control) {
        return Err(FleetError::Invalid(format!(
            "task id {:?}: give 1 to 512 bytes without control characters",
            id.chars().take(80).collect::<String>()
        )));
    }
    Ok(())
}

impl Keys {
    pub(crate) fn new(namespace: &str, vendor: &str) -> Result<Keys, FleetError> {
        check_vendor(vendor)?;
        Ok(Keys {
            prefix: format!("{namespace}:{vendor}"),
        })
    }

    /// A wait's hash.
    pub(crate) fn wait(&self, id: &str) -> String {
        format!("{}:wait:{id}", self.prefix)
    }

    /// A finished wait's outcome.
    pub(crate) fn outcome(&self, id: &str) -> String {
        format!("{}:outcome:{id}", self.prefix)
    }

    /// The channel outcomes are published on.
    pub(crate) fn channel(&self) -> String {
        format!("{}:outcomes", self.prefix)
    }

    /// The workers' leases (a sorted set: worker id by lease expiry).
    pub(crate) fn workers(&self) -> String {
        format!("{}:workers", self.prefix)
    }

    /// Waits no worker holds, by due time (a sorted set).
    pub(crate) fn due(&self) -> String {
        format!("{}:due", self.prefix)
    }
}

/// A fingerprint of a credential: SHA-256 over a fixed label, the vendor and the
/// credential, first 16 bytes in hex. The credential itself never reaches Redis.
pub(crate) fn credential_hash(vendor: &str, credential: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"taskpoll-fleet budget v1\0");
    h.update(vendor.as_bytes());
    h.update(b"\0");
    h.update(credential.as_bytes());
    let digest = h.finalize();
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The budget keys of a vendor credential: its window, its pause and its pacing.
pub(crate) fn budget_keys(namespace: &str, vendor: &str, hash: &str) -> [String; 3] {
    let base = format!("{namespace}:budget:{vendor}:{hash}");
    [
        format!("{base}:window"),
        format!("{base}:pause"),
        format!("{base}:pace"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_hashed_per_vendor() {
        let a = credential_hash("redis-cloud", "key-one");
        assert_eq!(a.len(), 32);
        assert!(!a.contains("key-one"));
        assert_eq!(a, credential_hash("redis-cloud", "key-one"));
        assert_ne!(a, credential_hash("redis-cloud", "key-two"));
        assert_ne!(a, credential_hash("runware", "key-one"));
    }

    #[test]
    fn names_are_checked() {
        assert!(check_vendor("redis-cloud").is_ok());
        assert!(check_vendor("a:b").is_err());
        assert!(check_vendor("").is_err());
        assert!(check_task_id("6f1c2a3e-0b7d").is_ok());
        assert!(check_task_id("a\nb").is_err());
        assert!(check_task_id("").is_err());
    }
}
