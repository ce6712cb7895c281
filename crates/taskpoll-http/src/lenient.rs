//! Reading vendors' JSON leniently: a field of an unexpected type reads as absent
//! instead of failing the whole body, and a number sent as a string (or an id sent as
//! a number) is still read. Every adapter's models read their fields this way, so one
//! odd field never costs a whole answer.
//!
//! ```
//! use serde_json::json;
//! use taskpoll_http::lenient::{Fields, integer, text};
//!
//! assert_eq!(text(Some(&json!(42))), Some("42".to_owned()));
//! assert_eq!(text(Some(&json!({"nested": true}))), None);
//! assert_eq!(integer(Some(&json!(" 7 "))), Some(7));
//!
//! let mut fields: Fields = serde_json::from_value(json!({
//!     "taskUUID": "t-1", "progress": "12.5", "seed": -3, "text": "hello"
//! }))?;
//! assert_eq!(fields.text("taskUUID").as_deref(), Some("t-1"));
//! assert_eq!(fields.float("progress"), Some(12.5));
//! assert_eq!(fields.unsigned("seed"), None);
//! assert_eq!(fields.rest()["text"], "hello");
//! # Ok::<(), serde_json::Error>(())
//! ```

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// Text: a string, or a number written out. `null`, booleans, arrays and objects
/// read as absent.
pub fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A whole number: an integer, a float without a fraction, or a string holding one.
pub fn integer(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A whole number that cannot be negative: an integer, a float without a fraction,
/// or a string holding one, up to `u64::MAX`.
pub fn unsigned(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1.8e19)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A number, or a string holding one.
pub fn float(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A boolean; anything else reads as absent.
pub fn boolean(v: Option<&Value>) -> Option<bool> {
    v?.as_bool()
}

/// A JSON object whose fields are taken one at a time, each read leniently; what is
/// left is kept as the unknown fields ([`rest`](Fields::rest)).
///
/// Deserializing one from anything but an object is an error.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields(Map<String, Value>);

impl Fields {
    /// The fields of `map`.
    pub fn new(map: Map<String, Value>) -> Self {
        Fields(map)
    }

    /// Takes `key` as sent; `null` reads as absent.
    pub fn take(&mut self, key: &str) -> Option<Value> {
        self.0.remove(key).filter(|v| !v.is_null())
    }

    /// Takes `key` as [`text`].
    pub fn text(&mut self, key: &str) -> Option<String> {
        text(self.take(key).as_ref())
    }

    /// Takes `key` as an [`integer`].
    pub fn integer(&mut self, key: &str) -> Option<i64> {
        integer(self.take(key).as_ref())
    }

    /// Takes `key` as an [`unsigned`] integer.
    pub fn unsigned(&mut self, key: &str) -> Option<u64> {
        unsigned(self.take(key).as_ref())
    }

    /// Takes `key` as a [`float`].
    pub fn float(&mut self, key: &str) -> Option<f64> {
        float(self.take(key).as_ref())
    }

    /// Takes `key` as a [`boolean`].
    pub fn boolean(&mut self, key: &str) -> Option<bool> {
        boolean(self.take(key).as_ref())
    }

    /// The fields not taken.
    pub fn rest(self) -> Map<String, Value> {
        self.0
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Object(map) => Ok(Fields(map)),
            _ => Err(serde::de::Error::custom("expected a JSON object")),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_and_text_cross_over_and_other_types_read_as_absent() {
        assert_eq!(text(Some(&json!("a"))), Some("a".into()));
        assert_eq!(text(Some(&json!(1.5))), Some("1.5".into()));
        for v in [json!(null), json!(true), json!([1]), json!({})] {
            assert_eq!(text(Some(&v)), None, "{v}");
        }
        assert_eq!(integer(Some(&json!(51055029))), Some(51_055_029));
        assert_eq!(integer(Some(&json!(2.0))), Some(2));
        assert_eq!(integer(Some(&json!(2.5))), None);
        assert_eq!(integer(Some(&json!("x"))), None);
        assert_eq!(unsigned(Some(&json!(u64::MAX))), Some(u64::MAX));
        assert_eq!(unsigned(Some(&json!(-3))), None);
        assert_eq!(unsigned(Some(&json!(3.0))), Some(3));
        assert_eq!(
            unsigned(Some(&json!(1e19))),
            Some(10_000_000_000_000_000_000)
        );
        assert_eq!(unsigned(Some(&json!(-1.0))), None);
        assert_eq!(float(Some(&json!(" 0.25"))), Some(0.25));
        assert_eq!(float(Some(&json!([]))), None);
        assert_eq!(boolean(Some(&json!("true"))), None);
        assert_eq!(text(None), None);
    }

    #[test]
    fn fields_keep_what_was_not_taken() {
        let mut f: Fields =
            serde_json::from_value(json!({"a": null, "b": true, "c": [1]})).unwrap();
        assert_eq!(f.take("a"), None);
        assert_eq!(f.boolean("b"), Some(true));
        assert_eq!(f.rest(), json!({"c": [1]}).as_object().cloned().unwrap());
        assert!(serde_json::from_value::<Fields>(json!([1])).is_err());
    }
}
