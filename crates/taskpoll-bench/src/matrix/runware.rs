//! The fault matrix against the Runware adapter and simulator.

use super::*;

/// A Runware task's script: its spec, and what it must end with.
#[derive(Debug, Clone)]
struct RunwareScript {
    id: RunwareTaskId,
    /// `Some((results kept, code, message))` for a failure.
    failure: Option<(usize, String, String)>,
}

fn runware_spec(i: usize) -> (RunwareTaskSpec, Option<(usize, String, String)>) {
    let kind = if i.is_multiple_of(2) {
        MediaKind::Image
    } else {
        MediaKind::Video
    };
    let results = 1 + (i % 4) as u32;
    let mut spec = RunwareTaskSpec::new(kind, results);
    if !i.is_multiple_of(3) {
        // Result j is done after j + 1 (or j + 2) polls: they finish one by one.
        spec = spec.finish_after_polls((0..results).map(|j| j + 1 + (i % 2) as u32));
    }
    let mut failure = None;
    if i % 5 == 4 {
        let after = (i / 5) % results as usize;
        let (code, message) = (
            format!("providerError{i}"),
            format!("generation {i} failed"),
        );
        spec = spec.fail_after(after as u32, code.clone(), message.clone());
        failure = Some((after, code, message));
    }
    (spec, failure)
}

/// Checks the results of one task: `n` of them, the task's own, in order (the
/// simulator seeds result `j` with the task's base seed + `j`), none seen before in
/// the run (a result handed to the wrong task would be).
fn check_results(
    uuid: &str,
    results: &[RunwareResult],
    n: usize,
    media: &mut HashSet<String>,
) -> Result<(), String> {
    if results.len() != n {
        return Err(format!("{} results instead of {n}", results.len()));
    }
    let first_seed = results
        .first()
        .and_then(|r| r.item.seed)
        .unwrap_or_default();
    for (j, r) in results.iter().enumerate() {
        let item = &r.item;
        if !item
            .task_uuid
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case(uuid))
        {
            return Err(format!("result {j} belongs to task {:?}", item.task_uuid));
        }
        if item.seed != Some(first_seed + j as u64) {
            return Err(format!("result {j} out of order (seed {:?})", item.seed));
        }
        let Some(m) = r.media_uuid() else {
            return Err(format!("result {j} has no media UUID"));
        };
        if !r.url().is_some_and(|u| u.contains(m)) {
            return Err(format!("result {j}: URL {:?} is not its media's", r.url()));
        }
        if !media.insert(m.to_owned()) {
            return Err(format!("result {j}: media {m} reported twice"));
        }
    }
    Ok(())
}

fn check_runware(
    script: &RunwareScript,
    got: &WaitResult<RunwareSource>,
    media: &mut HashSet<String>,
) -> Result<(), String> {
    let id = &script.id;
    match (&script.failure, got) {
        (None, Ok(RunwareOutput { task_uuid, results })) => {
            if *task_uuid != id.uuid {
                return Err(format!("completed as task {task_uuid}"));
            }
            check_results(&id.uuid, results, id.expected(), media)
        }
        (Some((kept, code, message)), Err(WaitError::Failed { failure, .. })) => {
            if failure.task_uuid != id.uuid
                || failure.code != *code
                || failure.message != *message
                || failure.expected_results != id.expected_results
            {
                return Err(format!("failed with the wrong failure: {failure}"));
            }
            check_results(&id.uuid, &failure.results, *kept, media)
        }
        (None, other) => Err(format!("should have completed, {}", unexpected(other))),
        (Some(_), other) => Err(format!("should have failed, {}", unexpected(other))),
    }
}

/// The matrix against the Runware simulator (batched `wait_all` and per-task waits).
pub async fn runware(m: &Matrix) -> Result<Report, RunError> {
    let sim = RunwareSim::start(RunwareSimConfig::default()).await?;
    // Small batches: every wait of the client shares its POSTs, and the faults need
    // requests enough to land on.
    let client = RunwareClient::builder(sim.api_key())
        .base_url(&sim.base_url())
        .request_timeout(m.request_timeout)
        .budget(Budget::unlimited())
        .max_batch(4)
        .build()?;
    let poller = m.policy_for(client.poller());
    let mut scripts: BTreeMap<String, RunwareScript> = BTreeMap::new();
    let mut ids = Vec::new();
    for i in 0..m.tasks {
        let (spec, failure) = runware_spec(i);
        let results = spec.results;
        let kind = spec.kind;
        let uuid = sim.create_task(spec);
        let id = match kind {
            MediaKind::Video => RunwareTaskId::video(uuid.clone(), results),
            MediaKind::Image => RunwareTaskId::image(uuid.clone(), results),
        };
        scripts.insert(
            uuid,
            RunwareScript {
                id: id.clone(),
                failure,
            },
        );
        ids.push(id);
    }
    let plan = m.plan();
    sim.set_faults(plan.clone());
    let started = Instant::now();
    let results = wait_split(&poller, ids).await;
    let mut report = Report::new("runware", m.tasks);
    report.elapsed = started.elapsed();
    let results = results
        .into_iter()
        .map(|(id, r)| (id.uuid, r))
        .collect::<Vec<_>>();
    let mut media = HashSet::new();
    check_all(&mut report, &scripts, results, |_, script, got| {
        check_runware(script, got, &mut media)
    });
    report.account(&plan, &sim.counts(), &["POST /v1 getResponse"]);
    sim.shutdown().await;
    Ok(report)
}
