//! Activating or deactivating many jobs at once, all or nothing: each job
//! needs what `PATCH /api/v1/jobs/{id}` needs ([`super::access`], `edit`),
//! and if one is unknown or not the caller's to change, none changes.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use super::access::{Action, Actor, allowed_on};
use crate::store::job;

/// The most jobs one request may change.
pub const MAX_IDS: usize = 500;

/// Why one job of the request cannot be changed.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    /// Where in the body (`/ids/3`).
    pub path: String,
    /// The job id.
    pub id: Uuid,
    /// `not_found` or `forbidden`.
    pub reason: &'static str,
    /// For a person.
    pub message: String,
}

/// Why nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    /// The request names no job, or too many.
    #[error("{0}")]
    Invalid(String),
    /// Some jobs cannot be changed: each of them.
    #[error("{} of the jobs cannot be changed", .0.len())]
    Refused(Vec<Refusal>),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Sets `active` on every job of `ids` in one transaction; the jobs before
/// the change, in the order given (duplicates once).
pub async fn set_active(
    db: &DatabaseConnection,
    ids: &[Uuid],
    actor: &Actor,
    active: bool,
) -> Result<Vec<job::Model>, BulkError> {
    if ids.is_empty() || ids.len() > MAX_IDS {
        return Err(BulkError::Invalid(format!(
            "`ids` must name 1 to {MAX_IDS} jobs"
        )));
    }
    let mut unique: Vec<(usize, Uuid)> = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        if !unique.iter().any(|(_, u)| u == id) {
            unique.push((i, *id));
        }
    }
    let txn = db.begin().await?;
    let rows = job::Entity::find()
        .filter(job::Column::Id.is_in(unique.iter().map(|(_, id)| *id)))
        .lock_exclusive()
        .all(&txn)
        .await?;
    let mut refused = Vec::new();
    let mut found = Vec::new();
    for (i, id) in &unique {
        // The hidden job of ad-hoc commands is no job of the job routes.
        let row = rows
            .iter()
            .find(|r| r.id == *id && *id != crate::runs::adhoc::JOB_ID);
        let Some(row) = row else {
            refused.push(Refusal {
                path: format!("/ids/{i}"),
                id: *id,
                reason: "not_found",
                message: format!("no job has the id {id}"),
            });
            continue;
        };
        if !allowed_on(&txn, actor, row).await?.permits(Action::Edit) {
            refused.push(Refusal {
                path: format!("/ids/{i}"),
                id: *id,
                reason: "forbidden",
                message: format!(
                    "you may not change job {:?}: only its owner, who holds an edit grant on it, and admins may",
                    row.name
                ),
            });
            continue;
        }
        found.push(row.clone());
    }
    if !refused.is_empty() {
        txn.rollback().await?;
        return Err(BulkError::Refused(refused));
    }
    job::Entity::update_many()
        .col_expr(job::Column::Active, Expr::value(active))
        .col_expr(
            job::Column::UpdatedAt,
            Expr::value(Utc::now().fixed_offset()),
        )
        .filter(job::Column::Id.is_in(found.iter().map(|j| j.id)))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(found)
}
