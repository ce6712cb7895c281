//! Runware's `data` items: a result of a task, a placeholder while it runs, or an
//! item-level failure, and what each says about its result ([`ItemState`]).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use taskpoll_http::lenient::Fields;

use super::{ErrorItem, one_or_many};

/// One `data` item: a result of the task (or a placeholder while it is processing, or
/// an item-level failure).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DataItem {
    /// The original task type (`videoInference`, ...), not `getResponse`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_type: Option<String>,
    /// The task's UUID, shared by all its results.
    #[serde(rename = "taskUUID", skip_serializing_if = "Option::is_none")]
    pub task_uuid: Option<String>,
    /// `processing`, `success`, `error` (other in-progress words are tolerated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Progress in percent, while processing (not every task reports it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<f64>,
    /// The result's index among the task's results, when the server sends it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_index: Option<u64>,
    /// Video result id.
    #[serde(rename = "videoUUID", skip_serializing_if = "Option::is_none")]
    pub video_uuid: Option<String>,
    /// Video URL.
    #[serde(rename = "videoURL", skip_serializing_if = "Option::is_none")]
    pub video_url: Option<String>,
    /// Image result id.
    #[serde(rename = "imageUUID", skip_serializing_if = "Option::is_none")]
    pub image_uuid: Option<String>,
    /// Image URL.
    #[serde(rename = "imageURL", skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// Audio result id.
    #[serde(rename = "audioUUID", skip_serializing_if = "Option::is_none")]
    pub audio_uuid: Option<String>,
    /// Audio URL.
    #[serde(rename = "audioURL", skip_serializing_if = "Option::is_none")]
    pub audio_url: Option<String>,
    /// Generic media result id (upscale, background removal, ...).
    #[serde(rename = "mediaUUID", skip_serializing_if = "Option::is_none")]
    pub media_uuid: Option<String>,
    /// Generic media URL.
    #[serde(rename = "mediaURL", skip_serializing_if = "Option::is_none")]
    pub media_url: Option<String>,
    /// The seed used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The cost, when the task was submitted with `includeCost`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// Whether the safety checker flagged the result.
    #[serde(rename = "NSFWContent", skip_serializing_if = "Option::is_none")]
    pub nsfw_content: Option<bool>,
    /// The item-level failure (`status: "error"` with a nested `error{code, message}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorItem>,
    /// Every other field (`videoBase64Data`, `text`, `outputs`, `modelUUID`, a
    /// `modelUpload`'s `air`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl<'de> Deserialize<'de> for DataItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut f = Fields::deserialize(d)?;
        Ok(DataItem {
            task_type: f.text("taskType"),
            task_uuid: f.text("taskUUID"),
            status: f.text("status"),
            progress: f.float("progress"),
            result_index: f.unsigned("resultIndex"),
            video_uuid: f.text("videoUUID"),
            video_url: f.text("videoURL"),
            image_uuid: f.text("imageUUID"),
            image_url: f.text("imageURL"),
            audio_uuid: f.text("audioUUID"),
            audio_url: f.text("audioURL"),
            media_uuid: f.text("mediaUUID"),
            media_url: f.text("mediaURL"),
            seed: f.unsigned("seed"),
            cost: f.float("cost"),
            nsfw_content: f.boolean("NSFWContent"),
            // An object, or an array of which the first usable one counts.
            error: one_or_many(f.take("error")).find_map(ErrorItem::from_value),
            extra: f.rest(),
        })
    }
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
