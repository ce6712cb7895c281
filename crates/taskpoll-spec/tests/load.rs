//! Spec mistakes fail to load with the file, the line and the field; the shipped specs
//! load; secrets never show.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use taskpoll_spec::{LoadError, Spec};

/// The example spec every spec test starts from (the command's too); each test here
/// breaks one thing.
const GOOD: &str = include_str!("data/jobs.toml");

fn env(name: &str) -> Option<String> {
    match name {
        "JOBS_KEY" => Some("jobs-secret-value".into()),
        "OPENAI_API_KEY" | "REPLICATE_API_TOKEN" | "ASSEMBLYAI_API_KEY" => {
            Some("test-secret-value".into())
        }
        "REDIS_CLOUD_API_KEY" | "REDIS_CLOUD_API_SECRET" => Some("test-secret-value".into()),
        _ => None,
    }
}

fn load(text: &str) -> Result<Spec, LoadError> {
    Spec::parse_with(text, "specs/jobs.toml", Path::new("."), &env)
}

/// Loads `text`, expecting a mistake in `field` on `line`; returns the message.
fn mistake(text: &str, field: &str, line: Option<usize>) -> String {
    let err = load(text).expect_err("the spec should not load");
    assert_eq!(err.file(), "specs/jobs.toml", "{err}");
    assert_eq!(err.field(), Some(field), "{err}");
    assert_eq!(err.line(), line, "{err}");
    let shown = err.to_string();
    assert!(shown.starts_with("specs/jobs.toml:"), "{shown}");
    assert!(shown.contains(field), "{shown}");
    assert!(!shown.contains("jobs-secret-value"), "{shown}");
    err.message().to_owned()
}

#[test]
fn the_good_spec_loads() {
    let spec = load(GOOD).unwrap();
    assert_eq!(spec.name(), "jobs");
    let debug = format!("{spec:?}");
    assert!(!debug.contains("jobs-secret-value"), "{debug}");
    assert!(debug.contains("{env.JOBS_KEY}"), "{debug}");
    let summary = spec.summary();
    assert!(!summary.contains("jobs-secret-value"), "{summary}");
}

#[test]
fn the_name_defaults_to_the_file_stem() {
    let text = GOOD.replace("name = \"jobs\"\n", "");
    let spec = Spec::parse_with(&text, "dir/my-api.toml", Path::new("."), &env).unwrap();
    assert_eq!(spec.name(), "my-api");
}

#[test]
fn unknown_keys_are_refused_where_they_are() {
    let text = GOOD.replace(
        "pointer = \"/status\"",
        "pointer = \"/status\"\npointr = \"/x\"",
    );
    let message = mistake(&text, "status.pointr", Some(12));
    assert!(message.contains("unknown field `pointr`"), "{message}");
    let text = GOOD.replace("[status]", "[stauts]");
    let message = mistake(&text, "stauts", Some(10));
    assert!(message.contains("unknown field"), "{message}");
}

#[test]
fn missing_fields_are_named_under_their_table() {
    let text = GOOD.replace("pointer = \"/status\"\n", "");
    let message = mistake(&text, "status.pointer", Some(10));
    assert!(message.contains("missing field `pointer`"), "{message}");
    let text = "[status]\npointer = \"/s\"\nsucceeded = [\"done\"]\n";
    let message = mistake(text, "request", None);
    assert!(message.contains("missing field `request`"), "{message}");
}

#[test]
fn a_value_of_the_wrong_type_names_its_field() {
    let text = GOOD.replace("pending = [\"queued\"]", "pending = \"queued\"");
    mistake(&text, "status.pending", Some(12));
}

#[test]
fn toml_syntax_errors_have_a_line() {
    let text = GOOD.replace("running = [\"working\"]", "running = [\"working\"");
    let err = load(&text).unwrap_err();
    // The missing ] is noticed where the next line starts.
    assert_eq!(err.line(), Some(14), "{err}");
}

#[test]
fn pointers_must_start_with_a_slash() {
    let text = GOOD.replace("pointer = \"/status\"", "pointer = \"status\"");
    let message = mistake(&text, "status.pointer", Some(11));
    assert!(message.contains("must start with /"), "{message}");
    let text = GOOD.replace("pointer = \"/output\"", "pointer = \"output/url\"");
    mistake(&text, "result.pointer", Some(18));
    let text = GOOD.replace("pointer = \"/error\"", "pointer = \"/a~2\"");
    mistake(&text, "failure.pointer", Some(21));
}

#[test]
fn status_words_are_required_and_mean_one_thing() {
    let text = GOOD
        .replace("pending = [\"queued\"]\n", "")
        .replace("running = [\"working\"]\n", "")
        .replace("succeeded = [\"done\"]\n", "")
        .replace("failed = [\"error\"]\n", "");
    let message = mistake(&text, "status", Some(10));
    assert!(message.contains("no status words at all"), "{message}");
    let text = GOOD.replace("failed = [\"error\"]", "failed = [\"error\", \"Queued\"]");
    let message = mistake(&text, "status.failed", Some(15));
    assert!(message.contains("also in status.pending"), "{message}");
    let text = GOOD.replace("succeeded = [\"done\"]", "succeeded = []");
    mistake(&text, "status.succeeded", Some(10));
}

#[test]
fn an_unset_variable_is_named_at_load_time() {
    let text = GOOD.replace("{env.JOBS_KEY}", "{env.NOT_SET_ANYWHERE}");
    let message = mistake(&text, "request.headers.authorization", Some(8));
    assert!(message.contains("NOT_SET_ANYWHERE is not set"), "{message}");
}

#[test]
fn literal_credentials_are_refused() {
    for (name, value) in [
        ("authorization", "Bearer sk-live-1234"),
        ("x-api-key", "abc123"),
        ("X-Auth-Token", "tok-98765"),
        ("x-client-secret", "sec-56789"),
    ] {
        let text = GOOD.replace(
            "authorization = \"Bearer {env.JOBS_KEY}\"",
            &format!("{name} = \"{value}\""),
        );
        let message = mistake(&text, &format!("request.headers.{name}"), Some(8));
        assert!(message.contains("from the environment"), "{message}");
        assert!(!message.contains(value), "{message}");
    }
    // Ordinary headers may be literal.
    let text = GOOD.replace(
        "authorization = \"Bearer {env.JOBS_KEY}\"",
        "authorization = \"Bearer {env.JOBS_KEY}\"\naccept = \"application/json\"\nopenai-beta = \"v2\"",
    );
    load(&text).unwrap();
}

#[test]
fn secrets_from_files_are_read_next_to_the_spec() {
    let dir = std::env::temp_dir().join(format!("taskpoll-spec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("key.txt"), "file-secret-value\n").unwrap();
    let text = GOOD.replace("{env.JOBS_KEY}", "{file.key.txt}");
    let spec = Spec::parse_with(&text, "jobs.toml", &dir, &env).unwrap();
    assert!(!format!("{spec:?}").contains("file-secret-value"));
    let text = GOOD.replace("{env.JOBS_KEY}", "{file.missing.txt}");
    let err = Spec::parse_with(&text, "jobs.toml", &dir, &env).unwrap_err();
    assert_eq!(err.field(), Some("request.headers.authorization"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn urls_start_with_the_base_url_and_carry_no_secret() {
    let text = GOOD.replace(
        "{base_url}/v1/jobs/{id}",
        "https://api.example.com/jobs/{id}",
    );
    let message = mistake(&text, "request.url", Some(4));
    assert!(message.contains("must start with {base_url}"), "{message}");
    let text = GOOD.replace("/v1/jobs/{id}", "/v1/jobs/{id}?key={env.JOBS_KEY}");
    let message = mistake(&text, "request.url", Some(4));
    assert!(message.contains("never in the URL"), "{message}");
    let text = GOOD.replace("/v1/jobs/{id}", "/v1/jobs");
    let message = mistake(&text, "request.url", Some(4));
    assert!(message.contains("{id}"), "{message}");
    let text = GOOD.replace("/v1/jobs/{id}", "/v1/jobs/{task}");
    let message = mistake(&text, "request.url", Some(4));
    assert!(message.contains("unknown placeholder {task}"), "{message}");
}

#[test]
fn bodies_are_json_templates_for_post_only() {
    let text = GOOD.replace(
        "url = \"{base_url}/v1/jobs/{id}\"",
        "method = \"POST\"\nurl = \"{base_url}/v1/status\"\nbody = '{\"ids\": [\"{id}\"]}'",
    );
    load(&text).unwrap();
    let text = GOOD.replace(
        "url = \"{base_url}/v1/jobs/{id}\"",
        "method = \"POST\"\nurl = \"{base_url}/v1/status\"\nbody = '{\"ids\": [{id}]}'",
    );
    let message = mistake(&text, "request.body", Some(6));
    assert!(message.contains("is not JSON"), "{message}");
    let text = GOOD.replace(
        "url = \"{base_url}/v1/jobs/{id}\"",
        "url = \"{base_url}/v1/jobs/{id}\"\nbody = '{}'",
    );
    mistake(&text, "request.body", Some(5));
    let text = GOOD.replace(
        "url = \"{base_url}",
        "method = \"DELETE\"\nurl = \"{base_url}",
    );
    mistake(&text, "request.method", Some(4));
}

#[test]
fn http_and_poll_settings_are_checked() {
    let with = |extra: &str| format!("{GOOD}\n{extra}\n");
    mistake(
        &with("[http]\nnot_yet_visible = [404]\npermanent = [404]"),
        "http.permanent",
        Some(25),
    );
    mistake(
        &with("[http]\ntransient = [200]"),
        "http.transient",
        Some(24),
    );
    mistake(
        &with("[http]\nnot_yet_visible_grace = \"soon\""),
        "http.not_yet_visible_grace",
        Some(24),
    );
    mistake(
        &with("[http]\nrate_limit_remaining = \"x-ratelimit-remaining\""),
        "http.rate_limit_remaining",
        Some(24),
    );
    mistake(
        &with("[poll]\ninterval = \"1s\"\nbackoff = \"1s..30s\""),
        "poll.backoff",
        Some(25),
    );
    mistake(
        &with("[poll]\ninterval = \"0s\""),
        "poll.interval",
        Some(24),
    );
    mistake(
        &with("[poll]\nbackoff = \"30s..1s\""),
        "poll.backoff",
        Some(24),
    );
    mistake(
        &with("[poll]\ndeadline = \"a while\""),
        "poll.deadline",
        Some(24),
    );
    mistake(&with("[poll]\nrate = \"400\""), "poll.rate", Some(24));
    mistake(
        &with("[progress]\npointer = \"/p\"\nscale = \"permille\""),
        "progress.scale",
        Some(25),
    );
    let text = GOOD.replace("pointer = \"/error\"", "when_present = true");
    mistake(&text, "failure.when_present", None);
}

#[test]
fn a_bad_name_is_refused() {
    let text = GOOD.replace("name = \"jobs\"", "name = \"my jobs!\"");
    mistake(&text, "name", Some(1));
}

#[test]
fn a_missing_file_names_itself() {
    let err = Spec::load("no/such/spec.toml").unwrap_err();
    assert_eq!(err.file(), "no/such/spec.toml");
    assert!(err.message().contains("cannot read it"), "{err}");
}

#[test]
fn the_shipped_specs_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let origin = path.display().to_string();
            let spec =
                Spec::parse_with(&text, &origin, &dir, &env).unwrap_or_else(|e| panic!("{e}"));
            assert!(!spec.summary().contains("test-secret-value"));
            names.push(spec.name().to_owned());
        }
    }
    names.sort();
    assert_eq!(
        names,
        [
            "assemblyai-transcripts",
            "openai-batches",
            "redis-cloud",
            "replicate-predictions"
        ]
    );
}
