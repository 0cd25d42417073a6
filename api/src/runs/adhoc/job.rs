//! The installation's one hidden job, `ad-hoc`: each ad-hoc command is an
//! immutable version of it, saved by who ran it, so its runs are tied to
//! a job version like any other run (the run page, output, re-runs and the
//! worker-host rules read the version as they do for jobs). It has no
//! owner, so through the job routes only admins may touch it, and the jobs
//! list leaves it out.

use chrono::Utc;
use opsc_proto::job::JobDefinition;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
    SqlErr, TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

use crate::runs::AdmitError;
use crate::store::{job, job_version};

/// The id of the ad-hoc job, the same in every installation.
pub const JOB_ID: Uuid = Uuid::from_u128(0x0000_0000_adc0_7000_8000_0000_0000_0001);

/// Its name (and its definitions' name).
pub const JOB_NAME: &str = "ad-hoc";

/// The name it takes when a job of its own already holds [`JOB_NAME`].
const FALLBACK_NAME: &str = "ad-hoc (system)";

/// The version of the ad-hoc job that runs `def` for `author`: the current
/// one when it is that same definition saved by them, else a new one.
pub async fn version_for(
    db: &DatabaseConnection,
    def: &JobDefinition,
    author: Uuid,
) -> Result<i32, AdmitError> {
    // A first use racing another creates the row once; the loser retries.
    for _ in 0..2 {
        match attempt(db, def, author).await {
            Err(AdmitError::Db(e))
                if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
            done => return done,
        }
    }
    attempt(db, def, author).await
}

async fn attempt(
    db: &DatabaseConnection,
    def: &JobDefinition,
    author: Uuid,
) -> Result<i32, AdmitError> {
    let txn = db.begin().await?;
    let now = Utc::now().fixed_offset();
    let row = |n: i32| job_version::ActiveModel {
        job_id: Set(JOB_ID),
        version: Set(n),
        definition: Set(json!(def)),
        created_by: Set(Some(author)),
        created_at: Set(now),
    };
    // Locks the row so two commands cannot both create version N+1.
    let Some(current) = job::Entity::find_by_id(JOB_ID)
        .lock_exclusive()
        .one(&txn)
        .await?
    else {
        let taken = job::Entity::find()
            .filter(job::Column::Name.eq(JOB_NAME))
            .one(&txn)
            .await?
            .is_some();
        job::ActiveModel {
            id: Set(JOB_ID),
            name: Set(if taken { FALLBACK_NAME } else { JOB_NAME }.to_owned()),
            description: Set("Ad-hoc commands (opsconductor run); one version per command".into()),
            active: Set(true),
            current_version: Set(1),
            created_by: Set(None),
            owner_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        row(1).insert(&txn).await?;
        txn.commit().await?;
        return Ok(1);
    };
    if !current.active {
        return Err(AdmitError::Forbidden(format!(
            "ad-hoc commands are switched off: an admin deactivated the job {:?} (activate it to allow them)",
            current.name
        )));
    }
    let latest = job_version::Entity::find_by_id((JOB_ID, current.current_version))
        .one(&txn)
        .await?;
    let same = latest.is_some_and(|v| {
        v.created_by == Some(author)
            && serde_json::from_value::<JobDefinition>(v.definition).is_ok_and(|d| d == *def)
    });
    if same {
        txn.rollback().await?;
        return Ok(current.current_version);
    }
    let next = current.current_version + 1;
    row(next).insert(&txn).await?;
    let mut job: job::ActiveModel = current.into();
    job.current_version = Set(next);
    job.updated_at = Set(now);
    job.update(&txn).await?;
    txn.commit().await?;
    Ok(next)
}

/// The definition of version `version` of the ad-hoc job, if stored.
pub async fn definition(
    db: &DatabaseConnection,
    version: i32,
) -> Result<Option<JobDefinition>, AdmitError> {
    Ok(job_version::Entity::find_by_id((JOB_ID, version))
        .one(db)
        .await?
        .and_then(|v| serde_json::from_value(v.definition).ok()))
}
