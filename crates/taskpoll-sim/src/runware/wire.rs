//! Runware's JSON bodies: the `{data, errors}` envelope, result items, error items.

use serde_json::{Map, Value, json};

use super::RunwareSimConfig;
use super::spec::TaskType;
use super::task::{ItemState, Task};

const TASK_RESPONSES_DOC: &str = "https://runware.ai/docs/en/utilities/task-responses";

/// The documentation link of a task type's parameter (`#request-<param>`).
pub(crate) fn doc_link(task_type: &str, parameter: Option<&str>) -> String {
    let page = match task_type {
        "videoInference" => "https://runware.ai/docs/en/video-inference/api-reference",
        "imageInference" => "https://runware.ai/docs/en/image-inference/api-reference",
        _ => TASK_RESPONSES_DOC,
    };
    match parameter {
        Some(p) => format!("{page}#request-{}", p.to_ascii_lowercase()),
        None => page.to_owned(),
    }
}

/// What one POST answers, built up task by task.
#[derive(Debug, Default)]
pub(crate) struct Envelope {
    pub(crate) data: Vec<Value>,
    pub(crate) errors: Vec<Value>,
    /// Send `data` even when empty (ACKs, submit-time validation errors).
    pub(crate) force_data: bool,
}

impl Envelope {
    /// `{"data":[...]}` plus `errors` only when there are some (never `"errors": []`).
    pub(crate) fn into_body(self) -> Value {
        let mut body = Map::new();
        if !self.data.is_empty() || self.force_data || self.errors.is_empty() {
            body.insert("data".into(), Value::Array(self.data));
        }
        if !self.errors.is_empty() {
            body.insert("errors".into(), Value::Array(self.errors));
        }
        Value::Object(body)
    }
}

/// An error item: `code`, `message`, then whatever else is given.
pub(crate) fn error_item(code: &str, message: &str, fields: &[(&str, Value)]) -> Value {
    let mut item = Map::new();
    item.insert("code".into(), json!(code));
    item.insert("message".into(), json!(message));
    for (k, v) in fields {
        item.insert((*k).to_owned(), v.clone());
    }
    Value::Object(item)
}

/// 401: the key is missing or wrong.
pub(crate) fn invalid_api_key() -> Value {
    json!({"errors": [error_item(
        "invalidApiKey",
        "Invalid API key. Get an API key from https://my.runware.ai/keys.",
        &[("parameter", json!("apiKey")), ("taskType", json!("authentication"))],
    )]})
}

/// The errors body of an injected 5xx.
pub(crate) fn server_error(status: u16) -> Value {
    let (code, message) = match status {
        500 => (
            "internalServerError",
            "An unexpected error occurred. Please try again.",
        ),
        502 => (
            "badGateway",
            "The server received an invalid response upstream. Please try again.",
        ),
        503 => (
            "serviceUnavailable",
            "The service is temporarily at capacity. Please retry shortly.",
        ),
        504 => (
            "gatewayTimeout",
            "The maximum queue wait was exceeded. Please retry shortly.",
        ),
        _ => (
            "serverError",
            "The server failed to process the request. Please try again.",
        ),
    };
    json!({"errors": [error_item(code, message, &[])]})
}

/// The errors body of a 429.
pub(crate) fn rate_limited() -> Value {
    json!({"errors": [error_item(
        "rateLimitExceeded",
        "Queue capacity exceeded. Please reduce the request rate and retry.",
        &[],
    )]})
}

/// The answer to an `authentication` element sent alone.
pub(crate) fn authenticated() -> Value {
    json!({"taskType": "authentication", "connectionSessionUUID": uuid::Uuid::new_v4().to_string()})
}

/// The ACK of an accepted async submission (one per task, whatever `numberResults`).
pub(crate) fn ack(task_type: &str, task_uuid: &str) -> Value {
    json!({"taskType": task_type, "taskUUID": task_uuid})
}

/// `conflictTaskUUID`: a task with this UUID exists (`existing` is its type).
pub(crate) fn conflict(task_type: &str, task_uuid: &str, existing: TaskType) -> Value {
    error_item(
        "conflictTaskUUID",
        "A task with this taskUUID already exists.",
        &[
            ("taskType", json!(task_type)),
            ("taskUUID", json!(task_uuid)),
            (
                "context",
                json!({"taskType": existing.as_str(), "taskUUID": task_uuid, "deliveryMethod": "async"}),
            ),
        ],
    )
}

/// The answer to `getResponse` for a task the server does not know (or no longer).
pub(crate) fn unknown_task(code: &str, task_uuid: &str) -> Value {
    error_item(
        code,
        "No active task was found for this taskUUID; it may have expired.",
        &[
            ("taskType", json!("getResponse")),
            ("taskUUID", json!(task_uuid)),
        ],
    )
}

/// A result's media: the prefix of its id and URL keys (`imageUUID`, `imageURL`),
/// where its URL points (`https://im.runware.ai/{dir}/{uuid}.{ext}`), its cost, and
/// whether `seed` and `NSFWContent` are shown.
struct Output {
    kind: &'static str,
    dir: &'static str,
    ext: &'static str,
    cost: f64,
    seed: bool,
    nsfw: bool,
}

impl Output {
    fn url(&self, uuid: &str) -> String {
        format!("https://im.runware.ai/{}/{uuid}.{}", self.dir, self.ext)
    }
}

fn output(task: &Task) -> Output {
    use TaskType::{
        AudioInference as Audio, ImageInference as Image, ModelUpload, RemoveBackground, Upscale,
        VideoInference as Video,
    };
    let (kind, dir, ext, cost) = match task.task_type {
        Video => ("video", "video/ws/0.5/vi", "mp4", 0.18),
        Image => ("image", "image/ws/2/ii", "jpg", 0.0013),
        Audio => ("audio", "audio/ws/1/ai", "mp3", 0.02),
        Upscale | RemoveBackground if task.legacy_image_fields => {
            ("image", "image/ws/2/ii", "png", 0.0006)
        }
        Upscale | RemoveBackground | ModelUpload => ("media", "media/ws/1/mr", "png", 0.0006),
    };
    Output {
        kind,
        dir,
        ext,
        cost,
        seed: matches!(task.task_type, Video | Image | Audio),
        nsfw: matches!(task.task_type, Video | Image),
    }
}

/// The status word of a model upload still under way, by its progress: `validated`,
/// `downloaded`, `optimized`, then `stored` (`ready` once done).
fn upload_stage(progress: u32) -> &'static str {
    match progress {
        0..25 => "validated",
        25..50 => "downloaded",
        50..75 => "optimized",
        _ => "stored",
    }
}

/// Appends a poll's items to `out`: every result in a stable order in `data`, the
/// failure in `errors` (or, with item-level errors, as a `data` item).
pub(crate) fn poll_items(
    task: &Task,
    items: &[ItemState],
    config: &RunwareSimConfig,
    out: &mut Envelope,
) {
    let task_type = task.task_type.as_str();
    let upload = task.task_type == TaskType::ModelUpload;
    for (i, state) in items.iter().enumerate() {
        let mut item = Map::new();
        item.insert("taskType".into(), json!(task_type));
        item.insert("taskUUID".into(), json!(task.uuid));
        match *state {
            ItemState::Processing { progress } if upload => {
                item.insert("status".into(), json!(upload_stage(progress)));
                if task.shows_progress() {
                    item.insert("progress".into(), json!(progress));
                }
            }
            ItemState::Processing { progress } => {
                item.insert("status".into(), json!("processing"));
                if task.shows_progress() {
                    item.insert("progress".into(), json!(progress));
                }
            }
            ItemState::Success(_) if upload => {
                item.insert("status".into(), json!("ready"));
                let air = task.air.as_deref().unwrap_or("runware:sim@1");
                item.insert("air".into(), json!(air));
            }
            ItemState::Success(r) => {
                let Some(slot) = task.slots.get(r) else {
                    continue;
                };
                let o = output(task);
                item.insert("status".into(), json!("success"));
                item.insert(format!("{}UUID", o.kind), json!(slot.media_uuid));
                item.insert(format!("{}URL", o.kind), json!(o.url(&slot.media_uuid)));
                if o.seed {
                    item.insert("seed".into(), json!(slot.seed));
                }
                if o.nsfw {
                    item.insert("NSFWContent".into(), json!(false));
                }
                if task.include_cost {
                    item.insert("cost".into(), json!(o.cost));
                }
            }
            ItemState::Failed => {
                let (code, message) = task
                    .failure
                    .as_ref()
                    .map(|f| (f.code.as_str(), f.message.as_str()))
                    .unwrap_or(("taskFailed", "The task failed."));
                if config.item_errors {
                    let word = if upload { "failed" } else { "error" };
                    item.insert("status".into(), json!(word));
                    item.insert("error".into(), json!({"code": code, "message": message}));
                } else {
                    out.errors.push(error_item(
                        code,
                        message,
                        &[
                            ("status", json!("error")),
                            ("taskType", json!(task_type)),
                            ("taskUUID", json!(task.uuid)),
                            ("documentation", json!(doc_link(task_type, None))),
                        ],
                    ));
                    continue;
                }
            }
        }
        if config.result_index {
            item.insert("resultIndex".into(), json!(i));
        }
        out.data.push(Value::Object(item));
    }
}

/// A number as JSON: an integer when it is whole.
pub(crate) fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}
