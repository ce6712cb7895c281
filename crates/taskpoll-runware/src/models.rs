//! Runware's wire types: the `{data, errors}` envelope, its items, and its error items.
//!
//! Everything is read leniently: either key of the envelope may be absent (or `null`),
//! a field of the wrong type reads as absent instead of failing the whole body, and
//! unknown fields are kept in `extra` maps. The singular `error` key (object or array)
//! and the legacy `errorId`/`errorMessage` form are understood too.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use taskpoll_http::lenient::Fields;

mod errors;
mod item;

pub(crate) use errors::write_detail;
pub use errors::{ErrorItem, Parameter};
pub use item::{DataItem, ItemState};

/// A response body: `{"data": [...], "errors": [...]}`, both keys optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Envelope {
    /// Items still processing or finished (and item-level failures).
    pub data: Vec<DataItem>,
    /// Failures (`errors` key). An empty array means no errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorItem>,
    /// The singular `error` key (object or array), as pre-stream HTTP errors and the
    /// legacy documentation send it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub error: Vec<ErrorItem>,
    /// Legacy (WebSocket era) `errorId` at the top level.
    #[serde(rename = "errorId", skip_serializing_if = "Option::is_none")]
    pub error_id: Option<Value>,
    /// Legacy `errorMessage` at the top level.
    #[serde(rename = "errorMessage", skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Any other top-level key.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut f = Fields::deserialize(d)?;
        Ok(Envelope {
            // Items that are not objects are skipped.
            data: one_or_many(f.take("data"))
                .filter_map(|v| serde_json::from_value(v).ok())
                .collect(),
            errors: one_or_many(f.take("errors"))
                .filter_map(ErrorItem::from_value)
                .collect(),
            error: one_or_many(f.take("error"))
                .filter_map(ErrorItem::from_value)
                .collect(),
            error_id: f.take("errorId"),
            error_message: f.text("errorMessage"),
            extra: f.rest(),
        })
    }
}

/// The values of a key sent as an array, as one value, or not at all (or `null`).
fn one_or_many(v: Option<Value>) -> impl Iterator<Item = Value> {
    let values: Vec<Value> = match v {
        Some(Value::Array(items)) => items,
        one => one.into_iter().collect(),
    };
    values.into_iter()
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope(v: Value) -> Envelope {
        serde_json::from_value(v).unwrap()
    }

    /// Serializes `value` and reads it back: the wire names, written once for each
    /// direction, must agree.
    fn round_trip<T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
        value: T,
    ) -> Value {
        let json = serde_json::to_value(&value).unwrap();
        assert_eq!(serde_json::from_value::<T>(json.clone()).unwrap(), value);
        json
    }

    fn full_error(parameter: Parameter) -> ErrorItem {
        ErrorItem {
            code: Some("invalidWidth".into()),
            message: Some("Width is too small.".into()),
            parameter: Some(parameter),
            task_type: Some("videoInference".into()),
            task_uuid: Some("t-1".into()),
            documentation: Some("https://docs".into()),
            status: Some("error".into()),
            error_id: Some(json!(19)),
            error_message: Some("legacy".into()),
            extra: json!({"min": 256}).as_object().cloned().unwrap(),
        }
    }

    fn full_item() -> DataItem {
        DataItem {
            task_type: Some("videoInference".into()),
            task_uuid: Some("t-1".into()),
            status: Some("success".into()),
            progress: Some(12.5),
            result_index: Some(2),
            video_uuid: Some("v".into()),
            video_url: Some("https://v".into()),
            image_uuid: Some("i".into()),
            image_url: Some("https://i".into()),
            audio_uuid: Some("a".into()),
            audio_url: Some("https://a".into()),
            media_uuid: Some("m".into()),
            media_url: Some("https://m".into()),
            seed: Some(u64::MAX),
            cost: Some(0.25),
            nsfw_content: Some(false),
            error: Some(full_error(Parameter::One("width".into()))),
            extra: json!({"text": "hello"}).as_object().cloned().unwrap(),
        }
    }

    #[test]
    fn error_item_round_trips() {
        let json = round_trip(full_error(Parameter::Many(vec![
            "width".into(),
            "height".into(),
        ])));
        assert_eq!(json.as_object().unwrap().len(), 10);
        round_trip(full_error(Parameter::One("width".into())));
    }

    #[test]
    fn data_item_round_trips() {
        let json = round_trip(full_item());
        assert_eq!(json.as_object().unwrap().len(), 18);
        assert_eq!(json["NSFWContent"], false);
    }

    #[test]
    fn envelope_round_trips() {
        let json = round_trip(Envelope {
            data: vec![full_item(), DataItem::default()],
            errors: vec![full_error(Parameter::One("width".into()))],
            error: vec![ErrorItem::new("insufficientCredits", "Top up.")],
            error_id: Some(json!("19")),
            error_message: Some("Invalid api key".into()),
            extra: json!({"requestId": "r-1"}).as_object().cloned().unwrap(),
        });
        assert_eq!(json.as_object().unwrap().len(), 6);
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
