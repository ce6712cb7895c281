//! Request checks: what an async submission and a `getResponse` must carry. Each
//! failed check is one error item (the first problem found), as Runware's
//! submit-time validation errors look (`code`, `message`, `parameter`, `type`,
//! `documentation`, `taskType`, `taskUUID`, and `allowedValues`/`min`/`max` where
//! they apply).

use serde_json::{Map, Value, json};

use super::RunwareSimConfig;
use super::spec::TaskType;
use super::wire::{doc_link, error_item, number};

/// A submission that passed the checks.
#[derive(Debug, Clone)]
pub(crate) struct Submission {
    pub(crate) task_type: TaskType,
    pub(crate) uuid: String,
    pub(crate) results: u32,
    pub(crate) include_cost: bool,
    /// Upscale or background removal given the legacy `inputImage` (not `inputs.image`).
    pub(crate) legacy_image_fields: bool,
    /// A model upload's `air`.
    pub(crate) air: Option<String>,
}

struct Problem<'a> {
    task: &'a Map<String, Value>,
    task_type: &'a str,
}

impl Problem<'_> {
    fn error(
        &self,
        code: &str,
        message: &str,
        parameter: &str,
        kind: &str,
        more: &[(&str, Value)],
    ) -> Value {
        let mut fields = vec![
            ("parameter", json!(parameter)),
            ("type", json!(kind)),
            (
                "documentation",
                json!(doc_link(self.task_type, Some(parameter))),
            ),
            ("taskType", json!(self.task_type)),
        ];
        if let Some(uuid) = self.task.get("taskUUID").and_then(Value::as_str) {
            fields.push(("taskUUID", json!(uuid)));
        }
        fields.extend(more.iter().cloned());
        error_item(code, message, &fields)
    }

    fn missing(&self, parameter: &str, kind: &str) -> Value {
        self.error(
            &capitalized("missing", parameter),
            &format!("Missing required parameter: {parameter}."),
            parameter,
            kind,
            &[],
        )
    }
}

/// Checks the `taskUUID` of any task; returns it.
pub(crate) fn task_uuid(task: &Map<String, Value>, task_type: &str) -> Result<String, Value> {
    let p = Problem { task, task_type };
    match task.get("taskUUID") {
        None | Some(Value::Null) => Err(p.missing("taskUUID", "string")),
        Some(Value::String(s)) if uuid::Uuid::parse_str(s).is_ok() => Ok(s.clone()),
        Some(_) => Err(p.error(
            "invalidTaskUUID",
            "Invalid value for taskUUID parameter. It must be a UUID (v4 recommended).",
            "taskUUID",
            "string",
            &[],
        )),
    }
}

fn capitalized(prefix: &str, parameter: &str) -> String {
    let mut code = String::from(prefix);
    let mut chars = parameter.chars();
    if let Some(c) = chars.next() {
        code.push(c.to_ascii_uppercase());
        code.push_str(chars.as_str());
    }
    code
}

impl Problem<'_> {
    /// `parameter` must be a non-empty string when present; `Ok(None)` when absent.
    fn optional_string(&self, parameter: &str) -> Result<Option<String>, Value> {
        match self.task.get(parameter) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
            Some(_) => Err(self.error(
                &capitalized("invalid", parameter),
                &format!("Invalid value for {parameter} parameter. It must be a non-empty string."),
                parameter,
                "string",
                &[],
            )),
        }
    }

    /// `parameter` must be a non-empty string.
    fn required_string(&self, parameter: &str) -> Result<String, Value> {
        self.optional_string(parameter)?
            .ok_or_else(|| self.missing(parameter, "string"))
    }
}

/// Checks an async submission of any task type the simulator serves.
///
/// - `taskUUID` a UUID; `deliveryMethod` `async` (video defaults to async, every
///   other type to sync, which is refused).
/// - `model`: required for video, image and audio; `positivePrompt`: required for
///   image, optional for video (image-to-video) and audio (speech models take
///   `speech`), a non-empty string when present.
/// - Upscale and background removal: `inputs.image` (results in
///   `mediaUUID`/`mediaURL`) or the legacy `inputImage` (results in
///   `imageUUID`/`imageURL`).
/// - Model upload: `air`.
/// - `numberResults` 1 to `max_results` where the type takes it; upscale, background
///   removal and model upload refuse it (`unknownParameter`).
/// - `includeCost` a boolean; video `duration` one of `allowed_durations`.
pub(crate) fn submission(
    task: &Map<String, Value>,
    task_type: TaskType,
    config: &RunwareSimConfig,
) -> Result<Submission, Value> {
    let type_name = task_type.as_str();
    let p = Problem {
        task,
        task_type: type_name,
    };
    let uuid = task_uuid(task, type_name)?;

    // Runware's defaults: video is async, image (and, as far as is known, every other
    // type) is sync.
    let default_delivery = match task_type {
        TaskType::VideoInference => "async",
        _ => "sync",
    };
    let delivery = task
        .get("deliveryMethod")
        .map_or(Some(default_delivery), Value::as_str);
    if delivery != Some("async") {
        return Err(p.error(
            "invalidDeliveryMethod",
            "Invalid value for deliveryMethod parameter. This simulator serves asynchronous delivery only: send \"async\" and poll with getResponse.",
            "deliveryMethod",
            "string",
            &[("allowedValues", json!(["async"]))],
        ));
    }

    let mut legacy_image_fields = false;
    let mut air = None;
    match task_type {
        TaskType::ImageInference => {
            p.required_string("model")?;
            p.required_string("positivePrompt")?;
        }
        TaskType::VideoInference | TaskType::AudioInference => {
            p.required_string("model")?;
            p.optional_string("positivePrompt")?;
        }
        TaskType::Upscale | TaskType::RemoveBackground => {
            p.optional_string("model")?;
            let image = task
                .get("inputs")
                .and_then(|i| i.get("image"))
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty());
            if image.is_none() {
                legacy_image_fields = p.optional_string("inputImage")?.is_some();
                if !legacy_image_fields {
                    return Err(p.error(
                        "missingInputImage",
                        "Missing required parameter: inputs.image (an image UUID, URL, data URI or base64 data).",
                        "inputs.image",
                        "string",
                        &[],
                    ));
                }
            }
        }
        TaskType::ModelUpload => {
            air = Some(p.required_string("air")?);
        }
    }

    let results = if task_type.takes_number_results() {
        let max = config.max_results.max(1);
        let results = match task.get("numberResults") {
            None | Some(Value::Null) => Some(1),
            Some(v) => v.as_u64().filter(|n| (1..=u64::from(max)).contains(n)),
        };
        let Some(results) = results.and_then(|n| u32::try_from(n).ok()) else {
            return Err(p.error(
                "invalidNumberResults",
                &format!("Invalid value for numberResults parameter. It must be an integer between 1 and {max}."),
                "numberResults",
                "integer",
                &[("min", json!(1)), ("max", json!(max))],
            ));
        };
        results
    } else {
        if task.contains_key("numberResults") {
            return Err(p.error(
                "unknownParameter",
                &format!("Unknown parameter numberResults: {type_name} produces one result."),
                "numberResults",
                "integer",
                &[],
            ));
        }
        1
    };

    let include_cost = match task.get("includeCost") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(p.error(
                "invalidIncludeCost",
                "Invalid value for includeCost parameter. It must be a boolean.",
                "includeCost",
                "boolean",
                &[],
            ));
        }
    };

    if task_type == TaskType::VideoInference
        && let Some(d) = task.get("duration").filter(|v| !v.is_null())
    {
        let allowed = &config.allowed_durations;
        let ok = d
            .as_f64()
            .is_some_and(|d| allowed.is_empty() || allowed.iter().any(|a| (a - d).abs() < 1e-9));
        if !ok {
            let values: Vec<Value> = allowed.iter().copied().map(number).collect();
            return Err(p.error(
                "unsupportedDuration",
                "Invalid value for duration parameter. This model supports only the listed durations.",
                "duration",
                "float",
                &[("allowedValues", Value::Array(values))],
            ));
        }
    }

    Ok(Submission {
        task_type,
        uuid,
        results,
        include_cost,
        legacy_image_fields,
        air,
    })
}
