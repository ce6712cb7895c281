//! Vendor-shaped JSON for property tests (proptest strategies): any JSON, JSON whose
//! keys and strings are a vendor's own, objects with each field usually present, bodies
//! cut short, any status, rate-limit headers with any values.
//!
//! ```
//! use proptest::test_runner::TestRunner;
//! use taskpoll_testkit::json::{Vocabulary, bytes_of, config, object};
//!
//! const ACME: Vocabulary = Vocabulary::new(&["id", "status", "result"], &["queued", "done"]);
//!
//! // In a test (or inside `proptest!`): reading any such body must not panic.
//! let body = bytes_of(object(vec![
//!     ("id", ACME.text()),
//!     ("status", ACME.word()),
//!     ("result", ACME.json()),
//! ]));
//! TestRunner::new(config())
//!     .run(&body, |bytes| {
//!         let _ = serde_json::from_slice::<serde_json::Value>(&bytes);
//!         Ok(())
//!     })
//!     .unwrap();
//! ```

use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::{Map, Value};

/// The words of a vendor's JSON: the keys its objects have and the strings its values
/// take (status words, ids, error codes). Generated JSON draws keys and strings from
/// them about half the time, and arbitrary ones otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vocabulary {
    /// Keys of the vendor's objects.
    pub keys: &'static [&'static str],
    /// Strings the vendor's values take.
    pub words: &'static [&'static str],
    /// More such strings (ids, error codes), drawn as often as `words`.
    pub more_words: &'static [&'static str],
}

impl Vocabulary {
    /// A vocabulary of these keys and words (neither may be empty).
    pub const fn new(keys: &'static [&'static str], words: &'static [&'static str]) -> Self {
        Vocabulary {
            keys,
            words,
            more_words: words,
        }
    }

    /// The same vocabulary with more strings its values take (ids, error codes).
    pub const fn and(self, more_words: &'static [&'static str]) -> Self {
        Vocabulary { more_words, ..self }
    }

    /// Any JSON scalar: null, booleans, integers (the edges of `i64` and `u64` among
    /// them), finite floats, short strings, the vocabulary's words, and an RFC 3339 time
    /// with nanoseconds and an offset.
    pub fn scalar(self) -> BoxedStrategy<Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
                .map(Value::Number)),
            ".{0,16}".prop_map(Value::String),
            select(self.words).prop_map(Value::from),
            select(self.more_words).prop_map(Value::from),
            Just(Value::from(i64::MAX)),
            Just(Value::from(u64::MAX)),
            Just(Value::from("2026-01-01T00:00:00.123456789+01:00")),
        ]
        .boxed()
    }

    /// Any JSON value, three levels deep at most, its keys the vocabulary's or arbitrary.
    pub fn json(self) -> BoxedStrategy<Value> {
        let keys = self.keys;
        self.scalar()
            .prop_recursive(3, 32, 6, move |inner| {
                prop_oneof![
                    vec(inner.clone(), 0..5).prop_map(Value::Array),
                    btree_map(
                        prop_oneof![select(keys).prop_map(str::to_owned), ".{0,8}"],
                        inner,
                        0..6
                    )
                    .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
                ]
            })
            .boxed()
    }

    /// `right` nine times in ten, any JSON value otherwise.
    pub fn mostly(self, right: impl Strategy<Value = Value> + 'static) -> BoxedStrategy<Value> {
        prop_oneof![9 => right.boxed(), 1 => self.json()].boxed()
    }

    /// A short string, mostly.
    pub fn text(self) -> BoxedStrategy<Value> {
        self.mostly(".{0,24}".prop_map(Value::from))
    }

    /// One of the vocabulary's words, mostly.
    pub fn word(self) -> BoxedStrategy<Value> {
        self.mostly(select(self.words).prop_map(Value::from))
    }

    /// An integer, mostly.
    pub fn int(self) -> BoxedStrategy<Value> {
        self.mostly(any::<i64>().prop_map(Value::from))
    }
}

/// An object with each of these fields present nine times in ten.
pub fn object(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
    weighted_object(fields.into_iter().map(|(k, v)| (k, 0.9, v)).collect())
}

/// An object with each field present with the probability given beside it.
pub fn weighted_object(
    fields: Vec<(&'static str, f64, BoxedStrategy<Value>)>,
) -> BoxedStrategy<Value> {
    let names: Vec<&str> = fields.iter().map(|(n, _, _)| *n).collect();
    let present: Vec<_> = fields
        .iter()
        .map(|(_, w, _)| prop::bool::weighted(*w))
        .collect();
    let values: Vec<BoxedStrategy<Value>> = fields.into_iter().map(|(_, _, v)| v).collect();
    (values, present)
        .prop_map(move |(values, present)| {
            Value::Object(
                names
                    .iter()
                    .zip(values)
                    .zip(present)
                    .filter(|(_, keep)| *keep)
                    .map(|((k, v), _)| ((*k).to_owned(), v))
                    .collect(),
            )
        })
        .boxed()
}

/// The body as sent four times in six; cut at any point once; arbitrary bytes once.
pub fn bytes_of(body: impl Strategy<Value = Value> + Clone) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => body.clone().prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
        1 => (body, any::<Index>()).prop_map(|(v, cut)| {
            let mut b = serde_json::to_vec(&v).unwrap_or_default();
            b.truncate(cut.index(b.len() + 1));
            b
        }),
        1 => vec(any::<u8>(), 0..256),
    ]
}

/// An HTTP status: mostly the ones vendors send, sometimes any `u16`.
pub fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        3 => select(&[200u16, 201, 202, 204, 400, 401, 402, 403, 404, 408, 409, 413, 429, 500, 501, 502, 503, 504][..]),
        1 => any::<u16>(),
    ]
}

/// 200 three times in four (for bodies shaped to be read), any [`status`] otherwise.
pub fn mostly_ok() -> impl Strategy<Value = u16> {
    prop_oneof![3 => Just(200u16), 1 => status()]
}

/// Up to five of these headers (lower-case names), with any header-legal values:
/// integers of both signs, printable text, an HTTP date, lists.
pub fn headers(names: &'static [&'static str]) -> impl Strategy<Value = HeaderMap> {
    let value = prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "[ -~]{0,24}",
        Just("Thu, 01 Jan 2026 00:00:00 GMT".to_owned()),
        Just(", , 7, 9".to_owned()),
    ];
    vec((select(names), value), 0..5).prop_map(|pairs| {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(n.as_bytes()),
                HeaderValue::from_str(&v),
            ) {
                h.append(n, v);
            }
        }
        h
    })
}

/// `Retry-After` and the `X-RateLimit-*` headers.
pub const RATE_LIMIT_HEADERS: &[&str] = &[
    "retry-after",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
];

/// Shows an error both ways, as a log line or a user would see it: its `Display` must say
/// something (`Err` when it is empty), and neither way may panic.
pub fn show<E: std::fmt::Display + std::fmt::Debug>(e: &E) -> Result<(), String> {
    let debug = format!("{e:?}");
    if e.to_string().trim().is_empty() {
        return Err(format!("an error that displays as nothing: {debug}"));
    }
    Ok(())
}

/// 512 cases a property, no failure files written.
pub fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}
