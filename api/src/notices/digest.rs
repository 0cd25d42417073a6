//! A run's digest: everything the notifier needs to know about a finished
//! (or started) run, read from what the api recorded, in three statements:
//! the run with its job, version, schedule, baseline and history; its
//! steps with the end of their output; its targets and their groups.

use opsc_proto::commands::{Trigger, TriggerKind};
use opsc_proto::events::{RunFinished, RunStatus};
use opsc_proto::notify::{
    Baseline, FailedStepDigest, JobRef, RunDigest, ScheduleLink, TargetDigest,
};
use opsc_proto::run_policy::RetryPolicy;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement};
use uuid::Uuid;

/// Successful runs a baseline is computed from, at most.
pub const BASELINE_RUNS: i64 = 20;
/// Successful runs a baseline needs, at least.
pub const BASELINE_MIN: i64 = 5;
/// Earlier finished runs looked at for the previous status and the streak.
const HISTORY: i64 = 100;
/// Output lines kept of a failed step.
const LAST_LINES: i64 = 20;

/// The run, its job and its place in the job's history, in one statement.
const RUN_SQL: &str = r"
WITH r AS (SELECT * FROM runs WHERE id = $1),
b AS (
  SELECT EXTRACT(EPOCH FROM (x.finished_at - x.created_at)) * 1000 AS ms
  FROM runs x, r
  WHERE x.job_id = r.job_id AND x.status = 'succeeded' AND x.finished_at IS NOT NULL
    AND x.id <> r.id AND x.finished_at <= COALESCE(r.finished_at, now())
  ORDER BY x.finished_at DESC LIMIT $2),
h AS (
  SELECT x.status, x.finished_at
  FROM runs x, r
  WHERE x.job_id = r.job_id AND x.finished_at IS NOT NULL AND x.id <> r.id
    AND x.status <> 'skipped'
    AND x.finished_at <= COALESCE(r.finished_at, now())
    AND COALESCE(x.retry_root, x.id) <> COALESCE(r.retry_root, r.id)
    AND NOT EXISTS (SELECT 1 FROM runs y WHERE y.retry_of = x.id)
  ORDER BY x.finished_at DESC LIMIT $3)
SELECT r.id, r.job_id, r.job_name, r.job_version, r.status, r.reason, r.trigger_kind,
  r.trigger_actor, r.trigger_origin, r.cause_run_id, r.rerun_of, r.created_by, r.attempt,
  r.retry_root, r.created_at, r.finished_at,
  (EXTRACT(EPOCH FROM (r.finished_at - r.created_at)) * 1000)::bigint AS duration_ms,
  j.name AS current_name, j.owner_id,
  COALESCE(v.definition -> 'tags', '[]'::jsonb) AS tags,
  COALESCE((v.definition ->> 'critical')::boolean, false) AS critical,
  v.definition -> 'retry' AS retry,
  s.id AS schedule_id, s.name AS schedule_name,
  tok.user_id AS token_owner,
  (SELECT count(*) FROM b) AS samples,
  (SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) FROM b)::float8 AS p95,
  (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM b)::float8 AS p50,
  (SELECT array_agg(status ORDER BY finished_at DESC) FROM h) AS history
FROM r
LEFT JOIN jobs j ON j.id = r.job_id
LEFT JOIN job_versions v ON v.job_id = r.job_id AND v.version = r.job_version
LEFT JOIN schedules s ON r.trigger_kind = 'schedule' AND s.id::text = r.trigger_actor
LEFT JOIN api_tokens tok ON r.trigger_kind = 'api' AND r.created_by IS NULL
  AND tok.id::text = r.trigger_actor
";

/// Every step of the run on every target, with the end of a failed one's output.
const STEPS_SQL: &str = r"
SELECT s.step_id, s.target_id, t.name AS target_name, s.status, s.exit_code, s.error,
  CASE WHEN s.status IN ('failed', 'timed_out') THEN ARRAY(
    SELECT q.text FROM (
      SELECT o.text, o.line_no FROM run_output o
      WHERE o.run_id = s.run_id AND o.step_id = s.step_id AND o.target_key = s.target_key
      ORDER BY o.line_no DESC LIMIT $2) q
    ORDER BY q.line_no) END AS last_lines,
  CASE WHEN s.status IN ('failed', 'timed_out') THEN (
    SELECT max((e.data ->> 'output_lines')::bigint) FROM run_events e
    WHERE e.run_id = s.run_id AND e.event_type = 'step_finished'
      AND e.data ->> 'step_id' = s.step_id
      AND (e.data ->> 'target_id') IS NOT DISTINCT FROM s.target_id::text
      AND (e.data ->> 'attempt')::int = s.attempt) END AS expected_lines,
  CASE WHEN s.status IN ('failed', 'timed_out') THEN (
    SELECT max(o.line_no) FROM run_output o
    WHERE o.run_id = s.run_id AND o.step_id = s.step_id AND o.target_key = s.target_key)
    END AS stored_lines
FROM run_steps s
LEFT JOIN targets t ON t.id = s.target_id
WHERE s.run_id = $1
ORDER BY s.position, s.step_id, t.name
";

/// The run's targets and the groups that hold them.
const TARGETS_SQL: &str = r"
WITH ids AS (
  SELECT DISTINCT e AS id FROM runs r, jsonb_array_elements_text(r.target_ids) e WHERE r.id = $1)
SELECT t.id, t.name,
  ARRAY(SELECT g.id FROM target_groups g
        WHERE EXISTS (SELECT 1 FROM jsonb_array_elements_text(g.members) m, ids WHERE m = ids.id)
        ORDER BY g.id) AS group_ids
FROM targets t JOIN ids ON t.id::text = ids.id
ORDER BY t.name
";

fn stmt(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

fn parse_status(s: &str) -> Option<RunStatus> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

fn is_failure(s: RunStatus) -> bool {
    matches!(
        s,
        RunStatus::Failed | RunStatus::TimedOut | RunStatus::WorkerLost
    )
}

/// Whether a retry follows `f`, decided exactly as the scheduler decides
/// it (`scheduler/src/reactions.rs`): a failure class its policy covers,
/// with attempts left.
pub fn will_retry(f: &RunFinished) -> bool {
    if !is_failure(f.status) {
        return false;
    }
    let (Some(policy), Some(class)) = (f.retry.as_ref(), f.failure) else {
        return false;
    };
    policy.covers(class, &f.exit_codes) && f.attempt <= policy.max_retries
}

/// The worse of two step statuses (`skipped` < `succeeded` < `cancelled` <
/// `failed` < `timed_out`).
fn rank(s: &str) -> u8 {
    match s {
        "skipped" => 0,
        "succeeded" => 1,
        "cancelled" => 3,
        "failed" => 4,
        "timed_out" => 5,
        _ => 2,
    }
}

/// The digest of `run_id` as recorded; `finished` (the run's
/// `run.finished` event) decides `will_retry`, else the job version's own
/// retry policy does. `None` when the run does not exist.
pub async fn digest(
    db: &impl ConnectionTrait,
    run_id: Uuid,
    finished: Option<&RunFinished>,
) -> Result<Option<RunDigest>, DbErr> {
    Ok(digest_checked(db, run_id, finished).await?.map(|(d, _)| d))
}

/// [`digest`], and whether a failed step's output is still on its way to
/// PostgreSQL (the output recorder runs apart from the event recorder: a
/// failed step's stored lines are fewer than its `step_finished` says).
pub async fn digest_checked(
    db: &impl ConnectionTrait,
    run_id: Uuid,
    finished: Option<&RunFinished>,
) -> Result<Option<(RunDigest, bool)>, DbErr> {
    let Some(row) = db
        .query_one(stmt(
            RUN_SQL,
            vec![run_id.into(), BASELINE_RUNS.into(), HISTORY.into()],
        ))
        .await?
    else {
        return Ok(None);
    };
    let steps = db
        .query_all(stmt(STEPS_SQL, vec![run_id.into(), LAST_LINES.into()]))
        .await?;
    let targets = db.query_all(stmt(TARGETS_SQL, vec![run_id.into()])).await?;
    let mut pending = false;
    for st in &steps {
        let expected: Option<i64> = st.try_get("", "expected_lines")?;
        let stored: Option<i64> = st.try_get("", "stored_lines")?;
        if expected.unwrap_or(0) > stored.unwrap_or(0) {
            pending = true;
        }
    }
    Ok(Some((assemble(&row, &steps, &targets, finished)?, pending)))
}

fn assemble(
    row: &QueryResult,
    steps: &[QueryResult],
    targets: &[QueryResult],
    finished: Option<&RunFinished>,
) -> Result<RunDigest, DbErr> {
    let get_str = |c: &str| row.try_get::<Option<String>>("", c);
    let run_id: Uuid = row.try_get("", "id")?;
    let status_text: String = row.try_get("", "status")?;
    let status = finished
        .map(|f| f.status)
        .or_else(|| parse_status(&status_text))
        .unwrap_or(RunStatus::Running);
    let kind_text: String = row.try_get("", "trigger_kind")?;
    let kind: TriggerKind = serde_json::from_value(serde_json::Value::String(kind_text))
        .unwrap_or(TriggerKind::Integration);
    let actor: String = row.try_get("", "trigger_actor")?;
    let created_by: Option<Uuid> = row.try_get("", "created_by")?;
    let token_owner: Option<Uuid> = row.try_get("", "token_owner")?;
    let started_by = match kind {
        TriggerKind::Manual | TriggerKind::Api | TriggerKind::Rerun | TriggerKind::Adhoc => {
            created_by.or(token_owner).or_else(|| actor.parse().ok())
        }
        _ => None,
    };
    let trigger = Trigger {
        kind,
        actor,
        origin: get_str("trigger_origin")?,
        cause_run_id: row
            .try_get::<Option<Uuid>>("", "cause_run_id")?
            .or(row.try_get::<Option<Uuid>>("", "rerun_of")?),
    };
    let tags: Vec<String> = row
        .try_get::<Option<serde_json::Value>>("", "tags")?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let job = JobRef {
        id: row.try_get("", "job_id")?,
        name: get_str("current_name")?.unwrap_or(row.try_get("", "job_name")?),
        tags,
        owner_id: row.try_get("", "owner_id")?,
        critical: row
            .try_get::<Option<bool>>("", "critical")?
            .unwrap_or(false),
    };
    let attempt = u32::try_from(row.try_get::<i32>("", "attempt")?).unwrap_or(1);
    let will_retry = match finished {
        Some(f) => will_retry(f),
        None => {
            let policy: Option<RetryPolicy> = row
                .try_get::<Option<serde_json::Value>>("", "retry")?
                .and_then(|v| serde_json::from_value(v).ok());
            is_failure(status) && policy.is_some_and(|p| attempt <= p.max_retries)
        }
    };
    let samples: i64 = row.try_get("", "samples")?;
    let ms = |c: &str| -> Result<u64, DbErr> {
        let v: Option<f64> = row.try_get("", c)?;
        Ok(v.map_or(0, |v| v.max(0.0).round() as u64))
    };
    let baseline = if samples >= BASELINE_MIN {
        Some(Baseline {
            p95_ms: ms("p95")?,
            p50_ms: ms("p50")?,
            samples: u32::try_from(samples).unwrap_or(u32::MAX),
        })
    } else {
        None
    };
    let history: Vec<RunStatus> = row
        .try_get::<Option<Vec<String>>>("", "history")?
        .unwrap_or_default()
        .iter()
        .filter_map(|s| parse_status(s))
        .collect();
    let failure_streak = if is_failure(status) {
        let before = history.iter().take_while(|s| is_failure(**s)).count();
        u32::try_from(before + 1).unwrap_or(u32::MAX)
    } else {
        0
    };
    let duration_ms = finished.map(|f| f.duration_ms).or_else(|| {
        row.try_get::<Option<i64>>("", "duration_ms")
            .ok()
            .flatten()
            .and_then(|d| u64::try_from(d).ok())
    });
    let schedule = match row.try_get::<Option<Uuid>>("", "schedule_id")? {
        Some(id) => Some(ScheduleLink {
            id,
            name: get_str("schedule_name")?.unwrap_or_default(),
        }),
        None => None,
    };
    let (target_list, group_ids) = target_digests(targets, steps)?;
    Ok(RunDigest {
        run_id,
        job,
        job_version: u32::try_from(row.try_get::<i32>("", "job_version")?).unwrap_or(0),
        status,
        reason: finished
            .and_then(|f| f.reason.clone())
            .or(get_str("reason")?),
        trigger,
        started_by,
        attempt: finished.map_or(attempt, |f| f.attempt),
        retry_root: row
            .try_get::<Option<Uuid>>("", "retry_root")?
            .unwrap_or(run_id),
        will_retry,
        duration_ms,
        baseline,
        previous_status: history.first().copied(),
        failure_streak,
        targets: target_list,
        group_ids,
        failed_steps: failed_steps(steps)?,
        schedule,
    })
}

fn target_digests(
    targets: &[QueryResult],
    steps: &[QueryResult],
) -> Result<(Vec<TargetDigest>, Vec<Uuid>), DbErr> {
    let mut worst: std::collections::HashMap<Uuid, String> = std::collections::HashMap::new();
    for s in steps {
        let Some(t) = s.try_get::<Option<Uuid>>("", "target_id")? else {
            continue;
        };
        let status: String = s.try_get("", "status")?;
        let e = worst.entry(t).or_insert_with(|| status.clone());
        if rank(&status) > rank(e) {
            *e = status;
        }
    }
    let mut groups = std::collections::BTreeSet::new();
    let mut out = Vec::with_capacity(targets.len());
    for t in targets {
        let id: Uuid = t.try_get("", "id")?;
        groups.extend(t.try_get::<Vec<Uuid>>("", "group_ids")?);
        out.push(TargetDigest {
            id,
            name: t.try_get("", "name")?,
            status: worst.get(&id).cloned(),
        });
    }
    Ok((out, groups.into_iter().collect()))
}

fn failed_steps(steps: &[QueryResult]) -> Result<Vec<FailedStepDigest>, DbErr> {
    let mut out = Vec::new();
    for s in steps {
        let status: String = s.try_get("", "status")?;
        if status != "failed" && status != "timed_out" {
            continue;
        }
        out.push(FailedStepDigest {
            step_id: s.try_get("", "step_id")?,
            target: s.try_get("", "target_name")?,
            status,
            exit_code: s.try_get("", "exit_code")?,
            error: s.try_get("", "error")?,
            last_lines: s
                .try_get::<Option<Vec<String>>>("", "last_lines")?
                .unwrap_or_default(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use opsc_proto::run_policy::FailureClass;

    use super::*;

    fn failed(attempt: u32, class: FailureClass, codes: Vec<i32>) -> RunFinished {
        let mut f = RunFinished::new(Uuid::nil(), RunStatus::Failed, None, 10);
        f.attempt = attempt;
        f.failure = Some(class);
        f.exit_codes = codes;
        f.retry = serde_json::from_value(serde_json::json!({
            "max_retries": 2, "on": ["exit_code", "worker_lost"], "exit_codes": [3]
        }))
        .ok();
        f
    }

    #[test]
    fn will_retry_decides_as_the_scheduler_does() {
        assert!(will_retry(&failed(1, FailureClass::ExitCode, vec![3])));
        assert!(will_retry(&failed(2, FailureClass::WorkerLost, vec![])));
        assert!(
            !will_retry(&failed(3, FailureClass::ExitCode, vec![3])),
            "no attempts left"
        );
        assert!(
            !will_retry(&failed(1, FailureClass::ExitCode, vec![4])),
            "exit code not covered"
        );
        assert!(
            !will_retry(&failed(1, FailureClass::TimedOut, vec![])),
            "class not covered"
        );
        let mut ok = failed(1, FailureClass::ExitCode, vec![3]);
        ok.status = RunStatus::Succeeded;
        assert!(!will_retry(&ok), "no failure, no retry");
        let mut none = failed(1, FailureClass::ExitCode, vec![3]);
        none.retry = None;
        assert!(!will_retry(&none), "no policy, no retry");
    }

    #[test]
    fn the_worst_step_status_wins() {
        assert!(rank("timed_out") > rank("failed"));
        assert!(rank("failed") > rank("succeeded"));
        assert!(rank("succeeded") > rank("skipped"));
    }
}
