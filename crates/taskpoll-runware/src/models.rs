//! Runware's wire types: the `{data, errors}` envelope, its items, and its error items.
//!
//! Everything is read leniently: either key of the envelope may be absent (or `null`),
//! a field of the wrong type reads as absent instead of failing the whole body, and
//! unknown fields are kept in `extra` maps. The singular `error` key (object or array)
//! and the legacy `errorId`/`errorMessage` form are understood too.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

mod errors;
mod item;

pub use errors::{ErrorItem, Parameter};
pub use item::{DataItem, ItemState};

/// Deserializers that read a wrong type as absent.
mod lenient {
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    pub(super) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    }

    pub(super) fn f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
    }

    pub(super) fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Number(n) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1.8e19)
                    .map(|f| f as u64)
            }),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
    }

    pub(super) fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        Ok(Value::deserialize(d)?.as_bool())
    }
}

/// A response body: `{"data": [...], "errors": [...]}`, both keys optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Envelope {
    /// Items still processing or finished (and item-level failures).
    #[serde(default, deserialize_with = "data_items")]
    pub data: Vec<DataItem>,
    /// Failures (`errors` key). An empty array means no errors.
    #[serde(
        default,
        deserialize_with = "error_items",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub errors: Vec<ErrorItem>,
    /// The singular `error` key (object or array), as pre-stream HTTP errors and the
    /// legacy documentation send it.
    #[serde(
        default,
        deserialize_with = "error_items",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub error: Vec<ErrorItem>,
    /// Legacy (WebSocket era) `errorId` at the top level.
    #[serde(rename = "errorId", default, skip_serializing_if = "Option::is_none")]
    pub error_id: Option<Value>,
    /// Legacy `errorMessage` at the top level.
    #[serde(
        rename = "errorMessage",
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub error_message: Option<String>,
    /// Any other top-level key.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Envelope {
    /// Every error the body carries, whatever the encoding: `errors`, `error`, and a
    /// legacy top-level `errorId`/`errorMessage` (as one item).
    pub fn all_errors(&self) -> Vec<ErrorItem> {
        let mut all: Vec<ErrorItem> = self.errors.iter().chain(&self.error).cloned().collect();
        if self.error_id.is_some() || self.error_message.is_some() {
            all.push(ErrorItem {
                error_id: self.error_id.clone(),
                error_message: self.error_message.clone(),
                ..ErrorItem::default()
            });
        }
        all
    }

    /// Whether a JSON body has the keys of an envelope (`data`, `errors`, `error`,
    /// `errorId` or `errorMessage`).
    pub fn is_envelope(value: &Value) -> bool {
        value.as_object().is_some_and(|o| {
            ["data", "errors", "error", "errorId", "errorMessage"]
                .iter()
                .any(|k| o.contains_key(*k))
        })
    }
}

fn data_items<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<DataItem>, D::Error> {
    let items = match Value::deserialize(d)? {
        Value::Array(items) => items,
        one @ Value::Object(_) => vec![one],
        _ => Vec::new(),
    };
    Ok(items
        .into_iter()
        .filter(Value::is_object)
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect())
}

fn error_items<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ErrorItem>, D::Error> {
    let items = match Value::deserialize(d)? {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        one => vec![one],
    };
    Ok(items
        .into_iter()
        .filter_map(ErrorItem::from_value)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope(v: Value) -> Envelope {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn either_key_may_be_absent_or_null() {
        assert_eq!(envelope(json!({})), Envelope::default());
        let e = envelope(json!({"data": null, "errors": []}));
        assert!(e.data.is_empty() && e.all_errors().is_empty());
        let e = envelope(json!({"errors": [{"code": "x"}]}));
        assert!(e.data.is_empty());
        assert_eq!(e.all_errors()[0].code(), "x");
    }

    #[test]
    fn wrong_types_read_as_absent_and_unknown_fields_are_kept() {
        let e = envelope(json!({"data": [
            {"taskUUID": "t", "status": true, "progress": "12.5", "seed": -3, "cost": "cheap",
             "NSFWContent": "no", "resultIndex": 2.0, "text": "hello", "outputs": {"files": []}},
            "not an object",
            42
        ], "requestId": "r-1"}));
        assert_eq!(e.data.len(), 1);
        let item = &e.data[0];
        assert_eq!(item.status, None);
        assert_eq!(item.progress, Some(12.5));
        assert_eq!(
            (item.seed, item.cost, item.nsfw_content),
            (None, None, None)
        );
        assert_eq!(item.result_index, Some(2));
        assert_eq!(item.extra["text"], "hello");
        assert_eq!(e.extra["requestId"], "r-1");
        // No status but an output: finished.
        assert_eq!(item.state(), ItemState::Finished);
    }

    #[test]
    fn every_error_encoding_is_understood() {
        let singular =
            envelope(json!({"error": {"code": "insufficientCredits", "message": "Top up."}}));
        assert_eq!(singular.all_errors()[0].code(), "insufficientCredits");
        let array = envelope(json!({"error": [{"code": "a"}, "plain text"]}));
        let all = array.all_errors();
        assert_eq!(
            (all[0].code(), all[1].message()),
            ("a".to_owned(), "plain text")
        );
        let legacy = envelope(json!({"errorId": 19, "errorMessage": "Invalid api key"}));
        let all = legacy.all_errors();
        assert_eq!(
            (all[0].code(), all[0].message()),
            ("errorId 19".to_owned(), "Invalid api key")
        );
        let item =
            envelope(json!({"data": [{"taskUUID": "t", "errorId": 5, "errorMessage": "boom"}]}));
        assert_eq!(item.data[0].state(), ItemState::Failed);
        let f = item.data[0].failure();
        assert_eq!(
            (f.code(), f.message(), f.task_uuid.as_deref()),
            ("errorId 5".to_owned(), "boom", Some("t"))
        );
    }

    #[test]
    fn parameter_is_a_string_or_a_list_and_extra_keys_are_kept() {
        let e = envelope(json!({"errors": [
            {"code": "invalidWidth", "parameter": "width", "min": 256, "max": 16383, "multiplier": 1},
            {"code": "conflictingParameters", "parameter": ["width", "height"]},
            {"code": "odd", "parameter": 3},
        ]}));
        let all = e.all_errors();
        assert_eq!(all[0].parameter, Some(Parameter::One("width".into())));
        assert_eq!(all[0].extra["max"], 16383);
        assert_eq!(
            all[1].parameter.as_ref().unwrap().to_string(),
            "width, height"
        );
        assert_eq!(all[2].parameter, None);
        assert_eq!(
            all[1].to_string(),
            "conflictingParameters (parameter width, height)"
        );
        assert_eq!(
            serde_json::to_value(&all[1]).unwrap()["parameter"],
            json!(["width", "height"])
        );
    }

    #[test]
    fn item_states_and_keys() {
        let item = |v: Value| serde_json::from_value::<DataItem>(v).unwrap();
        assert_eq!(
            item(json!({"status": "queued"})).state(),
            ItemState::InProgress {
                status: "queued",
                recognized: true
            }
        );
        assert_eq!(
            item(json!({"status": "rendering"})).state(),
            ItemState::InProgress {
                status: "rendering",
                recognized: false
            }
        );
        assert_eq!(
            item(json!({"status": "SUCCESS"})).state(),
            ItemState::Finished
        );
        assert_eq!(item(json!({"status": "failed"})).state(), ItemState::Failed);
        assert_eq!(
            item(json!({"status": "processing", "videoURL": "https://x/preview.mp4"})).state(),
            ItemState::InProgress {
                status: "processing",
                recognized: true
            },
            "a status word wins over an output field"
        );
        let both = item(json!({"resultIndex": 3, "imageUUID": "i"}));
        assert_eq!(both.result_key(0), "resultIndex:3");
        assert_eq!(
            item(json!({"videoUUID": "v", "mediaUUID": "m"})).result_key(0),
            "videoUUID:v"
        );
        assert_eq!(item(json!({"modelUUID": "m"})).result_key(0), "modelUUID:m");
        assert_eq!(
            item(json!({"mediaURL": "https://m"})).result_key(0),
            "url:https://m"
        );
        assert_eq!(item(json!({"text": "t"})).result_key(4), "position:4");
        assert!(
            ErrorItem {
                code: Some("taskNotFound".into()),
                ..ErrorItem::default()
            }
            .is_not_found()
        );
        assert!(
            ErrorItem {
                code: Some("taskExpired".into()),
                ..ErrorItem::default()
            }
            .is_not_found()
        );
        assert!(
            !ErrorItem {
                code: Some("taskCancelled".into()),
                ..ErrorItem::default()
            }
            .is_not_found()
        );
    }
}
