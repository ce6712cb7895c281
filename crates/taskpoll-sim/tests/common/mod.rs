//! Helpers shared by the simulator tests.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::{Map, Value};

/// A plain reqwest client of one simulator, with its base URL and its two keys; each
/// test file adds the requests of its vendor.
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub key: String,
    pub secret: String,
}

impl Api {
    pub fn with_keys(base: String, key: &str, secret: &str) -> Self {
        Api {
            http: reqwest::Client::new(),
            base,
            key: key.to_owned(),
            secret: secret.to_owned(),
        }
    }
}

/// The repository's copy of the vendor fixtures: `tests/fixtures/<vendor>/<name>`.
pub fn fixture(vendor: &str, name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(vendor)
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The structure of a JSON document: every leaf replaced by its type name, arrays
/// reduced to the union of their items' structures, object keys sorted. Two documents
/// with the same keys, nesting and types have equal shapes whatever their values.
pub fn shape(v: &Value) -> Value {
    match v {
        Value::Null => Value::String("null".into()),
        Value::Bool(_) => Value::String("bool".into()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Value::String("integer".into()),
        Value::Number(_) => Value::String("float".into()),
        Value::String(_) => Value::String("string".into()),
        Value::Array(items) => {
            let mut merged: Option<Value> = None;
            for item in items {
                let s = shape(item);
                merged = Some(match merged {
                    None => s,
                    Some(m) => merge(m, s),
                });
            }
            Value::Array(merged.into_iter().collect())
        }
        Value::Object(map) => {
            let sorted: Map<String, Value> =
                map.iter().map(|(k, v)| (k.clone(), shape(v))).collect();
            Value::Object(sorted)
        }
    }
}

fn merge(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Object(mut x), Value::Object(y)) => {
            for (k, v) in y {
                let merged = match x.remove(&k) {
                    Some(old) => merge(old, v),
                    None => v,
                };
                x.insert(k, merged);
            }
            Value::Object(x)
        }
        (a, _) => a,
    }
}

/// Replaces the values of map-like objects whose keys are data (ids, cids) with one
/// entry `"<key>"`, so their shape does not depend on the ids.
pub fn collapse_keys(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut out = Map::new();
            if let Some((_, first)) = map.iter().next() {
                out.insert("<key>".into(), collapse_keys(first));
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}
