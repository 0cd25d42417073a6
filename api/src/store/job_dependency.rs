//! The `job_dependencies` table: "run job B (downstream) when job A
//! (upstream) ends", one row per pair of jobs.

use sea_orm::entity::prelude::*;

/// A dependency of one job on another.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_dependencies")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Job A, whose ends are watched (the row goes with the job).
    pub upstream_job_id: Uuid,
    /// Job B, started when A ends as `on` says (the row goes with the job).
    pub downstream_job_id: Uuid,
    /// Which ends of A start B: `success`, `failure` or `any`.
    pub on: String,
    /// Only when A's end is handled within this many seconds of it.
    pub within_secs: Option<i64>,
    /// B's parameter → its source in A's run (an object of strings).
    pub parameters: Json,
    /// Disabled dependencies do not react.
    pub enabled: bool,
    /// Free text.
    pub description: String,
    /// Who created it; `None` once that user is deleted (then only admins
    /// change it).
    pub owner_id: Option<Uuid>,
    /// Increases with every change.
    pub revision: i64,
    /// Created.
    pub created_at: DateTimeWithTimeZone,
    /// Last changed.
    pub updated_at: DateTimeWithTimeZone,
}

/// No relations navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
