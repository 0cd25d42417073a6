//! The retry chain of a run, as `GET /api/v1/runs/{id}` shows it.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::store::run;

/// Longest chain shown (policies allow 20 retries).
const MAX_SHOWN: u64 = 100;

/// The later attempts of the chain `r` belongs to, oldest first: every run
/// of its root with a higher attempt.
pub async fn retries(db: &impl ConnectionTrait, r: &run::Model) -> Result<Vec<Uuid>, DbErr> {
    let root = r.retry_root.unwrap_or(r.id);
    run::Entity::find()
        .select_only()
        .column(run::Column::Id)
        .filter(run::Column::RetryRoot.eq(root))
        .filter(run::Column::Attempt.gt(r.attempt))
        .order_by_asc(run::Column::Attempt)
        .order_by_asc(run::Column::CreatedAt)
        .limit(MAX_SHOWN)
        .into_tuple::<Uuid>()
        .all(db)
        .await
}
