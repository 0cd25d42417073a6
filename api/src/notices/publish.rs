//! Notices of facts other modules record: a schedule's skipped or missed
//! occurrence (after `recorder-schedules` stored it) and a failed
//! connection test (after `last_test` was stored).

use chrono::{DateTime, Utc};
use opsc_proto::notify::{JobRef, Notice, NoticeKind, ScheduleNotice, TargetNotice};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::core::Core;

/// Why a notice was not published.
#[derive(Debug, thiserror::Error)]
pub enum NoticeError {
    /// Reading its context failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    /// The bus did not take it.
    #[error(transparent)]
    Publish(#[from] opsc_runtime::bus::PublishError),
}

/// A recorded schedule occurrence, as `recorder-schedules` has it.
#[derive(Debug, Clone, Copy)]
pub struct ScheduleFact<'a> {
    /// The schedule.
    pub schedule_id: Uuid,
    /// `fired`, `skipped` or `misfired` (only the last two make notices).
    pub kind: &'a str,
    /// The occurrence.
    pub fire_at: DateTime<Utc>,
    /// The reason token (`window`, `dst_gap`, `too_old` …).
    pub reason: Option<&'a str>,
    /// The maintenance window that skipped it.
    pub window_id: Option<Uuid>,
}

const SCHEDULE_SQL: &str = r"
SELECT s.name, s.job_id, j.name AS job_name, j.owner_id,
  COALESCE(v.definition -> 'tags', '[]'::jsonb) AS tags,
  COALESCE((v.definition ->> 'critical')::boolean, false) AS critical
FROM schedules s
JOIN jobs j ON j.id = s.job_id
LEFT JOIN job_versions v ON v.job_id = j.id AND v.version = j.current_version
WHERE s.id = $1
";

/// A reason token, for people.
fn describe(kind: &str, reason: Option<&str>) -> String {
    let why = match reason.unwrap_or("") {
        "window" => "a maintenance window was open",
        "dst_gap" => "the local time does not exist (daylight-saving gap)",
        "misfire_skip" => "it was missed and the misfire policy skips missed occurrences",
        "too_old" => "it was missed by more than the catch-up limit",
        "superseded" => "a later occurrence replaced it",
        "over_max_count" => "more occurrences were missed than are caught up",
        "" => "no reason given",
        other => other,
    };
    format!("{kind}: {why}")
}

/// Publishes the `schedule_skipped` / `schedule_misfired` notice of a
/// recorded occurrence; a fired one, or one of a deleted schedule, makes none.
pub async fn schedule_notice(core: &Core, fact: ScheduleFact<'_>) -> Result<(), NoticeError> {
    let (kind, token) = match fact.kind {
        "skipped" => (NoticeKind::ScheduleSkipped, "skipped"),
        "misfired" => (NoticeKind::ScheduleMisfired, "misfired"),
        _ => return Ok(()),
    };
    let Some(row) = core
        .db()
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            SCHEDULE_SQL,
            [fact.schedule_id.into()],
        ))
        .await?
    else {
        return Ok(());
    };
    let job = JobRef {
        id: row.try_get("", "job_id")?,
        name: row.try_get("", "job_name")?,
        tags: row
            .try_get::<serde_json::Value>("", "tags")
            .ok()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default(),
        owner_id: row.try_get("", "owner_id")?,
        critical: row.try_get("", "critical")?,
    };
    let notice = Notice {
        notice_id: format!(
            "schedule:{}:{}:{token}",
            fact.schedule_id,
            fact.fire_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        ),
        kind,
        at: Utc::now(),
        console_url: super::console_url(core),
        run: None,
        schedule: Some(ScheduleNotice {
            schedule_id: fact.schedule_id,
            name: row.try_get("", "name")?,
            job,
            fire_at: fact.fire_at,
            reason: describe(token, fact.reason),
            window_id: fact.window_id,
        }),
        target: None,
        dead_letter: None,
    };
    super::send(core, notice).await?;
    Ok(())
}

const GROUPS_SQL: &str = r"
SELECT ARRAY(SELECT g.id FROM target_groups g
  WHERE EXISTS (SELECT 1 FROM jsonb_array_elements_text(g.members) m WHERE m = $1::text)
  ORDER BY g.id) AS group_ids
";

/// A failed connection test, as recorded.
#[derive(Debug, Clone, Copy)]
pub struct TestFact<'a> {
    /// The target.
    pub target_id: Uuid,
    /// Its name.
    pub name: &'a str,
    /// What failed (the stage and the worker's error).
    pub error: &'a str,
    /// When it was tested (part of the notice id).
    pub tested_at: DateTime<Utc>,
    /// Who ran the test, when known.
    pub tested_by: Option<Uuid>,
}

/// Publishes the `target_test_failed` notice of a recorded failed test.
/// Failing to publish is logged, never fails the test's answer.
pub async fn target_test_failed(core: &Core, fact: TestFact<'_>) {
    if let Err(e) = try_target_test_failed(core, fact).await {
        tracing::warn!(target_id = %fact.target_id, error = %e, "The failed connection test's notice was not published.");
    }
}

async fn try_target_test_failed(core: &Core, fact: TestFact<'_>) -> Result<(), NoticeError> {
    let group_ids: Vec<Uuid> = match core
        .db()
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            GROUPS_SQL,
            [fact.target_id.into()],
        ))
        .await?
    {
        Some(r) => r.try_get("", "group_ids")?,
        None => Vec::new(),
    };
    let notice = Notice {
        notice_id: format!(
            "target:{}:{}",
            fact.target_id,
            fact.tested_at.timestamp_micros()
        ),
        kind: NoticeKind::TargetTestFailed,
        at: fact.tested_at,
        console_url: super::console_url(core),
        run: None,
        schedule: None,
        target: Some(TargetNotice {
            target_id: fact.target_id,
            name: fact.name.to_owned(),
            group_ids,
            error: redact(fact.error),
            tested_by: fact.tested_by,
        }),
        dead_letter: None,
    };
    super::send(core, notice).await?;
    Ok(())
}

/// A test error as it may travel: bounded, with `user:password@` in URLs
/// and `password=` / `token=` values masked (the worker's errors name no
/// secrets; this is a safety net).
fn redact(error: &str) -> String {
    let mut out: String = error.chars().take(2000).collect();
    for key in ["password=", "passwd=", "token=", "secret="] {
        let mut from = 0;
        while let Some(i) = out[from..].to_ascii_lowercase().find(key) {
            let start = from + i + key.len();
            let end = out[start..]
                .find(|c: char| c.is_whitespace() || c == '&' || c == ';' || c == ',')
                .map_or(out.len(), |e| start + e);
            out.replace_range(start..end, "***");
            from = start + 3;
        }
    }
    if let Some(scheme) = out.find("://")
        && let Some(at) = out[scheme + 3..].find('@')
    {
        let at = scheme + 3 + at;
        if !out[scheme + 3..at].contains(char::is_whitespace) {
            out.replace_range(scheme + 3..at, "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials_in_errors() {
        assert_eq!(
            redact("auth failed password=hunter2 for x"),
            "auth failed password=*** for x"
        );
        assert_eq!(
            redact("GET https://u:p@h/x failed"),
            "GET https://***@h/x failed"
        );
        assert_eq!(redact("timeout"), "timeout");
    }
}
