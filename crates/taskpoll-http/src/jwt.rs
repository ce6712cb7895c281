//! HS256 JSON Web Tokens: a JWT (RFC 7519) in the compact JWS form (RFC 7515), signed
//! with HMAC-SHA-256 and a shared secret.
//!
//! Stream's server-side auth is one such token: its adapter signs it with
//! [`sign_hs256`] and its simulator checks it with [`verify_hs256`]. The tokens are
//! byte for byte those of the usual JWT libraries: the header [`HS256_HEADER`], the
//! claims as `serde_json` writes them, each part unpadded base64url, then the
//! base64url HMAC-SHA-256 of `header.claims`.
//!
//! Only HS256 is supported. A token naming any other algorithm, `none` included, is
//! refused before its signature is looked at, and signatures are compared in constant
//! time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The header of every token [`sign_hs256`] makes, as JSON (in the field order the
/// Rust `jsonwebtoken` crate writes it).
pub const HS256_HEADER: &str = r#"{"typ":"JWT","alg":"HS256"}"#;

/// A token's claims: a JSON object.
pub type Claims = Map<String, Value>;

/// Why a token could not be made or was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// Not a token: not three `.`-separated parts, a part that is not unpadded
    /// base64url, a header or claims part that is not a JSON object, or a header
    /// without a string `alg`.
    #[error("malformed JWT: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm other than HS256 (`none` included).
    #[error("unsupported JWT algorithm {0:?}: only HS256 is accepted")]
    UnsupportedAlgorithm(String),
    /// The signature is not the HMAC-SHA-256 of the header and claims with the secret.
    #[error("JWT signature is invalid")]
    BadSignature,
    /// The claims could not be signed (they do not serialize to a JSON object).
    #[error("cannot sign the JWT: {0}")]
    Signing(String),
}

/// An HS256 token of `claims` signed with `secret`: header [`HS256_HEADER`], the
/// claims serialized by `serde_json` (a struct's fields in declaration order, a
/// `serde_json::Value` object's keys sorted), each part unpadded base64url.
///
/// Fails only when the claims do not serialize to a JSON object.
pub fn sign_hs256<C: Serialize + ?Sized>(claims: &C, secret: &[u8]) -> Result<String, JwtError> {
    let claims = serde_json::to_vec(claims).map_err(|e| JwtError::Signing(e.to_string()))?;
    if claims.first() != Some(&b'{') {
        return Err(JwtError::Signing("the claims are not a JSON object".into()));
    }
    let mut token = String::with_capacity(4 * (HS256_HEADER.len() + claims.len() + 32) / 3 + 8);
    URL_SAFE_NO_PAD.encode_string(HS256_HEADER, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&claims, &mut token);
    // HMAC takes a key of any length: this never fails.
    let mut mac = HmacSha256::new_from_slice(secret)
        .map_err(|_| JwtError::Signing("the secret cannot key HMAC-SHA-256".into()))?;
    mac.update(token.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(mac.finalize().into_bytes(), &mut token);
    Ok(token)
}

/// Checks an HS256 token against `secret` and returns its claims.
///
/// In order: the token must be three `.`-separated unpadded base64url parts; the header
/// a JSON object whose `alg` is `"HS256"` (any other algorithm, `none` included, is
/// [`JwtError::UnsupportedAlgorithm`]); the signature the HMAC-SHA-256 of
/// `header.claims`, compared in constant time ([`JwtError::BadSignature`]); the claims
/// a JSON object. Any header field order is accepted, and nothing else in the header
/// or claims is checked: `exp`, `nbf` and the rest are the caller's.
pub fn verify_hs256(token: &str, secret: &[u8]) -> Result<Claims, JwtError> {
    let (signed, signature) = token
        .rsplit_once('.')
        .ok_or(JwtError::Malformed("it is not three dot-separated parts"))?;
    let (header, claims) = signed
        .split_once('.')
        .filter(|(_, claims)| !claims.contains('.'))
        .ok_or(JwtError::Malformed("it is not three dot-separated parts"))?;
    let header = decode_object(header).ok_or(JwtError::Malformed(
        "the header is not a base64url JSON object",
    ))?;
    match header.get("alg") {
        Some(Value::String(alg)) if alg == "HS256" => {}
        Some(Value::String(alg)) => return Err(JwtError::UnsupportedAlgorithm(alg.clone())),
        _ => return Err(JwtError::Malformed("the header has no alg")),
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| JwtError::Malformed("the signature is not base64url"))?;
    // HMAC takes a key of any length: this never fails.
    let mut mac = HmacSha256::new_from_slice(secret).map_err(|_| JwtError::BadSignature)?;
    mac.update(signed.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| JwtError::BadSignature)?;
    decode_object(claims).ok_or(JwtError::Malformed(
        "the claims are not a base64url JSON object",
    ))
}

/// An unpadded base64url part holding a JSON object.
fn decode_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Tokens made by the Rust `jsonwebtoken` crate (10.3, `encode` with
    // `Header::new(Algorithm::HS256)`) and checked with Python's hmac, hashlib and
    // base64: ours must be the same bytes.

    /// `{"server":true,"iat":1767225595}` (a struct, fields in that order), secret
    /// `s3cret`: Stream's server token.
    const SERVER_TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzZXJ2ZXIiOnRydWUsImlhdCI6MTc2NzIyNTU5NX0.xOsesopSlw7U-W361usHq2M3zTrURIqX3_DsE9zNqcw";
    /// `json!({"server": true})`, secret `s3cret`.
    const SERVER_ONLY: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzZXJ2ZXIiOnRydWV9.pZVaQneZQaK01g8i6pVMdMOthKryPyhNth3PsJIsfhs";
    /// `json!({"user_id": "alice", "iat": 1767225595, "exp": 1767229195})` (keys
    /// sorted), secret `s3cret`.
    const USER_TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3NjcyMjkxOTUsImlhdCI6MTc2NzIyNTU5NSwidXNlcl9pZCI6ImFsaWNlIn0.Cx-F0j5Zf0Fj5U7xa6RW8vt9FuHF6kgievldxDKR01s";
    /// The server claims with an empty secret.
    const EMPTY_SECRET: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzZXJ2ZXIiOnRydWUsImlhdCI6MTc2NzIyNTU5NX0.-YWUtmkMTQOXIsCz7TMC9VKlJuATussZSsCSN43zrf4";
    /// The server claims with a 100-byte secret (longer than a SHA-256 block, so
    /// HMAC hashes it first).
    const LONG_SECRET: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzZXJ2ZXIiOnRydWUsImlhdCI6MTc2NzIyNTU5NX0.HVl-hQ0lfKLVZBzxbt6d7GAPJl-V0jJ-beIriWt_jR4";

    // Made with Python's hmac, hashlib and base64.

    /// Header `{"alg":"HS256","typ":"JWT"}` and sorted compact claims
    /// `{"iat":1767225595,"server":true}`, as PyJWT (Stream's Python SDK) and the
    /// Node and Go JWT libraries write them; secret `s3cret`.
    const SDK_TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3NjcyMjU1OTUsInNlcnZlciI6dHJ1ZX0.AcX_3C6vQwFSXIxno9MLdPsfel7M_-rJ3xOfNJORfnA";
    /// `alg: none`, no signature.
    const ALG_NONE: &str = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzZXJ2ZXIiOnRydWV9.";
    /// HS512 with secret `s3cret`.
    const HS512: &str = "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzZXJ2ZXIiOnRydWV9.73vkrcPgM1ImZQJGIo3A81I8QUTl00hIqKeDTzJp56Gd8RB0p_9DMW5UJ6AxqhmeasVvyF-PHxYpBG4uTz8ifQ";
    /// Header `{"typ":"JWT"}`, correctly signed with `s3cret`.
    const NO_ALG: &str =
        "eyJ0eXAiOiJKV1QifQ.eyJzZXJ2ZXIiOnRydWV9.-FqYaYdACv8Y4E0URf1_bEIaQ_DOP6yGmM-dZqrfuWQ";
    /// Claims `[1]`, correctly signed with `s3cret`.
    const ARRAY_CLAIMS: &str =
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.WzFd.On0ks-4CQ2EVklvidED-Q6-blW3lcKTTIFmpDjoDKAk";

    #[derive(Serialize)]
    struct ServerClaims {
        server: bool,
        iat: i64,
    }

    const SERVER: ServerClaims = ServerClaims {
        server: true,
        iat: 1_767_225_595,
    };

    fn claims(value: Value) -> Claims {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    /// `token` with one character of its signature changed (in the middle, so the
    /// part stays valid base64url).
    fn tamper_signature(token: &str) -> String {
        let at = token.rfind('.').unwrap() + 10;
        let mut bytes = token.as_bytes().to_vec();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn header_is_the_one_jsonwebtoken_writes() {
        let header = SERVER_TOKEN.split('.').next().unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.decode(header).unwrap(),
            HS256_HEADER.as_bytes()
        );
        assert_eq!(header, "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9");
    }

    #[test]
    fn signs_byte_for_byte_like_jsonwebtoken() {
        assert_eq!(sign_hs256(&SERVER, b"s3cret").unwrap(), SERVER_TOKEN);
        assert_eq!(
            sign_hs256(&json!({"server": true}), b"s3cret").unwrap(),
            SERVER_ONLY
        );
        assert_eq!(
            sign_hs256(
                &json!({"user_id": "alice", "iat": 1_767_225_595, "exp": 1_767_229_195}),
                b"s3cret"
            )
            .unwrap(),
            USER_TOKEN
        );
        assert_eq!(sign_hs256(&SERVER, b"").unwrap(), EMPTY_SECRET);
        assert_eq!(
            sign_hs256(&SERVER, "k".repeat(100).as_bytes()).unwrap(),
            LONG_SECRET
        );
    }

    #[test]
    fn verifies_the_pinned_tokens() {
        let server = claims(json!({"server": true, "iat": 1_767_225_595}));
        assert_eq!(verify_hs256(SERVER_TOKEN, b"s3cret").unwrap(), server);
        assert_eq!(verify_hs256(EMPTY_SECRET, b"").unwrap(), server);
        assert_eq!(
            verify_hs256(LONG_SECRET, "k".repeat(100).as_bytes()).unwrap(),
            server
        );
        assert_eq!(
            verify_hs256(SERVER_ONLY, b"s3cret").unwrap(),
            claims(json!({"server": true}))
        );
        assert_eq!(
            verify_hs256(USER_TOKEN, b"s3cret").unwrap(),
            claims(json!({"user_id": "alice", "iat": 1_767_225_595, "exp": 1_767_229_195}))
        );
    }

    #[test]
    fn verifies_tokens_of_other_libraries() {
        assert_eq!(
            verify_hs256(SDK_TOKEN, b"s3cret").unwrap(),
            claims(json!({"server": true, "iat": 1_767_225_595}))
        );
    }

    #[test]
    fn refuses_a_tampered_signature() {
        assert_eq!(
            verify_hs256(&tamper_signature(SERVER_TOKEN), b"s3cret"),
            Err(JwtError::BadSignature)
        );
        // Claims swapped for others under the original signature.
        let (header, rest) = SERVER_TOKEN.split_once('.').unwrap();
        let signature = rest.rsplit_once('.').unwrap().1;
        let forged = format!(
            "{header}.{}.{signature}",
            URL_SAFE_NO_PAD.encode(br#"{"server":true,"iat":1767225596}"#)
        );
        assert_eq!(
            verify_hs256(&forged, b"s3cret"),
            Err(JwtError::BadSignature)
        );
        // No signature at all.
        let unsigned = &SERVER_TOKEN[..=SERVER_TOKEN.rfind('.').unwrap()];
        assert_eq!(
            verify_hs256(unsigned, b"s3cret"),
            Err(JwtError::BadSignature)
        );
    }

    #[test]
    fn refuses_the_wrong_secret() {
        for secret in [&b"s3cres"[..], b"", b"s3cret ", b"S3CRET"] {
            assert_eq!(
                verify_hs256(SERVER_TOKEN, secret),
                Err(JwtError::BadSignature),
                "{secret:?}"
            );
        }
        assert_eq!(
            verify_hs256(EMPTY_SECRET, b"s3cret"),
            Err(JwtError::BadSignature)
        );
    }

    #[test]
    fn refuses_alg_none_and_every_other_algorithm() {
        assert_eq!(
            verify_hs256(ALG_NONE, b"s3cret"),
            Err(JwtError::UnsupportedAlgorithm("none".into()))
        );
        assert_eq!(
            verify_hs256(ALG_NONE, b""),
            Err(JwtError::UnsupportedAlgorithm("none".into()))
        );
        assert_eq!(
            verify_hs256(HS512, b"s3cret"),
            Err(JwtError::UnsupportedAlgorithm("HS512".into()))
        );
        assert!(matches!(
            verify_hs256(NO_ALG, b"s3cret"),
            Err(JwtError::Malformed(_))
        ));
    }

    #[test]
    fn refuses_garbage() {
        let padded_signature = format!("{SERVER_TOKEN}=");
        let four_parts = format!("{SERVER_TOKEN}.x");
        let bearer = format!("Bearer {SERVER_TOKEN}");
        let spaced = format!(" {SERVER_TOKEN}");
        let truncated = &SERVER_TOKEN[..SERVER_TOKEN.len() - 2];
        let not_json = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode("{\"alg\":\"HS256\""),
            URL_SAFE_NO_PAD.encode("{}")
        );
        let header_array = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode("[\"HS256\"]"),
            URL_SAFE_NO_PAD.encode("{}")
        );
        for token in [
            "",
            ".",
            "..",
            "abc",
            "a.b",
            "a.b.c",
            "a.b.c.d",
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzZXJ2ZXIiOnRydWV9",
            &padded_signature,
            &four_parts,
            &bearer,
            &spaced,
            truncated,
            &not_json,
            &header_array,
            ARRAY_CLAIMS,
        ] {
            assert!(
                matches!(verify_hs256(token, b"s3cret"), Err(JwtError::Malformed(_))),
                "{token:?}: {:?}",
                verify_hs256(token, b"s3cret")
            );
        }
    }

    #[test]
    fn signing_refuses_claims_that_are_not_an_object() {
        for value in [json!([1]), json!("x"), json!(1), json!(null)] {
            assert!(
                matches!(sign_hs256(&value, b"s3cret"), Err(JwtError::Signing(_))),
                "{value}"
            );
        }
    }

    #[test]
    fn round_trips() {
        let value = json!({"server": true, "nested": {"a": [1, 2.5, "é\"\\"]}, "n": null});
        let token = sign_hs256(&value, b"another secret").unwrap();
        assert_eq!(
            verify_hs256(&token, b"another secret").unwrap(),
            claims(value)
        );
        assert_eq!(
            verify_hs256(&token, b"another secreT"),
            Err(JwtError::BadSignature)
        );
    }
}
