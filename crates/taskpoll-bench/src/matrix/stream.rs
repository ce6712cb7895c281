//! The fault matrix against the Stream adapter and simulator.

use super::*;

fn stream_script(i: usize) -> TaskScript {
    let steps = steps(i, "waiting", "running");
    let outcome = if i % 5 == 4 {
        ScriptOutcome::Failure {
            error: json!({
                "type": format!("export_failed_{i}"),
                "description": format!("export {i} could not be written"),
                "stacktrace": format!("at export.go:{i}"),
                "version": format!("v1.{i}"),
            }),
        }
    } else {
        ScriptOutcome::Success {
            result: json!({
                "url": format!("https://exports.example/{i}.json"),
                "path": format!("exports/{i}.json"),
                "s3_bucket_name": "exports",
                "task": i,
            }),
        }
    };
    TaskScript { steps, outcome }
}

fn check_stream(
    id: &str,
    script: &ScriptOutcome,
    got: &WaitResult<StreamSource>,
) -> Result<(), String> {
    match (script, got) {
        (ScriptOutcome::Success { result }, Ok(StreamOutput { result: r, task })) => {
            if r != result || task.task_id != id || task.status != "completed" {
                return Err(format!("completed with the wrong output: {r} ({task:?})"));
            }
            Ok(())
        }
        (
            ScriptOutcome::Failure { error },
            Err(WaitError::Failed {
                failure, task_id, ..
            }),
        ) => {
            let text = |k: &str| error.get(k).and_then(Value::as_str).map(str::to_owned);
            let expected = StreamTaskFailure {
                task_id: id.to_owned(),
                error_type: text("type").unwrap_or_default(),
                description: text("description").unwrap_or_default(),
                stack_trace: text("stacktrace"),
                version: text("version"),
            };
            if *failure != expected || task_id != id {
                return Err(format!("failed with the wrong failure: {failure:?}"));
            }
            Ok(())
        }
        (ScriptOutcome::Success { .. }, other) => {
            Err(format!("should have completed, {}", unexpected(other)))
        }
        (ScriptOutcome::Failure { .. }, other) => {
            Err(format!("should have failed, {}", unexpected(other)))
        }
    }
}

/// The matrix against the Stream simulator (`wait_all` and per-task waits).
pub async fn stream(m: &Matrix) -> Result<Report, RunError> {
    let sim = StreamSim::start(StreamSimConfig::default()).await?;
    let client = StreamClient::builder(sim.api_key(), sim.api_secret())
        .base_url(&sim.base_url())
        .request_timeout(m.request_timeout)
        .budget(Budget::unlimited())
        .build()?;
    let poller = m.policy_for(client.poller());
    let mut scripts = BTreeMap::new();
    let mut ids = Vec::new();
    for i in 0..m.tasks {
        let script = stream_script(i);
        let outcome = script.outcome.clone();
        let id = sim.create_task(script);
        scripts.insert(id.clone(), outcome);
        ids.push(id);
    }
    let plan = m.plan();
    sim.set_faults(plan.clone());
    let started = Instant::now();
    let results = wait_split(&poller, ids).await;
    let mut report = Report::new("stream", m.tasks);
    report.elapsed = started.elapsed();
    check_all(&mut report, &scripts, results, |id, script, got| {
        check_stream(id, script, got)
    });
    report.account(&plan, &sim.counts(), &["GET /api/v2/tasks/{id}"]);
    sim.shutdown().await;
    Ok(report)
}
