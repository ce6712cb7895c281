//! Checking a spec's meaning once its TOML has parsed: every mistake is a [`LoadError`]
//! naming the file, the line and the field.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;
use taskpoll::PhaseKind;
use toml::Spanned;

use crate::config::{
    DEFAULT_REQUEST_TIMEOUT, DEFAULT_VISIBILITY_GRACE, FailureRules, Header, HttpRules,
    PollSettings, ProgressRule, Request, Spec, StatusRules, Strategy, position, raw,
};
use crate::error::LoadError;
use crate::template::{self, Piece, Sources};
use crate::values::{Pointer, parse_backoff, parse_duration, parse_rate};

/// Header names whose values are credentials: they must come from `{env.NAME}` or
/// `{file.PATH}`, never be written in the spec.
const SECRET_NAMES: [&str; 3] = ["authorization", "proxy-authorization", "cookie"];

/// Parts of header names that mark a credential.
const SECRET_PARTS: [&str; 7] = [
    "key",
    "token",
    "secret",
    "auth",
    "password",
    "signature",
    "credential",
];

/// Whether a header's value must be a secret from the environment or a file.
pub(crate) fn is_credential_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_NAMES.contains(&name.as_str()) || SECRET_PARTS.iter().any(|p| name.contains(p))
}

struct Ctx<'a> {
    text: &'a str,
    origin: &'a str,
}

impl Ctx<'_> {
    fn err(
        &self,
        field: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> LoadError {
        LoadError::new(self.origin, Some(field), message)
            .at(span.map(|s| position(self.text, s.start)))
    }

    fn pointer(&self, field: &str, p: &Spanned<String>) -> Result<Pointer, LoadError> {
        Pointer::parse(p.get_ref()).map_err(|m| self.err(field, Some(p.span()), m))
    }

    fn duration(&self, field: &str, d: &Spanned<String>) -> Result<Duration, LoadError> {
        parse_duration(d.get_ref()).map_err(|m| self.err(field, Some(d.span()), m))
    }
}

/// Checks a parsed spec.
pub(crate) fn check(
    raw: raw::Spec,
    text: &str,
    origin: &str,
    dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Spec, LoadError> {
    let cx = Ctx { text, origin };
    let name = name(&cx, raw.name.as_ref())?;
    let sources = Sources { env, dir };
    let (request, secrets) = request(&cx, raw.request.into_inner(), &sources)?;
    let status_span = raw.status.span();
    let status = status(&cx, raw.status.into_inner(), status_span)?;
    let result = match raw.result.and_then(|r| r.pointer) {
        Some(p) => Some(cx.pointer("result.pointer", &p)?),
        None => None,
    };
    let failure = match raw.failure {
        Some(f) => FailureRules {
            pointer: match &f.pointer {
                Some(p) => Some(cx.pointer("failure.pointer", p)?),
                None => None,
            },
            when_present: f.when_present.unwrap_or(false),
        },
        None => FailureRules::default(),
    };
    if failure.when_present && failure.pointer.is_none() {
        return Err(cx.err(
            "failure.when_present",
            None,
            "needs failure.pointer: the value whose presence fails the task",
        ));
    }
    let progress = match raw.progress {
        Some(p) => Some(progress(&cx, &p)?),
        None => None,
    };
    let http = match raw.http {
        Some(h) => http(&cx, &h)?,
        None => HttpRules {
            grace: DEFAULT_VISIBILITY_GRACE,
            ..HttpRules::default()
        },
    };
    let poll = match raw.poll {
        Some(p) => poll(&cx, &p)?,
        None => PollSettings::default(),
    };
    Ok(Spec {
        origin: origin.to_owned(),
        name,
        request,
        status,
        result,
        failure,
        progress,
        http,
        poll,
        secrets,
    })
}

fn name(cx: &Ctx<'_>, name: Option<&Spanned<String>>) -> Result<String, LoadError> {
    let (value, span) = match name {
        Some(n) => (n.get_ref().clone(), Some(n.span())),
        None => (
            Path::new(cx.origin)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            None,
        ),
    };
    let valid = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        return Err(cx.err(
            "name",
            span,
            format!("{value:?} is not a usable name: 1 to 64 letters, digits, -, _ or ."),
        ));
    }
    Ok(value)
}

fn request(
    cx: &Ctx<'_>,
    r: raw::Request,
    sources: &Sources<'_>,
) -> Result<(Request, Vec<taskpoll_http::Secret>), LoadError> {
    let method = match &r.method {
        None => Method::GET,
        Some(m) if m.get_ref().eq_ignore_ascii_case("GET") => Method::GET,
        Some(m) if m.get_ref().eq_ignore_ascii_case("POST") => Method::POST,
        Some(m) => {
            return Err(cx.err(
                "request.method",
                Some(m.span()),
                format!(
                    "{:?} is not supported: use \"GET\" or \"POST\"",
                    m.get_ref()
                ),
            ));
        }
    };
    let body = match &r.body {
        None => None,
        Some(b) if method == Method::GET => {
            return Err(cx.err(
                "request.body",
                Some(b.span()),
                "a GET request has no body: set method = \"POST\" or remove the body",
            ));
        }
        Some(b) => {
            let v: Value = serde_json::from_str(b.get_ref()).map_err(|e| {
                cx.err(
                    "request.body",
                    Some(b.span()),
                    format!("is not JSON ({e}); {{id}} goes inside a JSON string, e.g. '{{\"id\": \"{{id}}\"}}'"),
                )
            })?;
            if template::body_mentions(&v, "{env.") || template::body_mentions(&v, "{file.") {
                return Err(cx.err(
                    "request.body",
                    Some(b.span()),
                    "secrets go in request.headers, never in the body",
                ));
            }
            Some(v)
        }
    };
    let url_span = r.url.span();
    let url_err = |m: String| cx.err("request.url", Some(url_span.clone()), m);
    let pieces = template::parse(r.url.get_ref()).map_err(&url_err)?;
    let Some((Piece::BaseUrl, path)) = pieces.split_first() else {
        return Err(url_err(
            "must start with {base_url}, e.g. \"{base_url}/v1/tasks/{id}\" with base_url = \"https://api.example.com\"".into(),
        ));
    };
    if path.iter().any(template::is_secret) {
        return Err(url_err(
            "secrets go in request.headers, never in the URL (URLs end up in logs)".into(),
        ));
    }
    if path.contains(&Piece::BaseUrl) {
        return Err(url_err("{base_url} may only start the URL".into()));
    }
    let mentions_id = path.contains(&Piece::Id)
        || body
            .as_ref()
            .is_some_and(|b| template::body_mentions(b, "{id}"));
    if !mentions_id {
        return Err(url_err(
            "does not say where the task id goes: put {id} in the URL (or in the POST body)".into(),
        ));
    }
    match path.first() {
        Some(Piece::Text(t)) if t.starts_with('/') || t.starts_with('?') => {}
        _ => {
            return Err(url_err(
                "{base_url} must be followed by a path starting with /, e.g. \"{base_url}/tasks/{id}\"".into(),
            ));
        }
    }
    let probe: String = path
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.as_str(),
            _ => "x",
        })
        .collect();
    if reqwest::Url::parse(&format!("https://example.invalid{probe}")).is_err() {
        return Err(url_err("does not make a valid URL".into()));
    }
    let base_url = match &r.base_url {
        Some(b) => {
            taskpoll_http::BaseUrl::parse(b.get_ref(), true)
                .map_err(|e| cx.err("request.base_url", Some(b.span()), e.to_string()))?;
            Some((b.get_ref().clone(), Some(position(cx.text, b.span().start))))
        }
        None => None,
    };
    let (headers, secrets) = headers(cx, r.headers.unwrap_or_default(), sources)?;
    let timeout = match &r.timeout {
        Some(t) => {
            let d = cx.duration("request.timeout", t)?;
            if d.is_zero() {
                return Err(cx.err(
                    "request.timeout",
                    Some(t.span()),
                    "must be longer than zero",
                ));
            }
            d
        }
        None => DEFAULT_REQUEST_TIMEOUT,
    };
    Ok((
        Request {
            method,
            url_text: r.url.get_ref().clone(),
            path: path.to_vec(),
            base_url,
            body,
            headers,
            timeout,
        },
        secrets,
    ))
}

fn headers(
    cx: &Ctx<'_>,
    raw: std::collections::BTreeMap<Spanned<String>, Spanned<String>>,
    sources: &Sources<'_>,
) -> Result<(Vec<Header>, Vec<taskpoll_http::Secret>), LoadError> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut secrets = Vec::new();
    for (key, value) in raw {
        let field = format!("request.headers.{}", key.get_ref());
        let err = |m: String| cx.err(&field, Some(value.span()), m);
        let name = HeaderName::from_bytes(key.get_ref().as_bytes())
            .map_err(|_| cx.err(&field, Some(key.span()), "is not a valid HTTP header name"))?;
        if !seen.insert(name.clone()) {
            return Err(cx.err(
                &field,
                Some(key.span()),
                "is given twice (header names ignore case)",
            ));
        }
        let pieces = template::parse(value.get_ref()).map_err(&err)?;
        let secret = pieces.iter().any(template::is_secret);
        if is_credential_header(name.as_str()) && !secret {
            return Err(err(format!(
                "{name} carries a credential: take it from the environment, e.g. \"Bearer {{env.API_KEY}}\" (or a file, {{file.PATH}}), never write it in the spec"
            )));
        }
        let (text, mut taken) = template::resolve(&pieces, sources).map_err(&err)?;
        let mut value_header = HeaderValue::from_str(&text).map_err(|_| {
            err(if secret {
                "the value it takes from the environment or a file is not a valid header value (a newline?)".into()
            } else {
                "is not a valid header value".into()
            })
        })?;
        value_header.set_sensitive(secret);
        secrets.append(&mut taken);
        out.push(Header {
            name,
            value: value_header,
            template: value.get_ref().clone(),
            secret,
        });
    }
    Ok((out, secrets))
}

fn status(cx: &Ctx<'_>, s: raw::Status, span: Range<usize>) -> Result<StatusRules, LoadError> {
    let pointer = cx.pointer("status.pointer", &s.pointer)?;
    let lists = [
        (PhaseKind::Pending, "pending", s.pending),
        (PhaseKind::Running, "running", s.running),
        (PhaseKind::Succeeded, "succeeded", s.succeeded),
        (PhaseKind::Failed, "failed", s.failed),
    ];
    let mut seen: std::collections::HashMap<String, &str> = std::collections::HashMap::new();
    let mut out: Vec<(PhaseKind, Vec<String>)> = Vec::new();
    for (kind, list_name, words) in lists {
        let mut kept = Vec::new();
        for w in words.unwrap_or_default() {
            let field = format!("status.{list_name}");
            let word = w.get_ref().trim();
            if word.is_empty() {
                return Err(cx.err(&field, Some(w.span()), "holds an empty word"));
            }
            if let Some(other) = seen.insert(word.to_lowercase(), list_name) {
                let message = if other == list_name {
                    format!("{word:?} is listed twice (words ignore case)")
                } else {
                    format!("{word:?} is also in status.{other}: a word means one thing")
                };
                return Err(cx.err(&field, Some(w.span()), message));
            }
            kept.push(word.to_owned());
        }
        out.push((kind, kept));
    }
    if out.iter().all(|(_, w)| w.is_empty()) {
        return Err(cx.err(
            "status",
            Some(span),
            "has no status words at all: list them in pending, running, succeeded and failed",
        ));
    }
    if out
        .iter()
        .any(|(k, w)| *k == PhaseKind::Succeeded && w.is_empty())
    {
        return Err(cx.err(
            "status.succeeded",
            Some(span),
            "is empty: without a word for success no wait could ever complete",
        ));
    }
    let mut it = out.into_iter();
    let mut next = || it.next().unwrap_or((PhaseKind::Pending, Vec::new()));
    Ok(StatusRules {
        pointer,
        lists: [next(), next(), next(), next()],
    })
}

fn progress(cx: &Ctx<'_>, p: &raw::Progress) -> Result<ProgressRule, LoadError> {
    let pointer = cx.pointer("progress.pointer", &p.pointer)?;
    let fraction = match &p.scale {
        None => false,
        Some(s) if s.get_ref() == "percent" => false,
        Some(s) if s.get_ref() == "fraction" => true,
        Some(s) => {
            return Err(cx.err(
                "progress.scale",
                Some(s.span()),
                format!(
                    "{:?}: use \"percent\" (0 to 100) or \"fraction\" (0 to 1)",
                    s.get_ref()
                ),
            ));
        }
    };
    Ok(ProgressRule { pointer, fraction })
}

fn http(cx: &Ctx<'_>, h: &raw::Http) -> Result<HttpRules, LoadError> {
    let mut seen: std::collections::HashMap<u16, &str> = std::collections::HashMap::new();
    let mut list =
        |name: &'static str, v: &Option<Spanned<Vec<u16>>>| -> Result<Vec<u16>, LoadError> {
            let Some(v) = v else { return Ok(Vec::new()) };
            let field = format!("http.{name}");
            for code in v.get_ref() {
                if !(300..=599).contains(code) {
                    return Err(cx.err(
                        &field,
                        Some(v.span()),
                        format!("{code} is not an error status (300 to 599)"),
                    ));
                }
                if let Some(other) = seen.insert(*code, name) {
                    return Err(cx.err(
                        &field,
                        Some(v.span()),
                        format!("{code} is also in http.{other}: a status means one thing"),
                    ));
                }
            }
            Ok(v.get_ref().clone())
        };
    let not_yet_visible = list("not_yet_visible", &h.not_yet_visible)?;
    let transient = list("transient", &h.transient)?;
    let permanent = list("permanent", &h.permanent)?;
    let grace = match &h.not_yet_visible_grace {
        Some(g) => cx.duration("http.not_yet_visible_grace", g)?,
        None => DEFAULT_VISIBILITY_GRACE,
    };
    let header = |field: &str,
                  v: &Option<Spanned<String>>|
     -> Result<Option<HeaderName>, LoadError> {
        v.as_ref()
            .map(|v| {
                HeaderName::from_bytes(v.get_ref().as_bytes())
                    .map_err(|_| cx.err(field, Some(v.span()), "is not a valid HTTP header name"))
            })
            .transpose()
    };
    let remaining = header("http.rate_limit_remaining", &h.rate_limit_remaining)?;
    let reset = header("http.rate_limit_reset", &h.rate_limit_reset)?;
    if let (Some(r), None) = (&h.rate_limit_remaining, &reset) {
        return Err(cx.err(
            "http.rate_limit_remaining",
            Some(r.span()),
            "needs http.rate_limit_reset too: a count of requests left does not say when more are allowed",
        ));
    }
    Ok(HttpRules {
        not_yet_visible,
        grace,
        transient,
        permanent,
        remaining,
        reset,
    })
}

fn poll(cx: &Ctx<'_>, p: &raw::Poll) -> Result<PollSettings, LoadError> {
    let strategy = match (&p.interval, &p.backoff) {
        (Some(_), Some(b)) => {
            return Err(cx.err(
                "poll.backoff",
                Some(b.span()),
                "give either poll.interval or poll.backoff, not both",
            ));
        }
        (Some(i), None) => {
            let d = cx.duration("poll.interval", i)?;
            if d.is_zero() {
                return Err(cx.err("poll.interval", Some(i.span()), "must be longer than zero"));
            }
            Some(Strategy::Fixed(d))
        }
        (None, Some(b)) => {
            let (min, max) = parse_backoff(b.get_ref())
                .map_err(|m| cx.err("poll.backoff", Some(b.span()), m))?;
            Some(Strategy::Backoff(min, max))
        }
        (None, None) => None,
    };
    let initial_delay = match &p.initial_delay {
        Some(d) => Some(cx.duration("poll.initial_delay", d)?),
        None => None,
    };
    let deadline = match &p.deadline {
        Some(d) if d.get_ref().trim().eq_ignore_ascii_case("none") => Some(None),
        Some(d) => Some(Some(cx.duration("poll.deadline", d)?)),
        None => None,
    };
    let rate = match &p.rate {
        Some(r) => {
            Some(parse_rate(r.get_ref()).map_err(|m| cx.err("poll.rate", Some(r.span()), m))?)
        }
        None => None,
    };
    Ok(PollSettings {
        strategy,
        initial_delay,
        deadline,
        rate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_headers() {
        for name in [
            "Authorization",
            "x-api-key",
            "X-Auth-Token",
            "x-api-secret-key",
            "Cookie",
        ] {
            assert!(is_credential_header(name), "{name}");
        }
        for name in ["accept", "openai-beta", "content-type", "x-request-id"] {
            assert!(!is_credential_header(name), "{name}");
        }
    }
}
