//! [`BaseUrl`]: a vendor's checked base URL, and task ids as exactly one path segment.

use std::fmt;
use std::net::IpAddr;

use url::Url;

use crate::ConfigError;

/// A task id that cannot be sent as one path segment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid task id {id:?}: {reason}")]
pub struct InvalidTaskId {
    /// The id.
    pub id: String,
    /// Why.
    pub reason: &'static str,
}

impl InvalidTaskId {
    /// Refuses the ids no URL can carry as one path segment: empty, `.` and `..` (URL
    /// parsers resolve the last two as relative segments).
    pub fn check(id: &str) -> Result<(), InvalidTaskId> {
        let reason = match id {
            "" => "it is empty",
            "." | ".." => "it is a relative path segment",
            _ => return Ok(()),
        };
        Err(InvalidTaskId {
            id: id.to_owned(),
            reason,
        })
    }
}

/// A vendor base URL: `https`, or `http` to a loopback host (or anywhere when the
/// user allowed plain HTTP explicitly). No trailing slash.
#[derive(Clone, PartialEq, Eq)]
pub struct BaseUrl(Url);

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({})", self.0)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str().trim_end_matches('/'))
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

impl BaseUrl {
    /// Checks and normalises a base URL. Plain `http` is accepted for loopback hosts
    /// (the simulators) or when `allow_http` is set.
    pub fn parse(url: &str, allow_http: bool) -> Result<Self, ConfigError> {
        let invalid = |reason: String| ConfigError::InvalidBaseUrl {
            url: url.to_owned(),
            reason,
        };
        let parsed = Url::parse(url.trim_end_matches('/')).map_err(|e| invalid(e.to_string()))?;
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(invalid("it must not have a query or fragment".into()));
        }
        if parsed.cannot_be_a_base() || parsed.host().is_none() {
            return Err(invalid("it needs a host".into()));
        }
        match parsed.scheme() {
            "https" => {}
            "http" if allow_http || is_loopback(&parsed) => {}
            "http" => {
                return Err(ConfigError::InsecureHttp {
                    host: parsed.host_str().unwrap_or_default().to_owned(),
                });
            }
            other => return Err(invalid(format!("unsupported scheme {other:?}"))),
        }
        Ok(BaseUrl(parsed))
    }

    /// The URL of a fixed path below the base (`path` without a leading slash, made of
    /// literal segments such as `"v1/tasks"`).
    pub fn join(&self, path: &str) -> Url {
        let mut url = self.0.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}/{}", path.trim_start_matches('/')));
        url
    }

    /// The URL of `path` followed by `id` as exactly one percent-encoded path segment:
    /// `/`, `?`, `#`, `%` and every other byte outside the unreserved set are encoded,
    /// so no id can change the request's path or query. Empty ids, `.` and `..` are
    /// refused (URL parsers resolve them as relative segments).
    pub fn join_id(&self, path: &str, id: &str) -> Result<Url, InvalidTaskId> {
        InvalidTaskId::check(id)?;
        let refuse = |reason| InvalidTaskId {
            id: id.to_owned(),
            reason,
        };
        let mut url = self.join(path);
        let joined = format!(
            "{}/{}",
            url.path().trim_end_matches('/'),
            encode_segment(id)
        );
        url.set_path(&joined);
        // Defensive: the encoded segment must have survived parsing unchanged.
        if !url.path().ends_with(&encode_segment(id)) {
            return Err(refuse("it does not survive as one path segment"));
        }
        Ok(url)
    }

    /// The underlying URL.
    pub fn as_url(&self) -> &Url {
        &self.0
    }
}

/// Percent-encodes every byte outside RFC 3986's unreserved set (`A-Z a-z 0-9 - . _ ~`).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> BaseUrl {
        BaseUrl::parse("http://127.0.0.1:8080/", false).unwrap()
    }

    #[test]
    fn ids_stay_one_segment() {
        let cases = [
            ("6a1c0f7e-3b52", "/v1/tasks/6a1c0f7e-3b52"),
            ("../subscriptions", "/v1/tasks/..%2Fsubscriptions"),
            ("a/b?c=d", "/v1/tasks/a%2Fb%3Fc%3Dd"),
            ("%2e%2e", "/v1/tasks/%252e%252e"),
            ("a b#c", "/v1/tasks/a%20b%23c"),
            ("...", "/v1/tasks/..."),
        ];
        for (id, path) in cases {
            let url = base().join_id("v1/tasks", id).unwrap();
            assert_eq!(url.path(), path, "id {id:?}");
            assert_eq!(url.query(), None, "id {id:?}");
        }
    }

    #[test]
    fn relative_and_empty_ids_are_refused() {
        for id in ["", ".", ".."] {
            assert!(base().join_id("v1/tasks", id).is_err(), "id {id:?}");
        }
    }

    #[test]
    fn https_is_required_off_loopback() {
        assert!(BaseUrl::parse("https://api.example.com", false).is_ok());
        assert!(BaseUrl::parse("http://localhost:1", false).is_ok());
        assert!(BaseUrl::parse("http://[::1]:1", false).is_ok());
        assert!(BaseUrl::parse("http://127.8.0.1:1", false).is_ok());
        assert!(matches!(
            BaseUrl::parse("http://api.example.com", false),
            Err(ConfigError::InsecureHttp { .. })
        ));
        assert!(BaseUrl::parse("http://api.example.com", true).is_ok());
        assert!(BaseUrl::parse("ftp://x", true).is_err());
        assert!(BaseUrl::parse("https://x/?a=b", true).is_err());
    }

    #[test]
    fn base_path_is_kept() {
        let b = BaseUrl::parse("https://api.redislabs.com/v1/", false).unwrap();
        assert_eq!(
            b.join("tasks").as_str(),
            "https://api.redislabs.com/v1/tasks"
        );
        assert_eq!(b.to_string(), "https://api.redislabs.com/v1");
    }
}
