//! Placeholders in a spec's URL, headers and body: `{id}`, `{base_url}`, `{env.NAME}`,
//! `{file.PATH}`.

use std::path::Path;

use serde_json::Value;
use taskpoll_http::Secret;

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Literal text.
    Text(String),
    /// The task id.
    Id,
    /// The base URL.
    BaseUrl,
    /// An environment variable (a secret).
    Env(String),
    /// The contents of a file (a secret), trailing newline dropped.
    File(String),
}

/// Splits `text` into pieces. `{` starts a placeholder that ends at the next `}`.
pub(crate) fn parse(text: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let (before, after) = rest.split_at(open);
        if !before.is_empty() {
            pieces.push(Piece::Text(before.to_owned()));
        }
        let Some(close) = after.find('}') else {
            return Err(format!(
                "{after:?} opens a placeholder that is never closed with }}"
            ));
        };
        let inner = after.get(1..close).unwrap_or_default();
        pieces.push(placeholder(inner)?);
        rest = after.get(close + 1..).unwrap_or_default();
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_owned()));
    }
    Ok(pieces)
}

fn placeholder(inner: &str) -> Result<Piece, String> {
    if inner == "id" {
        return Ok(Piece::Id);
    }
    if inner == "base_url" {
        return Ok(Piece::BaseUrl);
    }
    if let Some(name) = inner.strip_prefix("env.") {
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "{{env.{name}}} is not a variable name (letters, digits and _, not starting with a digit)"
            ));
        }
        return Ok(Piece::Env(name.to_owned()));
    }
    if let Some(path) = inner.strip_prefix("file.") {
        if path.is_empty() {
            return Err("{file.} names no file".into());
        }
        return Ok(Piece::File(path.to_owned()));
    }
    Err(format!(
        "unknown placeholder {{{inner}}}: expected {{id}}, {{base_url}}, {{env.NAME}} or {{file.PATH}}"
    ))
}

/// Whether a piece brings in a secret.
pub(crate) fn is_secret(piece: &Piece) -> bool {
    matches!(piece, Piece::Env(_) | Piece::File(_))
}

/// Where secrets come from: the environment (or a stand-in for tests) and files.
pub(crate) struct Sources<'a> {
    /// Looks up an environment variable.
    pub(crate) env: &'a dyn Fn(&str) -> Option<String>,
    /// The directory relative `{file.PATH}`s are read from (the spec file's).
    pub(crate) dir: &'a Path,
}

/// Resolves the secrets of a header value: the value, and each secret it took in.
/// Errors name the variable or file, never a value.
pub(crate) fn resolve(
    pieces: &[Piece],
    sources: &Sources<'_>,
) -> Result<(String, Vec<Secret>), String> {
    let mut out = String::new();
    let mut secrets = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Env(name) => match (sources.env)(name) {
                Some(v) if !v.is_empty() => {
                    out.push_str(&v);
                    secrets.push(Secret::new(v));
                }
                Some(_) => return Err(format!("environment variable {name} is empty")),
                None => return Err(format!("environment variable {name} is not set")),
            },
            Piece::File(path) => {
                let full = sources.dir.join(path);
                let text = std::fs::read_to_string(&full)
                    .map_err(|e| format!("cannot read {}: {e}", full.display()))?;
                let value = text.trim_end_matches(['\n', '\r']);
                if value.is_empty() {
                    return Err(format!("{} is empty", full.display()));
                }
                out.push_str(value);
                secrets.push(Secret::new(value));
            }
            Piece::Id | Piece::BaseUrl => {
                return Err("{id} and {base_url} are not allowed here".into());
            }
        }
    }
    Ok((out, secrets))
}

/// The body template with every `{id}` in its strings (keys too) replaced by `id`. The
/// id never changes the JSON's structure: it only ever lands inside a string.
pub(crate) fn fill_body(template: &Value, id: &str) -> Value {
    match template {
        Value::String(s) => Value::String(s.replace("{id}", id)),
        Value::Array(items) => Value::Array(items.iter().map(|v| fill_body(v, id)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.replace("{id}", id), fill_body(v, id)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether any string of the body template (key or value) holds `needle`.
pub(crate) fn body_mentions(template: &Value, needle: &str) -> bool {
    match template {
        Value::String(s) => s.contains(needle),
        Value::Array(items) => items.iter().any(|v| body_mentions(v, needle)),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.contains(needle) || body_mentions(v, needle)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces() {
        assert_eq!(
            parse("{base_url}/v1/tasks/{id}").unwrap(),
            vec![Piece::BaseUrl, Piece::Text("/v1/tasks/".into()), Piece::Id]
        );
        assert_eq!(
            parse("Bearer {env.API_KEY}").unwrap(),
            vec![Piece::Text("Bearer ".into()), Piece::Env("API_KEY".into())]
        );
        assert!(parse("{nope}").unwrap_err().contains("unknown placeholder"));
        assert!(parse("{env.1X}").is_err());
        assert!(parse("a {id").unwrap_err().contains("never closed"));
    }

    #[test]
    fn secrets_resolve_and_errors_name_the_variable() {
        let env = |name: &str| (name == "K").then(|| "s3cr3t-value".to_owned());
        let sources = Sources {
            env: &env,
            dir: Path::new("."),
        };
        let (value, secrets) = resolve(&parse("Bearer {env.K}").unwrap(), &sources).unwrap();
        assert_eq!(value, "Bearer s3cr3t-value");
        assert_eq!(secrets.len(), 1);
        let err = resolve(&parse("{env.MISSING}").unwrap(), &sources).unwrap_err();
        assert_eq!(err, "environment variable MISSING is not set");
    }

    #[test]
    fn the_id_only_lands_in_strings() {
        let t: Value = serde_json::json!({"ids": ["{id}"], "{id}": 1, "n": 2});
        let filled = fill_body(&t, "a\"b");
        assert_eq!(
            filled,
            serde_json::json!({"ids": ["a\"b"], "a\"b": 1, "n": 2})
        );
        assert!(body_mentions(&t, "{id}"));
    }
}
