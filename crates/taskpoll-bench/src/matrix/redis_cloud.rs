//! The fault matrix against the Redis Cloud adapter and simulator.

use super::*;

fn redis_script(i: usize) -> TaskScript {
    let steps = steps(i, "received", "processing-in-progress");
    let outcome = if i % 5 == 4 {
        ScriptOutcome::Failure {
            error: json!({
                "type": format!("ERROR_{i}"),
                "status": format!("{} BAD_REQUEST", 400 + i % 10),
                "description": format!("task {i} was refused"),
                "additionalInfo": format!("hint-{i}"),
            }),
        }
    } else {
        let mut response = json!({"resourceId": 100_000 + i});
        if i % 2 == 1
            && let Some(r) = response.as_object_mut()
        {
            r.insert("additionalResourceId".into(), json!(i));
        }
        ScriptOutcome::Success { result: response }
    };
    TaskScript { steps, outcome }
}

fn check_redis(
    id: &str,
    script: &ScriptOutcome,
    got: &WaitResult<RedisCloudSource>,
) -> Result<(), String> {
    let int = |v: &Value, k: &str| v.get(k).and_then(Value::as_i64);
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    match (script, got) {
        (ScriptOutcome::Success { result }, Ok(done)) => {
            let TaskCompleted {
                task_id,
                command_type,
                resource_id,
                additional_resource_id,
                resource,
                ..
            } = done;
            let right = task_id == id
                && command_type.as_deref() == Some("subscriptionCreateRequest")
                && *resource_id == int(result, "resourceId")
                && *additional_resource_id == int(result, "additionalResourceId")
                && resource.is_none();
            if right {
                Ok(())
            } else {
                Err(format!("completed with the wrong output: {done:?}"))
            }
        }
        (
            ScriptOutcome::Failure { error },
            Err(WaitError::Failed {
                failure, task_id, ..
            }),
        ) => {
            let TaskFailed {
                task_id: failed_id,
                error_type,
                status,
                description,
                additional_info,
                task_status,
                ..
            } = failure;
            let right = task_id == id
                && failed_id == id
                && *error_type == text(error, "type")
                && *status == text(error, "status")
                && *description == text(error, "description")
                && *additional_info == text(error, "additionalInfo")
                && task_status == "processing-error";
            if right {
                Ok(())
            } else {
                Err(format!("failed with the wrong failure: {failure:?}"))
            }
        }
        (ScriptOutcome::Success { .. }, other) => {
            Err(format!("should have completed, {}", unexpected(other)))
        }
        (ScriptOutcome::Failure { .. }, other) => {
            Err(format!("should have failed, {}", unexpected(other)))
        }
    }
}

/// The matrix against the Redis Cloud simulator (`wait_all` batched over the task
/// list, then per-task waits).
pub async fn redis_cloud(m: &Matrix) -> Result<Report, RunError> {
    let sim = RedisCloudSim::start(RedisCloudSimConfig {
        rate_limit_per_minute: u32::MAX,
        serial_processing: false,
        ..RedisCloudSimConfig::default()
    })
    .await?;
    let client = RedisCloudClient::builder(sim.api_key(), sim.secret_key())
        .base_url(&sim.base_url())
        .request_timeout(m.request_timeout)
        .requests_per_minute(u32::MAX)
        // Batches small enough that the faults have requests to land on (a round of
        // due waits takes 25 list requests), and few enough in flight that the
        // simulator, which lists every task of the account each time, keeps up.
        .budget(Budget::unlimited().in_flight(4))
        .max_batch((m.tasks / 25).max(4))
        .build()?;
    let poller = m.policy_for(client.poller());
    let plan = m.plan();
    sim.set_faults(plan.clone());
    let mut scripts = BTreeMap::new();
    let mut report = Report::new("redis-cloud", m.tasks);
    let started = Instant::now();
    // The group first: a task list names every task of the account, and the simulator
    // remembers `Retry-After` per task, so a list sent while a lone wait on some task
    // is backing off would count against that task.
    let mut create = |alone: bool| -> Vec<String> {
        (0..m.tasks)
            .filter(|i| Matrix::alone(*i) == alone)
            .map(|i| {
                let script = redis_script(i);
                let outcome = script.outcome.clone();
                let id = sim.create_task(script);
                scripts.insert(id.clone(), outcome);
                id
            })
            .collect()
    };
    let group = create(false);
    let mut results = collect_group(poller.wait_all(group)).await;
    let alone = create(true);
    results.extend(wait_each(&poller, &alone).await);
    report.elapsed = started.elapsed();
    check_all(&mut report, &scripts, results, |id, script, got| {
        check_redis(id, script, got)
    });
    report.account(
        &plan,
        &sim.counts(),
        &[
            "GET /v1/tasks/{taskId}",
            "GET /v1/tasks",
            "GET /v1/subscriptions/{subscriptionId}",
        ],
    );
    sim.shutdown().await;
    Ok(report)
}
