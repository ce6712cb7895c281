//! [`Spec::summary`]: what a spec was understood to say, for `taskpoll spec check`.

use std::fmt::Write;
use std::time::Duration;

use taskpoll::PollPolicy;

use crate::config::{Spec, Strategy};

fn human(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

fn codes(list: &[u16]) -> String {
    list.iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Spec {
    /// A plain-text account of what the spec says: the request, the status mapping, the
    /// pointers, the HTTP rules, the poll settings and the budget. Header values show as
    /// written (`Bearer {env.OPENAI_API_KEY}`), never a secret's value.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_summary(&mut out);
        out
    }

    fn write_summary(&self, out: &mut String) -> std::fmt::Result {
        let r = &self.request;
        writeln!(out, "spec {:?} ({})", self.name, self.origin)?;
        writeln!(out, "request")?;
        writeln!(out, "  {} {}", r.method, r.url_text)?;
        match &r.base_url {
            Some((url, _)) => writeln!(out, "  base_url: {url} (--base-url overrides it)")?,
            None => writeln!(out, "  base_url: none: give one with --base-url")?,
        }
        writeln!(out, "  {{id}}: percent-encoded as one path segment")?;
        for h in &r.headers {
            let note = if h.secret {
                " (secret: from the environment or a file, never shown)"
            } else {
                ""
            };
            writeln!(out, "  header {}: {}{note}", h.name, h.template)?;
        }
        if let Some(body) = &r.body {
            writeln!(out, "  body: {body}")?;
        }
        writeln!(out, "  timeout: {}", human(r.timeout))?;
        writeln!(
            out,
            "status at {} (words compared ignoring case)",
            self.status.pointer
        )?;
        for (kind, words) in &self.status.lists {
            let shown = if words.is_empty() {
                "(none)".to_owned()
            } else {
                words.join(", ")
            };
            writeln!(out, "  {:<10} {shown}", format!("{kind}:"))?;
        }
        writeln!(
            out,
            "  any other word, or none: still running, marked unrecognized (logged)"
        )?;
        match &self.result {
            Some(p) => writeln!(out, "result: at {p}")?,
            None => writeln!(out, "result: the whole body")?,
        }
        match &self.failure.pointer {
            Some(p) if self.failure.when_present => writeln!(
                out,
                "failure: at {p}; a non-null value there fails the task whatever its status"
            )?,
            Some(p) => writeln!(out, "failure: at {p}")?,
            None => writeln!(out, "failure: the whole body")?,
        }
        match &self.progress {
            Some(p) if p.fraction => {
                writeln!(out, "progress: at {} (a fraction, 0 to 1)", p.pointer)?
            }
            Some(p) => writeln!(out, "progress: at {} (a percentage, 0 to 100)", p.pointer)?,
            None => writeln!(out, "progress: none")?,
        }
        self.write_http(out)?;
        self.write_poll(out)
    }

    fn write_http(&self, out: &mut String) -> std::fmt::Result {
        let h = &self.http;
        writeln!(out, "http")?;
        if h.not_yet_visible.is_empty() {
            writeln!(out, "  not yet visible: none")?;
        } else {
            writeln!(
                out,
                "  not yet visible: {} tolerated for the first {} of a wait",
                codes(&h.not_yet_visible),
                human(h.grace)
            )?;
        }
        let extra = |list: &[u16]| {
            if list.is_empty() {
                String::new()
            } else {
                format!(", and {}", codes(list))
            }
        };
        writeln!(
            out,
            "  retried: 429 (rate limited), 408, 425, 5xx{}",
            extra(&h.transient)
        )?;
        writeln!(
            out,
            "  permanent: other 3xx and 4xx{} (redirects are not followed)",
            extra(&h.permanent)
        )?;
        match (&h.remaining, &h.reset) {
            (Some(r), Some(s)) => writeln!(
                out,
                "  rate-limit headers: {r} (requests left), {s} (reset); Retry-After always"
            )?,
            (None, Some(s)) => writeln!(
                out,
                "  rate-limit headers: {s} (reset, for a 429 without Retry-After); Retry-After always"
            )?,
            _ => writeln!(out, "  rate-limit headers: Retry-After")?,
        }
        Ok(())
    }

    fn write_poll(&self, out: &mut String) -> std::fmt::Result {
        let p = &self.poll;
        let defaults = PollPolicy::default();
        writeln!(out, "poll")?;
        match p.strategy {
            Some(Strategy::Fixed(d)) => writeln!(out, "  interval: every {}", human(d))?,
            Some(Strategy::Backoff(min, max)) => writeln!(
                out,
                "  backoff: {} doubling to {}, with jitter",
                human(min),
                human(max)
            )?,
            None => writeln!(out, "  interval: default, 1s doubling to 30s, with jitter")?,
        }
        writeln!(
            out,
            "  initial delay: {}",
            human(p.initial_delay.unwrap_or(Duration::ZERO))
        )?;
        match p.deadline {
            Some(Some(d)) => writeln!(out, "  deadline: {} (with a final poll at it)", human(d))?,
            Some(None) => writeln!(out, "  deadline: none, waits until the task ends")?,
            None => writeln!(
                out,
                "  deadline: default, {} (with a final poll at it)",
                human(defaults.deadline.unwrap_or_default())
            )?,
        }
        match p.rate {
            Some((n, period)) => writeln!(
                out,
                "budget: at most {n} requests in any {} (--rate overrides it)",
                human(period)
            )?,
            None => writeln!(out, "budget: no request-rate limit (--rate sets one)")?,
        }
        Ok(())
    }
}
