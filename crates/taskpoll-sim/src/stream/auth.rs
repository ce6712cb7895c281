//! Stream's server-side auth: `api_key` query parameter, a raw HS256 JWT in
//! `Authorization` (no `Bearer `), and `stream-auth-type: jwt`.

use axum::http::HeaderMap;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::StreamSimConfig;

/// Leeway on `exp`, `nbf` and `iat`, in seconds.
const LEEWAY_SECS: i64 = 5;

/// Why a request was refused: Stream's error code and detail text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub(crate) code: i64,
    pub(crate) detail: String,
}

fn refuse(code: i64, detail: &str) -> Refused {
    Refused {
        code,
        detail: detail.to_owned(),
    }
}

/// Checks a request's credentials.
pub(crate) fn check(
    config: &StreamSimConfig,
    api_key: Option<&str>,
    headers: &HeaderMap,
) -> Result<(), Refused> {
    match api_key {
        Some(k) if k == config.api_key => {}
        _ => return Err(refuse(2, "api_key not valid")),
    }
    let auth_type = headers
        .get("stream-auth-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !auth_type.eq_ignore_ascii_case("jwt") {
        return Err(refuse(
            5,
            "stream-auth-type header must be jwt for server-side requests",
        ));
    }
    let Some(token) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Err(refuse(5, "Authorization header is missing"));
    };
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.leeway = LEEWAY_SECS.unsigned_abs();
    validation.validate_nbf = true;
    let key = DecodingKey::from_secret(config.api_secret.as_bytes());
    let claims = match jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation) {
        Ok(data) => data.claims,
        Err(e) => {
            return Err(match e.kind() {
                ErrorKind::InvalidSignature => refuse(43, "JWT signature is invalid"),
                ErrorKind::ExpiredSignature => refuse(40, "token has expired"),
                ErrorKind::ImmatureSignature => refuse(41, "token is not valid yet"),
                _ => refuse(5, "token is not a valid server token"),
            });
        }
    };
    if claims.get("user_id").is_some() {
        return Err(refuse(5, "a user token cannot make server-side requests"));
    }
    if let Some(iat) = claims.get("iat").and_then(serde_json::Value::as_i64) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        if iat > now + LEEWAY_SECS {
            return Err(refuse(42, "token used before issued at (iat)"));
        }
    }
    Ok(())
}
