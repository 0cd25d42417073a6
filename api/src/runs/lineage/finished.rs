//! What `run.finished` tells the scheduler, which has no database: the
//! run's job, version, trigger and place in its retry chain, why it failed
//! ([`FailureClass`]), the non-zero exit codes of its failed steps, and the
//! retry policy that applies to it (its schedule's when a schedule started
//! it and has one, else its job version's). Read in one statement for any
//! number of runs.
//!
//! How a failure is classified, first match wins:
//! - status `timed_out` → `timed_out`; `worker_lost` → `worker_lost`;
//! - status `failed` and a failed step whose error carries the stage of a
//!   connection that did not come up — `(dns)`, `(tcp)`, `(handshake)` or
//!   `(auth)`, as SSH, SFTP and WinRM steps report it (`<target> (tcp): …`,
//!   `WinRM (auth): …`), or `: cannot connect` as HTTP steps do —
//!   → `connection_error`;
//! - a step that timed out → `timed_out`;
//! - a failed step with a non-zero exit code → `exit_code`;
//! - anything else → `other`. Succeeded and cancelled runs have none.
//!
//! An egress refusal or a host key that does not match is no connection
//! error here: trying again cannot help, and must not be automatic.

use std::collections::BTreeMap;

use opsc_proto::commands::{Trigger, TriggerKind};
use opsc_proto::events::{RunFinished, RunStatus};
use opsc_proto::run_policy::{FailureClass, RetryPolicy};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

/// The run context, one row per run id in `$1`.
const CONTEXT: &str = r"
SELECT r.id, r.job_id, r.job_version, r.trigger_kind, r.trigger_actor, r.trigger_origin,
       coalesce(r.cause_run_id, r.rerun_of) AS cause_run_id, r.attempt, r.retry_root,
       v.definition -> 'retry' AS job_retry,
       (SELECT s.retry FROM schedules s
         WHERE r.trigger_kind = 'schedule' AND s.id::text = r.trigger_actor) AS schedule_retry,
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
                 'status', st.status, 'exit_code', st.exit_code, 'error', st.error)), '[]'::jsonb)
          FROM run_steps st
         WHERE st.run_id = r.id AND st.status IN ('failed', 'timed_out')) AS failed_steps
  FROM runs r
  LEFT JOIN job_versions v ON v.job_id = r.job_id AND v.version = r.job_version
 WHERE r.id IN (SELECT jsonb_array_elements_text($1::jsonb)::uuid)";

/// A failed step as the classification reads it.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct FailedStep {
    /// `failed` or `timed_out`.
    pub status: String,
    /// The command's exit code.
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// What went wrong.
    #[serde(default)]
    pub error: Option<String>,
}

/// Fills in the context of each message that has none yet (no `job_id`),
/// in one statement. A run whose row is gone keeps the bare message.
pub async fn describe(db: &impl ConnectionTrait, batch: &mut [RunFinished]) -> Result<(), DbErr> {
    let ids: Vec<Uuid> = batch
        .iter()
        .filter(|m| m.job_id.is_none())
        .map(|m| m.run_id)
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let rows = db
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            CONTEXT,
            vec![serde_json::json!(ids).into()],
        ))
        .await?;
    let mut by_id = BTreeMap::new();
    for row in rows {
        if let Ok(id) = row.try_get::<Uuid>("", "id") {
            by_id.insert(id, row);
        }
    }
    for m in batch.iter_mut().filter(|m| m.job_id.is_none()) {
        let Some(row) = by_id.get(&m.run_id) else {
            continue;
        };
        // A row that does not read must not hold back every other run's
        // end: this one is announced without its context.
        if let Err(e) = fill(m, row) {
            tracing::warn!(run_id = %m.run_id, error = %e, "The context of a run.finished does not read; published without it.");
        }
    }
    Ok(())
}

/// `m` with the context of its `row`; unchanged when a column does not read.
fn fill(m: &mut RunFinished, row: &QueryResult) -> Result<(), DbErr> {
    let kind: String = row.try_get("", "trigger_kind")?;
    let trigger = serde_json::from_value::<TriggerKind>(Value::String(kind))
        .ok()
        .map(|kind| Trigger {
            kind,
            actor: row.try_get("", "trigger_actor").unwrap_or_default(),
            origin: row.try_get("", "trigger_origin").ok().flatten(),
            cause_run_id: row.try_get("", "cause_run_id").ok().flatten(),
        });
    let steps: Vec<FailedStep> = row
        .try_get::<Option<Value>>("", "failed_steps")?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let policy = |column: &str| {
        row.try_get::<Option<Value>>("", column)
            .ok()
            .flatten()
            .and_then(|v| serde_json::from_value::<RetryPolicy>(v).ok())
    };
    let attempt: i32 = row.try_get("", "attempt")?;
    let job_id: Uuid = row.try_get("", "job_id")?;
    let job_version: i32 = row.try_get("", "job_version")?;
    let retry_root: Option<Uuid> = row.try_get("", "retry_root")?;
    m.job_id = Some(job_id);
    m.job_version = u32::try_from(job_version).ok();
    m.trigger = trigger;
    m.attempt = u32::try_from(attempt).unwrap_or(1).max(1);
    m.retry_root = Some(retry_root.unwrap_or(m.run_id));
    m.failure = classify(m.status, &steps);
    m.exit_codes = exit_codes(&steps);
    m.retry = policy("schedule_retry").or_else(|| policy("job_retry"));
    Ok(())
}

/// Why a run that ended with `status` failed; see the module docs.
pub(crate) fn classify(status: RunStatus, steps: &[FailedStep]) -> Option<FailureClass> {
    match status {
        RunStatus::TimedOut => Some(FailureClass::TimedOut),
        RunStatus::WorkerLost => Some(FailureClass::WorkerLost),
        RunStatus::Failed => Some(if steps.iter().any(is_connection_error) {
            FailureClass::ConnectionError
        } else if steps.iter().any(|s| s.status == "timed_out") {
            FailureClass::TimedOut
        } else if steps.iter().any(|s| s.exit_code.is_some_and(|c| c != 0)) {
            FailureClass::ExitCode
        } else {
            FailureClass::Other
        }),
        _ => None,
    }
}

/// Whether a step failed because its connection did not come up.
fn is_connection_error(step: &FailedStep) -> bool {
    let Some(error) = step.error.as_deref() else {
        return false;
    };
    ["(dns): ", "(tcp): ", "(handshake): ", "(auth): "]
        .iter()
        .any(|stage| error.contains(stage))
        || error.contains(": cannot connect")
}

/// The distinct non-zero exit codes of the failed steps, in order.
fn exit_codes(steps: &[FailedStep]) -> Vec<i32> {
    let mut codes: Vec<i32> = steps
        .iter()
        .filter_map(|s| s.exit_code)
        .filter(|c| *c != 0)
        .collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(status: &str, exit_code: Option<i32>, error: Option<&str>) -> FailedStep {
        FailedStep {
            status: status.into(),
            exit_code,
            error: error.map(str::to_owned),
        }
    }

    #[test]
    fn failures_are_classified_by_status_then_by_their_steps() {
        use FailureClass as F;
        assert_eq!(classify(RunStatus::Succeeded, &[]), None);
        assert_eq!(classify(RunStatus::Cancelled, &[]), None);
        assert_eq!(classify(RunStatus::TimedOut, &[]), Some(F::TimedOut));
        assert_eq!(classify(RunStatus::WorkerLost, &[]), Some(F::WorkerLost));
        assert_eq!(classify(RunStatus::Failed, &[]), Some(F::Other));
        let ssh = step("failed", None, Some("web1 (tcp): 10.0.0.1:22: refused"));
        let winrm = step("failed", None, Some("WinRM (auth): 401"));
        let http = step("failed", None, Some("GET https://x/: cannot connect: dns"));
        for s in [ssh, winrm, http] {
            assert_eq!(
                classify(RunStatus::Failed, std::slice::from_ref(&s)),
                Some(F::ConnectionError),
                "{s:?}"
            );
        }
        let host_key = step("failed", None, Some("web1 (host_key): changed"));
        assert_eq!(classify(RunStatus::Failed, &[host_key]), Some(F::Other));
        let code = step("failed", Some(3), Some("exited with 3"));
        assert_eq!(
            classify(RunStatus::Failed, std::slice::from_ref(&code)),
            Some(F::ExitCode)
        );
        let slow = step("timed_out", None, None);
        assert_eq!(
            classify(RunStatus::Failed, &[code, slow]),
            Some(F::TimedOut)
        );
    }

    #[test]
    fn exit_codes_are_the_distinct_non_zero_ones() {
        let steps = [
            step("failed", Some(3), None),
            step("failed", Some(0), None),
            step("failed", Some(3), None),
            step("timed_out", None, None),
            step("failed", Some(1), None),
        ];
        assert_eq!(exit_codes(&steps), vec![1, 3]);
    }
}
