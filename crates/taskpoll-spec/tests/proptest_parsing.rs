//! No body, status or header makes a spec's reading panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use proptest::prelude::*;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use taskpoll_spec::{Spec, decode};

const SPEC: &str = r#"
[request]
url = "{base_url}/t/{id}"
base_url = "https://api.example.com"
[status]
pointer = "/a/0/status"
pending = ["queued", "1"]
running = ["working", "true"]
succeeded = ["done"]
failed = ["error"]
[result]
pointer = "/a/0/out"
[failure]
pointer = "/a/0/error"
when_present = true
[progress]
pointer = "/a/0/p"
[http]
not_yet_visible = [404]
transient = [409]
rate_limit_remaining = "x-left"
rate_limit_reset = "x-reset"
"#;

fn spec() -> Spec {
    Spec::parse_with(SPEC, "p.toml", Path::new("."), &|_| None).unwrap()
}

/// Any JSON value, a few levels deep, with the keys the spec reads among the others.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            Just("done".to_owned()),
            Just("DONE".to_owned()),
            Just("error".to_owned()),
            Just("queued".to_owned()),
            Just("42%".to_owned()),
            ".{0,12}"
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("a".to_owned()),
                    Just("status".to_owned()),
                    Just("out".to_owned()),
                    Just("error".to_owned()),
                    Just("p".to_owned()),
                    "[a-z]{1,3}"
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn headers() -> impl Strategy<Value = HeaderMap> {
    prop::collection::vec(
        (
            prop_oneof![
                Just("retry-after"),
                Just("x-left"),
                Just("x-reset"),
                Just("location"),
                Just("x-other")
            ],
            prop_oneof![
                "[0-9]{0,12}",
                "[0-9.,a-z ]{0,12}",
                Just("Thu, 01 Jan 2026 00:00:00 GMT".to_owned()),
                Just("6m0s".to_owned()),
                Just("99999999999999999999".to_owned())
            ],
        ),
        0..5,
    )
    .prop_map(|pairs| {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            if let Ok(v) = HeaderValue::from_str(&value) {
                map.append(HeaderName::from_static(name), v);
            }
        }
        map
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_json_body_is_read_without_panicking(body in json(), status in 100u16..600, headers in headers()) {
        let s = spec();
        let bytes = serde_json::to_vec(&body).unwrap();
        match decode::answer(&s, status, &headers, &bytes) {
            Ok(v) => {
                let phase = decode::classify(&s, v);
                let _ = format!("{phase:?}");
            }
            Err(e) => {
                let _ = (e.to_string(), e.class(), e.retry_after());
            }
        }
    }

    #[test]
    fn any_bytes_are_read_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..256), status in 0u16..1000, headers in headers()) {
        let s = spec();
        if let Ok(v) = decode::answer(&s, status, &headers, &bytes) {
            let _ = decode::classify(&s, v);
        }
    }

    #[test]
    fn any_spec_text_loads_or_fails_cleanly(text in "[\\[\\]a-z_={}\"/ .0-9\n]{0,200}") {
        let _ = Spec::parse_with(&text, "fuzz.toml", Path::new("."), &|_| None).map_err(|e| e.to_string());
    }
}
