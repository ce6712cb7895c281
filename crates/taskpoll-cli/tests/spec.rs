//! `taskpoll wait --spec FILE` and `taskpoll spec check FILE`: the real binary against the
//! generic scripted simulator, with the same lines and exit statuses as a vendor wait.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};
use taskpoll_sim::generic::{Answer, GenericSim, GenericSimConfig, GenericTask};

mod common;
use common::{json_lines, stderr, stdout, taskpoll_with_stdin, temp_dir};

const KEY: &str = "cli-secret-5be0c1";

/// The spec tests' jobs API, polled fast.
const SPEC: &str = concat!(
    include_str!("../../taskpoll-spec/tests/data/jobs.toml"),
    r#"
[poll]
interval = "50ms"
deadline = "10s"
"#
);

/// A folder of its own for each test's spec files.
fn dir(test: &str) -> PathBuf {
    temp_dir(&format!("spec-{test}"))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn lines(o: &Output) -> Vec<Value> {
    json_lines(&stdout(o))
}

async fn sim() -> GenericSim {
    GenericSim::start(
        GenericSimConfig::default().require_header("authorization", &format!("Bearer {KEY}")),
    )
    .await
    .unwrap()
}

fn status(word: &str) -> Answer {
    Answer::json(200, json!({"status": word}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_task_exits_0_with_the_vendor_line() {
    let sim = sim().await;
    let id = sim.create_task(GenericTask::new([
        status("queued"),
        status("working"),
        Answer::json(
            200,
            json!({"status": "done", "output": {"url": "https://x.test/out"}}),
        ),
    ]));
    let d = dir("completed");
    let spec = write(&d, "jobs.toml", SPEC);
    let out = taskpoll_with_stdin(
        &[
            "wait",
            "--spec",
            &spec,
            &id,
            "--base-url",
            &sim.base_url(),
            "--json",
            "-q",
        ],
        &[("JOBS_KEY", KEY)],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let l = lines(&out);
    assert_eq!(l.len(), 1);
    assert_eq!(l[0]["vendor"], "jobs");
    assert_eq!(l[0]["task_id"], id.as_str());
    assert_eq!(l[0]["outcome"], "completed");
    assert_eq!(l[0]["polls"], 3);
    assert_eq!(l[0]["result"], json!({"url": "https://x.test/out"}));
    assert!(!stdout(&out).contains(KEY) && !stderr(&out).contains(KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_and_exit_statuses_match_a_vendor_wait() {
    let sim = sim().await;
    let done = sim.create_task(GenericTask::new([Answer::json(
        200,
        json!({"status": "done", "output": 1}),
    )]));
    let failed = sim.create_task(GenericTask::new([Answer::json(
        200,
        json!({"status": "error", "error": {"code": "E7", "message": "bad input"}}),
    )]));
    let slow = sim.create_task(GenericTask::new([status("working")]));
    let gone = sim.create_task(GenericTask::new([Answer::json(
        410,
        json!({"error": "gone"}),
    )]));
    let d = dir("outcomes");
    let spec = write(&d, "jobs.toml", SPEC);
    let base = sim.base_url();
    let env = [("JOBS_KEY", KEY)];
    let run = |ids: Vec<String>| {
        let spec = spec.clone();
        let base = base.clone();
        async move {
            let mut args = vec![
                "wait",
                "--spec",
                &spec,
                "--base-url",
                &base,
                "--json",
                "-q",
                "--timeout",
                "400ms",
            ];
            args.extend(ids.iter().map(String::as_str));
            taskpoll_with_stdin(&args, &env, None).await
        }
    };
    // Failed: exit 1, the failure's fields.
    let out = run(vec![done.clone(), failed.clone()]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let l = lines(&out);
    let f = l.iter().find(|l| l["task_id"] == failed.as_str()).unwrap();
    assert_eq!(f["outcome"], "failed");
    assert_eq!(
        f["error"],
        json!({"status": "error", "error": {"code": "E7", "message": "bad input"}})
    );
    // Timed out: exit 3, over a failure.
    let out = run(vec![failed.clone(), slow.clone()]).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    // A status that could not be fetched: exit 4, the highest.
    let out = run(vec![slow.clone(), gone.clone(), done.clone()]).await;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let l = lines(&out);
    let g = l.iter().find(|l| l["task_id"] == gone.as_str()).unwrap();
    assert_eq!(g["outcome"], "error");
    assert!(
        g["error"]["message"].as_str().unwrap().contains("HTTP 410"),
        "{g}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_come_from_stdin_and_the_shipped_specs_work() {
    let sim = GenericSim::start(
        GenericSimConfig::default().require_header("authorization", &format!("Bearer {KEY}")),
    )
    .await
    .unwrap();
    let a = sim.create_task(GenericTask::new([
        Answer::json(200, json!({"status": "starting"})),
        Answer::json(200, json!({"status": "succeeded", "output": ["a.png"]})),
    ]));
    let b = sim.create_task(GenericTask::new([Answer::json(
        200,
        json!({"status": "succeeded", "output": ["b.png"]}),
    )]));
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/replicate-predictions.toml");
    let spec = spec.display().to_string();
    let out = taskpoll_with_stdin(
        &[
            "wait",
            "--spec",
            &spec,
            "-",
            "--base-url",
            &sim.base_url(),
            "--interval",
            "50ms",
            "--json",
            "-q",
        ],
        &[("REPLICATE_API_TOKEN", KEY)],
        Some(&format!("{a}\n{b}\n")),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let l = lines(&out);
    assert_eq!(l.len(), 2);
    assert!(l.iter().all(|l| l["vendor"] == "replicate-predictions"));
    assert!(l.iter().any(|l| l["result"] == json!(["b.png"])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_mistakes_are_usage_errors_naming_the_file_and_field() {
    let d = dir("mistakes");
    let bad = write(
        &d,
        "bad.toml",
        &SPEC.replace("pointer = \"/status\"", "pointer = \"status\""),
    );
    let out =
        taskpoll_with_stdin(&["wait", "--spec", &bad, "t-1"], &[("JOBS_KEY", KEY)], None).await;
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&format!("{bad}:11:")), "{err}");
    assert!(err.contains("status.pointer"), "{err}");
    // An unset variable is named, at once.
    let good = write(&d, "jobs.toml", SPEC);
    let out = taskpoll_with_stdin(&["wait", "--spec", &good, "t-1"], &[], None).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("JOBS_KEY is not set"),
        "{}",
        stderr(&out)
    );
    // A literal credential is refused without being repeated.
    let literal = write(
        &d,
        "literal.toml",
        &SPEC.replace("{env.JOBS_KEY}", "sk-live-777"),
    );
    let out = taskpoll_with_stdin(&["spec", "check", &literal], &[], None).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("request.headers.authorization"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("sk-live-777"), "{}", stderr(&out));
    // A missing file.
    let out = taskpoll_with_stdin(&["wait", "--spec", "no/such.toml", "t-1"], &[], None).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no/such.toml"), "{}", stderr(&out));
    // Plain HTTP off loopback, from the spec: named as the spec's field.
    let http = write(
        &d,
        "http.toml",
        &SPEC.replace("https://api.example.com", "http://api.example.com"),
    );
    let out = taskpoll_with_stdin(
        &["wait", "--spec", &http, "t-1"],
        &[("JOBS_KEY", KEY)],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("request.base_url"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_one_of_vendor_or_spec() {
    let d = dir("one-of");
    let spec = write(&d, "jobs.toml", SPEC);
    for (args, says) in [
        (vec!["wait"], "missing VENDOR"),
        (vec!["wait", "stream", "--spec", &spec, "t-1"], "not both"),
        (vec!["wait", "strem", "t-1"], "unknown vendor"),
        (vec!["wait", "--spec", &spec], "no task ids"),
        (
            vec!["wait", "--spec", &spec, "t-1", "--api-key", "k"],
            "do not apply to --spec",
        ),
        (
            vec!["wait", "--spec", &spec, "t-1", "--results", "2"],
            "runware only",
        ),
    ] {
        let out = taskpoll_with_stdin(&args, &[("JOBS_KEY", KEY)], None).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_check_prints_what_it_understood_without_secrets() {
    let d = dir("check");
    let spec = write(
        &d,
        "jobs.toml",
        &format!("{SPEC}rate = \"120/1m\"\n[http]\nnot_yet_visible = [404]\nnot_yet_visible_grace = \"20s\"\n")
            .replace("[poll]\ninterval = \"50ms\"\ndeadline = \"10s\"\nrate", "[poll]\nbackoff = \"1s..20s\"\ndeadline = \"2h\"\nrate"),
    );
    let out = taskpoll_with_stdin(&["spec", "check", &spec], &[("JOBS_KEY", KEY)], None).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for expected in [
        "spec \"jobs\"",
        "GET {base_url}/v1/jobs/{id}",
        "header authorization: Bearer {env.JOBS_KEY} (secret",
        "status at /status",
        "pending:   queued",
        "failed:    error",
        "result: at /output",
        "failure: at /error",
        "404 tolerated for the first 20s",
        "backoff: 1s doubling to 20s",
        "deadline: 2h",
        "at most 120 requests in any 1m",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    assert!(!text.contains(KEY), "{text}");
}
