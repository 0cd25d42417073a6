//! Paging, in one place: every list of the API answers a [`Page`] of at
//! most 500 items, counted and cut by [`paged`].

use schemars::JsonSchema;
use sea_orm::{EntityTrait, PaginatorTrait, QuerySelect};
use serde::{Deserialize, Serialize};

/// Page size when none is asked for.
pub const DEFAULT_LIMIT: u64 = 50;
/// Largest page.
pub const MAX_LIMIT: u64 = 500;

/// A page of items.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Matching items in all.
    pub total: u64,
    /// Page size.
    pub limit: u64,
    /// Items skipped.
    pub offset: u64,
}

/// The largest offset sent to the database (its `OFFSET` is a bigint); a
/// larger one answers the same empty page.
pub const MAX_OFFSET: u64 = i64::MAX.unsigned_abs();

/// Paging parameters.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// Page size, 1 to 500 (default 50).
    #[serde(default = "default_limit")]
    pub limit: u64,
    /// Items to skip.
    #[serde(default)]
    pub offset: u64,
}

impl Default for Paging {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

impl Paging {
    /// Paging from optional parts (lists whose query type holds them).
    pub fn of(limit: Option<u64>, offset: Option<u64>) -> Self {
        Self {
            limit: limit.unwrap_or(DEFAULT_LIMIT),
            offset: offset.unwrap_or(0),
        }
    }
}

/// The default page size, for query types' serde defaults.
pub fn default_limit() -> u64 {
    DEFAULT_LIMIT
}

/// Runs `query` for one page: the total count, then `limit` (clamped to
/// 1..=500) rows from `offset`, each shown as `V`.
pub async fn paged<E, V>(
    db: &sea_orm::DatabaseConnection,
    query: sea_orm::Select<E>,
    paging: Paging,
) -> Result<Page<V>, sea_orm::DbErr>
where
    E: EntityTrait,
    E::Model: Into<V> + Send + Sync,
{
    paged_within(db, query, paging, MAX_LIMIT).await
}

/// [`paged`] with another largest page (the audit trail allows 1000).
pub async fn paged_within<E, V>(
    db: &sea_orm::DatabaseConnection,
    query: sea_orm::Select<E>,
    paging: Paging,
    max: u64,
) -> Result<Page<V>, sea_orm::DbErr>
where
    E: EntityTrait,
    E::Model: Into<V> + Send + Sync,
{
    let limit = paging.limit.clamp(1, max);
    let total = query.clone().count(db).await?;
    // PostgreSQL's OFFSET is a bigint: past every row anyway.
    let offset = paging.offset.min(MAX_OFFSET);
    let items = query
        .limit(limit)
        .offset(offset)
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Page {
        items,
        total,
        limit,
        offset: paging.offset,
    })
}
