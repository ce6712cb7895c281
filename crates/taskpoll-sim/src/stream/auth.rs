//! Stream's server-side auth: `api_key` query parameter, a raw HS256 JWT in
//! `Authorization` (no `Bearer `), and `stream-auth-type: jwt`.

use axum::http::HeaderMap;
use serde_json::Value;
use taskpoll_http::jwt::{self, Claims, JwtError};

use super::StreamSimConfig;

/// Leeway on `exp`, `nbf` and `iat`, in seconds.
const LEEWAY_SECS: i64 = 5;

/// The detail of a token refused for anything but its signature or its times.
const NOT_A_SERVER_TOKEN: &str = "token is not a valid server token";

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
    // The signature, with the API secret; HS256 only (`alg: none` and every other
    // algorithm are refused).
    let claims = match jwt::verify_hs256(token, config.api_secret.as_bytes()) {
        Ok(claims) => claims,
        Err(JwtError::BadSignature) => return Err(refuse(43, "JWT signature is invalid")),
        Err(_) => return Err(refuse(5, NOT_A_SERVER_TOKEN)),
    };
    // The registered claims, checked as the usual JWT libraries check them.
    let now = now_secs();
    let exp = numeric_date(&claims, "exp")?;
    let nbf = numeric_date(&claims, "nbf")?;
    if exp.is_some_and(|exp| exp < now.saturating_sub(LEEWAY_SECS.unsigned_abs())) {
        return Err(refuse(40, "token has expired"));
    }
    if nbf.is_some_and(|nbf| nbf > now.saturating_add(LEEWAY_SECS.unsigned_abs())) {
        return Err(refuse(41, "token is not valid yet"));
    }
    if names_an_audience(&claims) {
        return Err(refuse(5, NOT_A_SERVER_TOKEN));
    }
    if claims.get("user_id").is_some() {
        return Err(refuse(5, "a user token cannot make server-side requests"));
    }
    if let Some(iat) = claims.get("iat").and_then(Value::as_i64) {
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        if iat > now.saturating_add(LEEWAY_SECS) {
            return Err(refuse(42, "token used before issued at (iat)"));
        }
    }
    Ok(())
}

/// Seconds since the Unix epoch.
fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A NumericDate claim (`exp`, `nbf`) in whole seconds: `None` when absent, a
/// fraction rounded; a token whose claim is anything but a non-negative number (a
/// string, `null`, `-1`) is invalid.
fn numeric_date(claims: &Claims, name: &str) -> Result<Option<u64>, Refused> {
    let Some(value) = claims.get(name) else {
        return Ok(None);
    };
    let secs = match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|s| s.is_finite() && *s >= 0.0 && *s < u64::MAX as f64)
                .map(|s| s.round() as u64)
        }),
        _ => None,
    };
    secs.map(Some).ok_or_else(|| refuse(5, NOT_A_SERVER_TOKEN))
}

/// Whether the token names an audience. Server tokens have none, and a token for some
/// audience is refused, as by a JWT library with no audience configured: an `aud` that
/// is a string or a non-empty list of strings. An empty list, or one that is not all
/// strings, is let through.
fn names_an_audience(claims: &Claims) -> bool {
    match claims.get("aud") {
        Some(Value::String(_)) => true,
        Some(Value::Array(items)) => !items.is_empty() && items.iter().all(Value::is_string),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &str = "s3cret";

    // Tokens made with Python's hmac, hashlib and base64, signed with `s3cret` (but
    // `ALG_NONE`, which has no signature).

    /// `{"iat":1767225595,"server":true}` under the header `{"alg":"HS256","typ":"JWT"}`,
    /// as Stream's Python SDK (PyJWT) writes it.
    const SDK_TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3NjcyMjU1OTUsInNlcnZlciI6dHJ1ZX0.AcX_3C6vQwFSXIxno9MLdPsfel7M_-rJ3xOfNJORfnA";
    /// Header `{"alg":"none","typ":"JWT"}`, no signature.
    const ALG_NONE: &str = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzZXJ2ZXIiOnRydWV9.";
    /// HS512.
    const HS512: &str = "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzZXJ2ZXIiOnRydWV9.73vkrcPgM1ImZQJGIo3A81I8QUTl00hIqKeDTzJp56Gd8RB0p_9DMW5UJ6AxqhmeasVvyF-PHxYpBG4uTz8ifQ";
    /// Header `{"typ":"JWT"}`.
    const NO_ALG: &str =
        "eyJ0eXAiOiJKV1QifQ.eyJzZXJ2ZXIiOnRydWV9.-FqYaYdACv8Y4E0URf1_bEIaQ_DOP6yGmM-dZqrfuWQ";
    /// Claims `[1]`.
    const LIST_CLAIMS: &str =
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.WzFd.On0ks-4CQ2EVklvidED-Q6-blW3lcKTTIFmpDjoDKAk";

    fn config() -> StreamSimConfig {
        StreamSimConfig {
            api_secret: SECRET.into(),
            ..StreamSimConfig::default()
        }
    }

    /// The code and detail a request with this `Authorization` gets (code 0: let in).
    fn answer(token: &str) -> (i64, String) {
        let config = config();
        let mut headers = HeaderMap::new();
        headers.insert("stream-auth-type", "jwt".parse().unwrap());
        headers.insert("authorization", token.parse().unwrap());
        match check(&config, Some(config.api_key.as_str()), &headers) {
            Ok(()) => (0, "ok".into()),
            Err(refused) => (refused.code, refused.detail),
        }
    }

    fn sign(claims: &Value) -> String {
        jwt::sign_hs256(claims, SECRET.as_bytes()).unwrap()
    }

    /// Every claim set and every broken token gets the code and detail it got when the
    /// `jsonwebtoken` crate checked tokens (the same cases were run against it).
    #[test]
    fn tokens_get_the_codes_they_always_got() {
        let now = i64::try_from(now_secs()).unwrap();
        let ok = (0, "ok");
        let invalid = (5, NOT_A_SERVER_TOKEN);
        let expired = (40, "token has expired");
        let immature = (41, "token is not valid yet");
        let future_iat = (42, "token used before issued at (iat)");
        let user = (5, "a user token cannot make server-side requests");
        let signature = (43, "JWT signature is invalid");
        let cases = [
            ("empty claims", json!({}), ok),
            ("server", json!({"server": true}), ok),
            ("exp past", json!({"exp": now - 60}), expired),
            ("exp within leeway", json!({"exp": now - 3}), ok),
            ("exp future", json!({"exp": now + 60}), ok),
            (
                "exp float past",
                json!({"exp": (now - 60) as f64 + 0.4}),
                expired,
            ),
            (
                "exp float future",
                json!({"exp": (now + 60) as f64 + 0.4}),
                ok,
            ),
            ("exp string", json!({"exp": "soon"}), invalid),
            ("exp negative", json!({"exp": -1}), invalid),
            ("exp null", json!({"exp": null}), invalid),
            ("exp bool", json!({"exp": true}), invalid),
            ("nbf future", json!({"nbf": now + 60}), immature),
            ("nbf within leeway", json!({"nbf": now + 3}), ok),
            ("nbf past", json!({"nbf": now - 60}), ok),
            ("nbf string", json!({"nbf": "x"}), invalid),
            ("nbf negative", json!({"nbf": -5}), invalid),
            (
                "nbf float future",
                json!({"nbf": (now + 60) as f64}),
                immature,
            ),
            (
                "exp past, nbf future",
                json!({"exp": now - 60, "nbf": now + 60}),
                expired,
            ),
            (
                "exp bad, nbf future",
                json!({"exp": "x", "nbf": now + 60}),
                invalid,
            ),
            (
                "nbf bad, exp past",
                json!({"exp": now - 60, "nbf": "x"}),
                invalid,
            ),
            ("iat future", json!({"iat": now + 60}), future_iat),
            ("iat within leeway", json!({"iat": now + 3}), ok),
            ("iat string", json!({"iat": "x"}), ok),
            ("iat float future", json!({"iat": (now + 60) as f64}), ok),
            ("user_id", json!({"user_id": "alice"}), user),
            ("user_id null", json!({"user_id": null}), user),
            (
                "expired user token",
                json!({"user_id": "a", "exp": now - 60}),
                expired,
            ),
            ("aud string", json!({"aud": "x"}), invalid),
            ("aud list", json!({"aud": ["x"]}), invalid),
            ("aud empty list", json!({"aud": []}), ok),
            ("aud numbers", json!({"aud": [1]}), ok),
            ("aud number", json!({"aud": 5}), ok),
            ("aud null", json!({"aud": null}), ok),
            ("iss", json!({"iss": "x"}), ok),
            ("sub number", json!({"sub": 5}), ok),
        ];
        for (what, claims, (code, detail)) in cases {
            assert_eq!(answer(&sign(&claims)), (code, detail.to_owned()), "{what}");
        }

        let good = sign(&json!({"server": true}));
        let wrong_secret = jwt::sign_hs256(&json!({"server": true}), b"other").unwrap();
        let (unsigned, _) = good.rsplit_once('.').unwrap();
        let mut flipped = good.clone().into_bytes();
        let at = good.rfind('.').unwrap() + 10;
        flipped[at] = if flipped[at] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        let tokens = [
            ("wrong secret", wrong_secret, signature),
            ("signature changed", flipped, signature),
            ("no signature", format!("{unsigned}."), signature),
            (
                "signature cut short",
                good[..good.len() - 2].to_owned(),
                invalid,
            ),
            ("signature padded", format!("{good}="), invalid),
            (
                "signature not base64url",
                format!("{}!", &good[..good.len() - 1]),
                invalid,
            ),
            ("four parts", format!("{good}.x"), invalid),
            ("two parts", unsigned.to_owned(), invalid),
            ("garbage", "a.b.c".into(), invalid),
            ("Bearer prefix", format!("Bearer {good}"), invalid),
            ("SDK header order", SDK_TOKEN.into(), ok),
            ("alg none", ALG_NONE.into(), invalid),
            ("HS512", HS512.into(), invalid),
            ("no alg", NO_ALG.into(), invalid),
            ("claims a list", LIST_CLAIMS.into(), invalid),
        ];
        for (what, token, (code, detail)) in tokens {
            assert_eq!(answer(&token), (code, detail.to_owned()), "{what}");
        }
    }
}
