//! `GET /api/v1/jobs` for the console: the filters on tags, owner and the
//! status of a job's last run, and each item's tags and last run. Two
//! queries per page beyond the jobs themselves (tags of the current
//! versions, the newest run of each job through `idx_runs_job`).

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use opsc_proto::events::RunStatus;
use schemars::JsonSchema;
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryFilter, Select, Statement, Value};
use serde::Serialize;
use uuid::Uuid;

use super::view::JobSummary;
use crate::store::job;

/// The newest run of a job.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LastRun {
    /// The run.
    pub id: Uuid,
    /// Its status.
    pub status: String,
    /// When it was accepted.
    pub accepted_at: DateTime<Utc>,
    /// When it ended (`null` while it goes on).
    pub finished_at: Option<DateTime<Utc>>,
}

/// A job in `GET /api/v1/jobs`: its summary, tags and last run.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JobListItem {
    /// The job.
    #[serde(flatten)]
    pub job: JobSummary,
    /// The current version's tags.
    pub tags: Vec<String>,
    /// Its newest run (`null` when it never ran).
    pub last_run: Option<LastRun>,
}

/// The filters beyond name and activity.
#[derive(Debug, Default)]
pub struct Filters<'a> {
    /// The current version carries every one of these tags.
    pub tags: Vec<String>,
    /// Owned by this user: an id, or a login name.
    pub owner: Option<&'a str>,
    /// The newest run has this status.
    pub last_status: Option<RunStatus>,
}

/// Tags from `a,b` (blank ones dropped).
pub fn tags_of(list: Option<&str>) -> Vec<String> {
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `s` narrowed by `f`.
pub fn filter(mut s: Select<job::Entity>, f: &Filters<'_>) -> Select<job::Entity> {
    if !f.tags.is_empty() {
        s = s.filter(Expr::cust_with_values(
            "EXISTS (SELECT 1 FROM job_versions v WHERE v.job_id = jobs.id \
             AND v.version = jobs.current_version AND v.definition -> 'tags' @> $1::jsonb)",
            [serde_json::json!(f.tags).to_string()],
        ));
    }
    if let Some(owner) = f.owner.map(str::trim).filter(|o| !o.is_empty()) {
        s = match owner.parse::<Uuid>() {
            Ok(id) => s.filter(Expr::cust_with_values("jobs.owner_id = $1", [id])),
            Err(_) => s.filter(Expr::cust_with_values(
                "jobs.owner_id = (SELECT u.id FROM users u WHERE u.username = $1)",
                [owner.to_owned()],
            )),
        };
    }
    if let Some(st) = f.last_status {
        s = s.filter(Expr::cust_with_values(
            "(SELECT r.status FROM runs r WHERE r.job_id = jobs.id \
             ORDER BY r.created_at DESC LIMIT 1) = $1",
            [crate::runs::wire_name(st)],
        ));
    }
    s
}

/// `(1, 2, …)` placeholders for `n` values from `$start`.
fn placeholders(n: usize, start: usize, cast: &str) -> String {
    (start..start + n)
        .map(|i| format!("(${i}::{cast})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The page's items: `jobs` with their tags and last runs.
pub async fn items(
    db: &impl ConnectionTrait,
    jobs: Vec<JobSummary>,
) -> Result<Vec<JobListItem>, DbErr> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Value> = jobs.iter().map(|j| j.id.into()).collect();
    let list = placeholders(ids.len(), 1, "uuid");
    let tag_rows = db
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "SELECT j.id, COALESCE(v.definition -> 'tags', '[]'::jsonb) AS tags \
                 FROM (VALUES {list}) AS w(id) JOIN jobs j ON j.id = w.id \
                 JOIN job_versions v ON v.job_id = j.id AND v.version = j.current_version"
            ),
            ids.clone(),
        ))
        .await?;
    let mut tags: HashMap<Uuid, Vec<String>> = HashMap::new();
    for r in tag_rows {
        let id: Uuid = r.try_get("", "id")?;
        let t: serde_json::Value = r.try_get("", "tags")?;
        tags.insert(id, serde_json::from_value(t).unwrap_or_default());
    }
    let run_rows = db
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "SELECT w.id AS job_id, r.id, r.status, r.created_at, r.finished_at \
                 FROM (VALUES {list}) AS w(id) CROSS JOIN LATERAL ( \
                   SELECT id, status, created_at, finished_at FROM runs \
                   WHERE job_id = w.id ORDER BY created_at DESC LIMIT 1) r"
            ),
            ids,
        ))
        .await?;
    let mut last: HashMap<Uuid, LastRun> = HashMap::new();
    for r in run_rows {
        let job_id: Uuid = r.try_get("", "job_id")?;
        last.insert(
            job_id,
            LastRun {
                id: r.try_get("", "id")?,
                status: r.try_get("", "status")?,
                accepted_at: r
                    .try_get::<DateTime<FixedOffset>>("", "created_at")?
                    .to_utc(),
                finished_at: r
                    .try_get::<Option<DateTime<FixedOffset>>>("", "finished_at")?
                    .map(|t| t.to_utc()),
            },
        );
    }
    Ok(jobs
        .into_iter()
        .map(|j| JobListItem {
            tags: tags.remove(&j.id).unwrap_or_default(),
            last_run: last.remove(&j.id),
            job: j,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_split_on_commas() {
        assert_eq!(tags_of(Some("prod, web,,")), ["prod", "web"]);
        assert!(tags_of(None).is_empty());
    }
}
