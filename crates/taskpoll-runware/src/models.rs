//! Runware's wire types: the `{data, errors}` envelope, its items, and its error items.
//!
//! Everything is read leniently: either key of the envelope may be absent (or `null`),
//! a field of the wrong type reads as absent instead of failing the whole body, and
//! unknown fields are kept in `extra` maps. The singular `error` key (object or array)
//! and the legacy `errorId`/`errorMessage` form are understood too.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

mod errors;

pub use errors::{ErrorItem, Parameter};

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

/// One `data` item: a result of the task (or a placeholder while it is processing, or
/// an item-level failure).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DataItem {
    /// The original task type (`videoInference`, ...), not `getResponse`.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub task_type: Option<String>,
    /// The task's UUID, shared by all its results.
    #[serde(
        rename = "taskUUID",
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub task_uuid: Option<String>,
    /// `processing`, `success`, `error` (other in-progress words are tolerated).
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<String>,
    /// Progress in percent, while processing (not every task reports it).
    #[serde(
        default,
        deserialize_with = "lenient::f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub progress: Option<f64>,
    /// The result's index among the task's results, when the server sends it.
    #[serde(
        default,
        deserialize_with = "lenient::u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub result_index: Option<u64>,
    /// Video result id.
    #[serde(
        rename = "videoUUID",
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub video_uuid: Option<String>,
    /// Video URL.
    #[serde(
        rename = "videoURL",
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub video_url: Option<String>,
    /// Image result id.
    #[serde(
        rename = "imageUUID",
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub image_uuid: Option<String>,
    /// Image URL.
    #[serde(
        rename = "imageURL",
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub image_url: Option<String>,
    /// Audio result id.
    #[serde(
        rename = "audioUUID",
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub audio_uuid: Option<String>,
    /// Audio URL.
    #[serde(
        rename = "audioURL",
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub audio_url: Option<String>,
    /// Generic media result id (upscale, background removal, ...).
    #[serde(
        rename = "mediaUUID",
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub media_uuid: Option<String>,
    /// Generic media URL.
    #[serde(
        rename = "mediaURL",
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub media_url: Option<String>,
    /// The seed used.
    #[serde(
        default,
        deserialize_with = "lenient::u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub seed: Option<u64>,
    /// The cost, when the task was submitted with `includeCost`.
    #[serde(
        default,
        deserialize_with = "lenient::f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub cost: Option<f64>,
    /// Whether the safety checker flagged the result.
    #[serde(
        rename = "NSFWContent",
        default,
        deserialize_with = "lenient::bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub nsfw_content: Option<bool>,
    /// The item-level failure (`status: "error"` with a nested `error{code, message}`).
    #[serde(
        default,
        deserialize_with = "nested_error",
        skip_serializing_if = "Option::is_none"
    )]
    pub error: Option<ErrorItem>,
    /// Every other field (`videoBase64Data`, `text`, `outputs`, `modelUUID`, a
    /// `modelUpload`'s `air`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn nested_error<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ErrorItem>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items.into_iter().find_map(ErrorItem::from_value),
        other => ErrorItem::from_value(other),
    })
}

/// The in-progress words Runware uses (and older documentation and SDKs used); the
/// last four are `modelUpload`'s stages before `ready`.
const IN_PROGRESS: [&str; 10] = [
    "processing",
    "pending",
    "queued",
    "scheduled",
    "waiting",
    "started",
    "validated",
    "downloaded",
    "optimized",
    "stored",
];

/// What a data item says about its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState<'a> {
    /// Still being generated; the status word, and whether it is a known one.
    InProgress {
        /// The word (`processing` when the item has none).
        status: &'a str,
        /// Whether Runware is known to use it.
        recognized: bool,
    },
    /// A finished result.
    Finished,
    /// A failed generation.
    Failed,
}

impl DataItem {
    /// What this item says: failed (`status` `error`/`failed`, a nested `error`, or a
    /// legacy `errorId`), finished (`status` `success`, `ready` (a `modelUpload`'s
    /// end), or no status but an output field), or in progress.
    pub fn state(&self) -> ItemState<'_> {
        let status = self.status.as_deref().map(str::trim);
        let is = |w: &str| status.is_some_and(|s| s.eq_ignore_ascii_case(w));
        if is("error") || is("failed") || self.error.is_some() || self.extra.contains_key("errorId")
        {
            return ItemState::Failed;
        }
        if is("success") || is("ready") || (status.is_none() && self.has_output()) {
            return ItemState::Finished;
        }
        let word = status.unwrap_or("processing");
        ItemState::InProgress {
            status: word,
            recognized: IN_PROGRESS.iter().any(|w| w.eq_ignore_ascii_case(word)),
        }
    }

    /// Whether the item carries an output: a media UUID or URL, or any field ending in
    /// `URL`, `Base64Data` or `DataURI`, or `text`, `structuredData`, `outputs`, `air`,
    /// `result` (as the Python SDK reads them).
    pub fn has_output(&self) -> bool {
        self.media_uuid().is_some()
            || self.url().is_some()
            || self.extra.iter().any(|(k, v)| {
                !v.is_null()
                    && (k.ends_with("URL")
                        || k.ends_with("Base64Data")
                        || k.ends_with("DataURI")
                        || matches!(
                            k.as_str(),
                            "text" | "structuredData" | "outputs" | "air" | "result"
                        ))
            })
    }

    /// The result's own id: the first present of `imageUUID`, `videoUUID`, `audioUUID`,
    /// `mediaUUID`.
    pub fn media_uuid(&self) -> Option<&str> {
        [
            &self.image_uuid,
            &self.video_uuid,
            &self.audio_uuid,
            &self.media_uuid,
        ]
        .into_iter()
        .find_map(|v| v.as_deref())
    }

    /// The result's URL: the first present of `videoURL`, `imageURL`, `audioURL`,
    /// `mediaURL`.
    pub fn url(&self) -> Option<&str> {
        [
            &self.video_url,
            &self.image_url,
            &self.audio_url,
            &self.media_url,
        ]
        .into_iter()
        .find_map(|v| v.as_deref())
    }

    /// The key that tells this result apart from the task's others (see the crate
    /// docs): `resultIndex`, else the first present of `imageUUID`, `videoUUID`,
    /// `audioUUID`, `modelUUID`, `maskImageUUID`, `guideImageUUID`, `mediaUUID`, else its
    /// URL, else its position among the task's items.
    pub fn result_key(&self, position: usize) -> String {
        if let Some(i) = self.result_index {
            return format!("resultIndex:{i}");
        }
        let extra = |k: &str| self.extra.get(k).and_then(Value::as_str);
        let ids = [
            ("imageUUID", self.image_uuid.as_deref()),
            ("videoUUID", self.video_uuid.as_deref()),
            ("audioUUID", self.audio_uuid.as_deref()),
            ("modelUUID", extra("modelUUID")),
            ("maskImageUUID", extra("maskImageUUID")),
            ("guideImageUUID", extra("guideImageUUID")),
            ("mediaUUID", self.media_uuid.as_deref()),
        ];
        if let Some((name, id)) = ids.iter().find_map(|(n, v)| v.map(|v| (n, v))) {
            return format!("{name}:{id}");
        }
        if let Some(url) = self.url() {
            return format!("url:{url}");
        }
        format!("position:{position}")
    }

    /// The failure of an item-level error: its nested `error`, or one made from the
    /// item (legacy `errorId`/`errorMessage`, or just its status).
    pub fn failure(&self) -> ErrorItem {
        let mut e = self.error.clone().unwrap_or_default();
        if e.code.is_none() && e.error_id.is_none() {
            e.error_id = self.extra.get("errorId").cloned();
        }
        if e.message.is_none() && e.error_message.is_none() {
            e.error_message = self
                .extra
                .get("errorMessage")
                .and_then(Value::as_str)
                .map(str::to_owned);
        }
        if e.task_type.is_none() {
            e.task_type.clone_from(&self.task_type);
        }
        if e.task_uuid.is_none() {
            e.task_uuid.clone_from(&self.task_uuid);
        }
        e
    }
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
