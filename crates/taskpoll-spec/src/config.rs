//! The spec file: its TOML model ([`raw`]), the checked [`Spec`] it loads into, and
//! loading with errors that name the file, the line and the field.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;
use taskpoll::strategy::{Exponential, Fixed, Jitter};
use taskpoll::{Budget, PhaseKind, PollPolicy, VisibilityGrace};
use taskpoll_http::Secret;

use crate::error::LoadError;
use crate::template::Piece;
use crate::values::Pointer;

/// How long one request may take unless the spec's `request.timeout` says otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a status in `http.not_yet_visible` is tolerated unless the spec's
/// `http.not_yet_visible_grace` says otherwise.
pub const DEFAULT_VISIBILITY_GRACE: Duration = Duration::from_secs(30);

/// The TOML model of a spec file, exactly as written (see `docs/specs.md`). Unknown keys
/// are refused; spans say where each value is.
pub(crate) mod raw {
    use std::collections::BTreeMap;

    use serde::Deserialize;
    use toml::Spanned;

    type S<T> = Spanned<T>;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(crate) struct Spec {
        pub(crate) name: Option<S<String>>,
        pub(crate) request: S<Request>,
        pub(crate) status: S<Status>,
        pub(crate) result: Option<Target>,
        pub(crate) failure: Option<Failure>,
        pub(crate) progress: Option<Progress>,
        pub(crate) http: Option<Http>,
        pub(crate) poll: Option<Poll>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(crate) struct Request {
        pub(crate) method: Option<S<String>>,
        pub(crate) url: S<String>,
        pub(crate) base_url: Option<S<String>>,
        pub(crate) body: Option<S<String>>,
        pub(crate) headers: Option<BTreeMap<S<String>, S<String>>>,
        pub(crate) timeout: Option<S<String>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(crate) struct Status {
        pub(crate) pointer: S<String>,
        pub(crate) pending: Option<Vec<S<String>>>,
        pub(crate) running: Option<Vec<S<String>>>,
        pub(crate) succeeded: Option<Vec<S<String>>>,
        pub(crate) failed: Option<Vec<S<String>>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(crate) struct Target {
        pub(crate) pointer: Option<S<String>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(crate) struct Failure {
        pub(crate) pointer: Option<S<String>>,
        pub(crate) when_present: Option<bool>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(crate) struct Progress {
        pub(crate) pointer: S<String>,
        pub(crate) scale: Option<S<String>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(crate) struct Http {
        pub(crate) not_yet_visible: Option<S<Vec<u16>>>,
        pub(crate) not_yet_visible_grace: Option<S<String>>,
        pub(crate) transient: Option<S<Vec<u16>>>,
        pub(crate) permanent: Option<S<Vec<u16>>>,
        pub(crate) rate_limit_remaining: Option<S<String>>,
        pub(crate) rate_limit_reset: Option<S<String>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(crate) struct Poll {
        pub(crate) interval: Option<S<String>>,
        pub(crate) backoff: Option<S<String>>,
        pub(crate) initial_delay: Option<S<String>>,
        pub(crate) deadline: Option<S<String>>,
        pub(crate) rate: Option<S<String>>,
    }
}

/// One request header: its value is sent, its template is what may be shown.
#[derive(Clone)]
pub(crate) struct Header {
    pub(crate) name: HeaderName,
    pub(crate) value: HeaderValue,
    /// As written in the spec (`Bearer {env.OPENAI_API_KEY}`): never a secret.
    pub(crate) template: String,
    /// Whether the value took in a secret.
    pub(crate) secret: bool,
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:?}", self.name, self.template)
    }
}

/// The request a poll sends.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: Method,
    /// `request.url` as written.
    pub(crate) url_text: String,
    /// The pieces after `{base_url}`.
    pub(crate) path: Vec<Piece>,
    /// `request.base_url`, and where it is in the file.
    pub(crate) base_url: Option<(String, Option<(usize, usize)>)>,
    /// The JSON body template (`{id}` inside its strings).
    pub(crate) body: Option<Value>,
    pub(crate) headers: Vec<Header>,
    pub(crate) timeout: Duration,
}

/// The status word and what each word means.
#[derive(Debug, Clone)]
pub(crate) struct StatusRules {
    pub(crate) pointer: Pointer,
    /// Pending, running, succeeded and failed words, as written.
    pub(crate) lists: [(PhaseKind, Vec<String>); 4],
}

impl StatusRules {
    /// The kind of a status word (compared case-insensitively).
    pub(crate) fn kind_of(&self, word: &str) -> Option<PhaseKind> {
        let lower = word.to_lowercase();
        self.lists
            .iter()
            .find(|(_, words)| words.iter().any(|w| w.to_lowercase() == lower))
            .map(|(kind, _)| *kind)
    }
}

/// `[failure]`.
#[derive(Debug, Clone, Default)]
pub(crate) struct FailureRules {
    pub(crate) pointer: Option<Pointer>,
    /// A non-null value at the pointer fails the task whatever its status.
    pub(crate) when_present: bool,
}

/// `[progress]`.
#[derive(Debug, Clone)]
pub(crate) struct ProgressRule {
    pub(crate) pointer: Pointer,
    /// The number is a fraction (0 to 1) rather than a percentage (0 to 100).
    pub(crate) fraction: bool,
}

/// `[http]`.
#[derive(Debug, Clone, Default)]
pub(crate) struct HttpRules {
    pub(crate) not_yet_visible: Vec<u16>,
    pub(crate) grace: Duration,
    pub(crate) transient: Vec<u16>,
    pub(crate) permanent: Vec<u16>,
    pub(crate) remaining: Option<HeaderName>,
    pub(crate) reset: Option<HeaderName>,
}

/// The interval strategy of `[poll]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    Fixed(Duration),
    Backoff(Duration, Duration),
}

/// `[poll]`.
#[derive(Debug, Clone, Default)]
pub(crate) struct PollSettings {
    pub(crate) strategy: Option<Strategy>,
    pub(crate) initial_delay: Option<Duration>,
    /// `Some(None)`: `deadline = "none"`.
    pub(crate) deadline: Option<Option<Duration>>,
    pub(crate) rate: Option<(u32, Duration)>,
}

/// A checked spec file: how to ask a JSON task API for a task's status and how to read
/// the answer. Load one with [`Spec::load`]; build a client over it with
/// [`SpecClient::builder`](crate::SpecClient::builder).
///
/// Its `Debug` output shows header templates (`Bearer {env.OPENAI_API_KEY}`), never a
/// secret's value.
#[derive(Debug, Clone)]
pub struct Spec {
    pub(crate) origin: String,
    pub(crate) name: String,
    pub(crate) request: Request,
    pub(crate) status: StatusRules,
    pub(crate) result: Option<Pointer>,
    pub(crate) failure: FailureRules,
    pub(crate) progress: Option<ProgressRule>,
    pub(crate) http: HttpRules,
    pub(crate) poll: PollSettings,
    /// Every secret value the headers took in, to scrub from answers.
    pub(crate) secrets: Vec<Secret>,
}

impl Spec {
    /// Reads and checks a spec file. Secrets (`{env.NAME}`, `{file.PATH}`) are resolved
    /// now, from the process environment and from files relative to the spec's folder.
    pub fn load(path: impl AsRef<Path>) -> Result<Spec, LoadError> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| LoadError::new(&origin, None, format!("cannot read it: {e}")))?;
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        let env = |name: &str| std::env::var(name).ok();
        Spec::parse_with(&text, &origin, dir, &env)
    }

    /// Checks a spec's text; `origin` names it in errors (and gives its default name, the
    /// file stem). Secrets come from the process environment, files from the current
    /// folder.
    pub fn parse(text: &str, origin: &str) -> Result<Spec, LoadError> {
        let env = |name: &str| std::env::var(name).ok();
        Spec::parse_with(text, origin, Path::new("."), &env)
    }

    /// [`parse`](Spec::parse) with the environment looked up through `env` and relative
    /// `{file.PATH}`s read from `dir`.
    pub fn parse_with(
        text: &str,
        origin: &str,
        dir: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Spec, LoadError> {
        let raw: raw::Spec = toml::from_str(text).map_err(|e| syntax_error(text, origin, &e))?;
        crate::validate::check(raw, text, origin, dir, env)
    }

    /// The spec's name: its `name` key, or the file stem. Used in logs and as the
    /// `vendor` of the command's JSON lines.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file (or origin) it was loaded from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The poll settings the spec asks for, on the core's defaults: `[poll]`'s interval
    /// or backoff, initial delay and deadline, and the grace of `http.not_yet_visible`.
    pub fn policy(&self) -> PollPolicy {
        let mut policy = PollPolicy::default();
        match self.poll.strategy {
            Some(Strategy::Fixed(d)) => policy = policy.interval(Fixed::new(d)),
            Some(Strategy::Backoff(min, max)) => {
                policy =
                    policy.interval(Jitter::equal(Exponential::new(min, 2.0, max)).with_max(max));
            }
            None => {}
        }
        if let Some(d) = self.poll.initial_delay {
            policy = policy.initial_delay(d);
        }
        match self.poll.deadline {
            Some(Some(d)) => policy = policy.deadline(d),
            Some(None) => policy = policy.no_deadline(),
            None => {}
        }
        if !self.http.not_yet_visible.is_empty() {
            policy = policy.visibility(VisibilityGrace::for_duration(self.http.grace));
        }
        policy
    }

    /// The request budget of `poll.rate`, if set: at most N requests in any window of
    /// PERIOD, for every wait of a client together.
    pub fn budget(&self) -> Option<Budget> {
        self.poll
            .rate
            .map(|(n, period)| Budget::default().per_window(n, period))
    }
}

/// Line and column (from 1) of a byte offset.
pub(crate) fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(1, |l| l.chars().count() + 1);
    (line, column)
}

/// The dotted field a byte offset is in: the key on its line, under the last table header
/// above it.
pub(crate) fn field_at(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset.min(text.len()))?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text.get(line_start..)?.lines().next().unwrap_or_default();
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_owned());
    let table = before
        .get(..line_start)?
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(['[', ']']).trim().to_owned());
    let header = line
        .trim()
        .starts_with('[')
        .then(|| line.trim().trim_matches(['[', ']']).trim().to_owned());
    match (header, table, key) {
        (Some(h), _, _) => Some(h),
        (None, Some(t), Some(k)) => Some(format!("{t}.{k}")),
        (None, None, Some(k)) => Some(k),
        (None, Some(t), None) => Some(t),
        (None, None, None) => None,
    }
}

/// A TOML syntax or shape error, with its line, column and field.
fn syntax_error(text: &str, origin: &str, e: &toml::de::Error) -> LoadError {
    let message = e.message().trim().to_owned();
    // "missing field `x`" points at the table that lacks it (nothing for the top level).
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_owned());
    match (e.span(), missing) {
        (Some(span), Some(name)) if span.start == 0 && span.end == 0 => {
            LoadError::new(origin, Some(&name), message)
        }
        (Some(span), Some(name)) => {
            let field = match field_at(text, span.start) {
                Some(table) => format!("{table}.{name}"),
                None => name,
            };
            LoadError::new(origin, Some(&field), message).at(Some(position(text, span.start)))
        }
        (Some(span), None) => {
            LoadError::new(origin, field_at(text, span.start).as_deref(), message)
                .at(Some(position(text, span.start)))
        }
        (None, _) => LoadError::new(origin, None, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_fields() {
        let text =
            "name = \"x\"\n[status]\npointer = \"status\"\n[request.headers]\nx-api-key = 1\n";
        let at = text.find("\"status\"").unwrap();
        assert_eq!(position(text, at), (3, 11));
        assert_eq!(field_at(text, at).as_deref(), Some("status.pointer"));
        let at = text.find("1\n").unwrap();
        assert_eq!(
            field_at(text, at).as_deref(),
            Some("request.headers.x-api-key")
        );
        assert_eq!(field_at(text, 0).as_deref(), Some("name"));
    }
}
