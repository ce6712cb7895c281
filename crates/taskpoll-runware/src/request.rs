//! Typed async submissions: [`VideoInference`] and [`ImageInference`].
//!
//! Each has the common fields typed and an `extra` map for every other parameter of
//! Runware's API reference. The client adds `taskType`, a fresh `taskUUID` (UUID v4,
//! unless one is set) and `deliveryMethod: "async"`; those and `numberResults` take
//! precedence over the same keys in `extra`.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::error::RunwareError;

/// A `videoInference` task.
///
/// ```
/// use taskpoll_runware::VideoInference;
/// let video = VideoInference::new("klingai:5@3", "A red fox running through fresh snow")
///     .number_results(2)
///     .duration(5.0)
///     .param("fps", 24);
/// assert_eq!(video.number_results, 2);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoInference {
    /// The model AIR id (`klingai:5@3`).
    pub model: String,
    /// The prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub positive_prompt: Option<String>,
    /// What to avoid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub negative_prompt: Option<String>,
    /// Length in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Width in pixels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height in pixels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// The seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// `mp4`, `webm`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_format: Option<String>,
    /// How many videos (`numberResults`, default 1).
    pub number_results: u32,
    /// Ask for `cost` on each result (default true).
    pub include_cost: bool,
    /// The `taskUUID` to use (a fresh UUID v4 when `None`). Set it to make a
    /// submission idempotent: resubmitting answers `conflictTaskUUID`, which counts
    /// as accepted.
    #[serde(skip)]
    pub task_uuid: Option<uuid::Uuid>,
    /// Every other parameter, sent as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An `imageInference` task.
///
/// ```
/// use taskpoll_runware::ImageInference;
/// let image = ImageInference::new("runware:100@1", "A lighthouse on a cliff, watercolor")
///     .size(1024, 1024)
///     .number_results(4);
/// assert_eq!(image.width, Some(1024));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageInference {
    /// The model AIR id (`runware:100@1`).
    pub model: String,
    /// The prompt.
    pub positive_prompt: String,
    /// What to avoid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub negative_prompt: Option<String>,
    /// Width in pixels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height in pixels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Sampling steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<u32>,
    /// Guidance scale (`CFGScale`).
    #[serde(rename = "CFGScale", skip_serializing_if = "Option::is_none")]
    pub cfg_scale: Option<f64>,
    /// The seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// `JPG`, `PNG`, `WEBP`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_format: Option<String>,
    /// How many images (`numberResults`, default 1).
    pub number_results: u32,
    /// Ask for `cost` on each result (default true).
    pub include_cost: bool,
    /// The `taskUUID` to use (a fresh UUID v4 when `None`).
    #[serde(skip)]
    pub task_uuid: Option<uuid::Uuid>,
    /// Every other parameter, sent as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The setters both typed requests share, and their task object of type `$task_type`.
macro_rules! common_methods {
    ($t:ty, $task_type:literal) => {
        impl $t {
            /// The task object of its submission.
            pub(crate) fn async_task(&self) -> Result<AsyncTask, RunwareError> {
                async_task(
                    $task_type,
                    params(self)?,
                    self.number_results,
                    self.task_uuid,
                )
            }

            /// Sets `numberResults`.
            pub fn number_results(mut self, n: u32) -> Self {
                self.number_results = n;
                self
            }

            /// Sets `includeCost`.
            pub fn include_cost(mut self, on: bool) -> Self {
                self.include_cost = on;
                self
            }

            /// Sets `negativePrompt`.
            pub fn negative_prompt(mut self, prompt: impl Into<String>) -> Self {
                self.negative_prompt = Some(prompt.into());
                self
            }

            /// Sets `width` and `height`.
            pub fn size(mut self, width: u32, height: u32) -> Self {
                self.width = Some(width);
                self.height = Some(height);
                self
            }

            /// Sets `seed`.
            pub fn seed(mut self, seed: u64) -> Self {
                self.seed = Some(seed);
                self
            }

            /// Uses this `taskUUID` instead of a fresh one.
            pub fn task_uuid(mut self, uuid: uuid::Uuid) -> Self {
                self.task_uuid = Some(uuid);
                self
            }

            /// Sets any other parameter.
            pub fn param(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
                self.extra.insert(key.into(), value.into());
                self
            }
        }
    };
}

common_methods!(VideoInference, "videoInference");
common_methods!(ImageInference, "imageInference");

impl VideoInference {
    /// A video of `model` from `prompt`: one result, with cost.
    pub fn new(model: impl Into<String>, prompt: impl Into<String>) -> Self {
        VideoInference {
            positive_prompt: Some(prompt.into()),
            ..VideoInference::without_prompt(model)
        }
    }

    /// A video of `model` without a prompt (image-to-video: give the frames or
    /// inputs with [`param`](VideoInference::param)): one result, with cost.
    ///
    /// ```
    /// use taskpoll_runware::VideoInference;
    /// let video = VideoInference::without_prompt("klingai:5@3").param(
    ///     "frameImages",
    ///     serde_json::json!([{"inputImage": "https://example.com/first.png", "frame": "first"}]),
    /// );
    /// assert!(video.positive_prompt.is_none());
    /// ```
    pub fn without_prompt(model: impl Into<String>) -> Self {
        VideoInference {
            model: model.into(),
            positive_prompt: None,
            negative_prompt: None,
            duration: None,
            width: None,
            height: None,
            seed: None,
            output_format: None,
            number_results: 1,
            include_cost: true,
            task_uuid: None,
            extra: Map::new(),
        }
    }

    /// Sets `duration` in seconds.
    pub fn duration(mut self, seconds: f64) -> Self {
        self.duration = Some(seconds);
        self
    }
}

impl ImageInference {
    /// An image of `model` from `prompt`: one result, with cost.
    pub fn new(model: impl Into<String>, prompt: impl Into<String>) -> Self {
        ImageInference {
            model: model.into(),
            positive_prompt: prompt.into(),
            negative_prompt: None,
            width: None,
            height: None,
            steps: None,
            cfg_scale: None,
            seed: None,
            output_format: None,
            number_results: 1,
            include_cost: true,
            task_uuid: None,
            extra: Map::new(),
        }
    }
}

/// A task object ready to send: the body element, its `taskUUID`, and `numberResults`.
#[derive(Debug, Clone)]
pub(crate) struct AsyncTask {
    pub(crate) object: Map<String, Value>,
    pub(crate) uuid: String,
    pub(crate) task_type: String,
    pub(crate) number_results: u32,
}

/// Task types that make one result and take no `numberResults` (as Runware's Python
/// SDK types them): it is not sent for them.
const SINGLE_RESULT_TYPES: [&str; 3] = ["upscale", "removeBackground", "modelUpload"];

/// Builds the task object of an async submission from its parameters.
/// `numberResults` is sent, except for the types that take none
/// (`upscale`, `removeBackground`, `modelUpload`), which must ask for one result.
pub(crate) fn async_task(
    task_type: &str,
    params: Map<String, Value>,
    number_results: u32,
    uuid: Option<uuid::Uuid>,
) -> Result<AsyncTask, RunwareError> {
    if task_type.trim().is_empty() {
        return Err(RunwareError::InvalidRequest("taskType is empty".into()));
    }
    if number_results == 0 {
        return Err(RunwareError::InvalidRequest(
            "numberResults must be at least 1".into(),
        ));
    }
    let single = SINGLE_RESULT_TYPES.contains(&task_type);
    if single && number_results != 1 {
        return Err(RunwareError::InvalidRequest(format!(
            "{task_type} makes one result: numberResults must be 1"
        )));
    }
    let uuid = uuid.unwrap_or_else(uuid::Uuid::new_v4).to_string();
    let mut object = params;
    object.insert("taskType".into(), json!(task_type));
    object.insert("taskUUID".into(), json!(uuid));
    object.insert("deliveryMethod".into(), json!("async"));
    if single {
        object.remove("numberResults");
    } else {
        object.insert("numberResults".into(), json!(number_results));
    }
    Ok(AsyncTask {
        object,
        uuid,
        task_type: task_type.to_owned(),
        number_results,
    })
}

/// The parameters of a typed request, as a JSON object.
fn params<T: Serialize>(request: &T) -> Result<Map<String, Value>, RunwareError> {
    match serde_json::to_value(request).map_err(unserializable)? {
        Value::Object(map) => Ok(map),
        _ => Err(RunwareError::InvalidRequest(
            "the request did not serialize to a JSON object".into(),
        )),
    }
}

/// The error of a request that could not be serialized.
pub(crate) fn unserializable(e: serde_json::Error) -> RunwareError {
    RunwareError::InvalidRequest(format!("the request could not be serialized: {e}"))
}
