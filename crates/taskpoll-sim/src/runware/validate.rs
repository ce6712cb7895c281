//! Request checks: what an async submission and a `getResponse` must carry. Each
//! failed check is one error item (the first problem found), as Runware's
//! submit-time validation errors look (`code`, `message`, `parameter`, `type`,
//! `documentation`, `taskType`, `taskUUID`, and `allowedValues`/`min`/`max` where
//! they apply).

use serde_json::{Map, Value, json};

use super::RunwareSimConfig;
use super::spec::MediaKind;
use super::wire::{doc_link, error_item, number};

/// A submission that passed the checks.
#[derive(Debug, Clone)]
pub(crate) struct Submission {
    pub(crate) kind: MediaKind,
    pub(crate) uuid: String,
    pub(crate) results: u32,
    pub(crate) include_cost: bool,
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
        let mut code = String::from("missing");
        let mut chars = parameter.chars();
        if let Some(c) = chars.next() {
            code.push(c.to_ascii_uppercase());
            code.push_str(chars.as_str());
        }
        self.error(
            &code,
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

/// Checks an async `videoInference` / `imageInference` submission.
pub(crate) fn submission(
    task: &Map<String, Value>,
    kind: MediaKind,
    config: &RunwareSimConfig,
) -> Result<Submission, Value> {
    let task_type = kind.task_type();
    let p = Problem { task, task_type };
    let uuid = task_uuid(task, task_type)?;

    // Runware's defaults: video is async, image is sync.
    let default_delivery = match kind {
        MediaKind::Video => "async",
        MediaKind::Image => "sync",
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

    for parameter in ["model", "positivePrompt"] {
        match task.get(parameter) {
            None | Some(Value::Null) => return Err(p.missing(parameter, "string")),
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            Some(_) => {
                let mut code = String::from("invalid");
                let mut chars = parameter.chars();
                if let Some(c) = chars.next() {
                    code.push(c.to_ascii_uppercase());
                    code.push_str(chars.as_str());
                }
                return Err(p.error(
                    &code,
                    &format!(
                        "Invalid value for {parameter} parameter. It must be a non-empty string."
                    ),
                    parameter,
                    "string",
                    &[],
                ));
            }
        }
    }

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

    if kind == MediaKind::Video
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
        kind,
        uuid,
        results,
        include_cost,
    })
}
