//! Stream's server-side auth: an HS256 JWT signed with the API secret, sent raw in
//! `Authorization` (no `Bearer `), with `stream-auth-type: jwt` and the `api_key` query
//! parameter.

use std::time::SystemTime;

use serde::Serialize;
use taskpoll_http::{Secret, jwt};

use crate::error::StreamError;

/// How far `iat` is back-dated, so a server whose clock is a little behind ours does
/// not see a token issued in its future (Stream's Ruby SDK does the same).
pub(crate) const IAT_LEEWAY_SECS: i64 = 5;

#[derive(Serialize)]
struct ServerClaims {
    server: bool,
    iat: i64,
}

/// A server token: `{"server": true, "iat": now - 5}`, HS256 with the secret.
pub(crate) fn server_token(secret: &Secret, now: SystemTime) -> Result<String, StreamError> {
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let claims = ServerClaims {
        server: true,
        iat: now.saturating_sub(IAT_LEEWAY_SECS),
    };
    jwt::sign_hs256(&claims, secret.expose().as_bytes()).map_err(|e| StreamError::Token {
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// `{"server":true,"iat":1767225595}` signed with `s3cret`, as the `jsonwebtoken`
    /// crate made it (and Python's hmac, hashlib and base64 agree).
    const PINNED: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzZXJ2ZXIiOnRydWUsImlhdCI6MTc2NzIyNTU5NX0.xOsesopSlw7U-W361usHq2M3zTrURIqX3_DsE9zNqcw";

    #[test]
    fn token_is_a_backdated_server_token() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let token = server_token(&Secret::new("s3cret"), now).unwrap();
        assert!(!token.starts_with("Bearer"));
        assert_eq!(token, PINNED);
        let claims = jwt::verify_hs256(&token, b"s3cret").unwrap();
        assert_eq!(
            serde_json::Value::Object(claims),
            serde_json::json!({"server": true, "iat": 1_767_225_595})
        );
    }
}
