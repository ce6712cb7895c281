//! [`Secret`]: a credential that never prints, and how a client reads one from the
//! environment.

use std::fmt;

use crate::ConfigError;

/// A credential (API key, secret, token). `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The credential itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `bytes` with every occurrence of the credential replaced by `***` (a server that
    /// echoes a key must not make it reach an error or a log). Credentials shorter than
    /// 4 bytes are left alone: they would match ordinary text.
    pub fn redact_in(&self, bytes: Vec<u8>) -> Vec<u8> {
        let needle = self.0.as_bytes();
        if needle.len() < 4 || !bytes.windows(needle.len()).any(|w| w == needle) {
            return bytes;
        }
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes.get(i..i + needle.len()) == Some(needle) {
                out.extend_from_slice(b"***");
                i += needle.len();
            } else if let Some(b) = bytes.get(i) {
                out.push(*b);
                i += 1;
            }
        }
        out
    }

    /// `text` with every occurrence of the credential replaced by `***` (see
    /// [`redact_in`](Secret::redact_in)).
    pub fn redact_text(&self, text: &str) -> String {
        let bytes = self.redact_in(text.as_bytes().to_vec());
        // The credential is whole characters, so the text stays UTF-8.
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

/// A credential from the environment variable `name`, as the `taskpoll` command reads
/// it: [`ConfigError::MissingVariable`] naming the variable when it is not set, empty or
/// not UTF-8. What the adapters' `from_env` constructors are made of.
pub fn env_credential(name: &'static str) -> Result<Secret, ConfigError> {
    credential_from(name, |n| std::env::var(n).ok())
}

/// [`env_credential`] with the environment given as a function (for tests, or a
/// configuration system of your own).
pub fn credential_from(
    name: &'static str,
    lookup: impl FnOnce(&str) -> Option<String>,
) -> Result<Secret, ConfigError> {
    match lookup(name) {
        Some(value) if !value.is_empty() => Ok(Secret::new(value)),
        _ => Err(ConfigError::MissingVariable { name }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_from_bodies() {
        let key = Secret::new("rw-key-123");
        let body =
            br#"{"errors":[{"message":"key rw-key-123 is not valid; rw-key-123"}]}"#.to_vec();
        let clean = String::from_utf8(key.redact_in(body)).unwrap();
        assert_eq!(
            clean,
            r#"{"errors":[{"message":"key *** is not valid; ***"}]}"#
        );
        assert_eq!(Secret::new("ab").redact_in(b"abab".to_vec()), b"abab");
    }

    #[test]
    fn credentials_come_from_the_named_variable() {
        let env = |name: &str| (name == "RUNWARE_API_KEY").then(|| "rw-123".to_owned());
        let key = credential_from("RUNWARE_API_KEY", env).unwrap();
        assert_eq!(key.expose(), "rw-123");
        let missing = credential_from("STREAM_API_KEY", env).unwrap_err();
        assert_eq!(
            missing,
            ConfigError::MissingVariable {
                name: "STREAM_API_KEY"
            }
        );
        assert!(missing.to_string().starts_with("STREAM_API_KEY is not set"));
        let empty = credential_from("X", |_| Some(String::new())).unwrap_err();
        assert_eq!(empty, ConfigError::MissingVariable { name: "X" });
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
    }
}
