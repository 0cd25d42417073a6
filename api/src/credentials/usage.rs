//! Where a credential is used: the targets whose SSH, WinRM or HTTP
//! settings name it, and the jobs whose current version addresses one of
//! those targets by id or through a group's static members (job documents
//! name credentials only through their targets, resolved to ids at save).

use schemars::JsonSchema;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use serde::Serialize;
use uuid::Uuid;

/// A target or job that uses the credential.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UsedBy {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
}

/// `GET /api/v1/credentials/{id}/usage`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CredentialUsage {
    /// The credential.
    pub credential_id: Uuid,
    /// Targets whose connection settings name it, by name.
    pub targets: Vec<UsedBy>,
    /// Jobs whose current version (job-level or step-level targets) names
    /// one of those targets, or a group listing one of them, by name.
    /// Groups that select by tags are not followed.
    pub jobs: Vec<UsedBy>,
}

const TARGETS: &str = "SELECT id, name FROM targets \
    WHERE ssh ->> 'credential_id' = $1 OR winrm ->> 'credential_id' = $1 \
       OR http ->> 'credential_id' = $1 ORDER BY name";

/// Jobs naming the targets, directly or through a group's static members.
/// Every id stored in the definition's `targets`/`groups` lists is
/// collected by `jsonb_path_query`, job-level and per step.
const JOBS: &str = "WITH used AS ( \
      SELECT id::text AS id FROM targets \
      WHERE ssh ->> 'credential_id' = $1 OR winrm ->> 'credential_id' = $1 \
         OR http ->> 'credential_id' = $1 \
    ), via_groups AS ( \
      SELECT g.id::text AS id FROM target_groups g \
      WHERE EXISTS (SELECT 1 FROM jsonb_array_elements_text(COALESCE(g.members, '[]'::jsonb)) m \
                    WHERE m IN (SELECT id FROM used)) \
    ), named AS ( \
      SELECT j.id, j.name, r #>> '{}' AS ref \
      FROM jobs j JOIN job_versions v ON v.job_id = j.id AND v.version = j.current_version, \
      LATERAL jsonb_path_query(v.definition, 'lax $.**.targets.targets[*]') r \
      UNION ALL \
      SELECT j.id, j.name, r #>> '{}' \
      FROM jobs j JOIN job_versions v ON v.job_id = j.id AND v.version = j.current_version, \
      LATERAL jsonb_path_query(v.definition, 'lax $.**.targets.groups[*]') r \
    ) \
    SELECT DISTINCT id, name FROM named \
    WHERE id <> $2 AND (ref IN (SELECT id FROM used) OR ref IN (SELECT id FROM via_groups)) \
    ORDER BY name";

fn of(rows: &[sea_orm::QueryResult]) -> Result<Vec<UsedBy>, DbErr> {
    rows.iter()
        .map(|r| {
            Ok(UsedBy {
                id: r.try_get("", "id")?,
                name: r.try_get("", "name")?,
            })
        })
        .collect()
}

/// Where credential `id` is used (the caller checked it exists).
pub async fn usage(db: &impl ConnectionTrait, id: Uuid) -> Result<CredentialUsage, DbErr> {
    let key = id.to_string();
    let targets = db
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            TARGETS,
            [key.clone().into()],
        ))
        .await?;
    let jobs = db
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            JOBS,
            [key.into(), crate::runs::adhoc::JOB_ID.into()],
        ))
        .await?;
    Ok(CredentialUsage {
        credential_id: id,
        targets: of(&targets)?,
        jobs: of(&jobs)?,
    })
}
