//! Redis Cloud's auth: `x-api-key` (account key) and `x-api-secret-key` (user secret
//! key) on every request, both required. Header names are case-insensitive.

use axum::http::HeaderMap;

use super::RedisCloudSimConfig;

/// The account key a request presented, once both keys are right.
pub(crate) fn check<'a>(
    config: &'a RedisCloudSimConfig,
    headers: &HeaderMap,
) -> Result<&'a str, ()> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match (header("x-api-key"), header("x-api-secret-key")) {
        (Some(key), Some(secret)) if key == config.api_key && secret == config.secret_key => {
            Ok(&config.api_key)
        }
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn both_keys_are_required() {
        let config = RedisCloudSimConfig::default();
        let mut h = HeaderMap::new();
        assert!(check(&config, &h).is_err());
        h.insert("X-Api-Key", HeaderValue::from_static("sim-redis-cloud-key"));
        assert!(check(&config, &h).is_err());
        h.insert("X-API-SECRET-KEY", HeaderValue::from_static("wrong"));
        assert!(check(&config, &h).is_err());
        h.insert(
            "x-api-secret-key",
            HeaderValue::from_static("sim-redis-cloud-secret"),
        );
        assert_eq!(check(&config, &h), Ok("sim-redis-cloud-key"));
    }
}
