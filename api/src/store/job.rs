//! The `jobs` table: one row per job; its definitions live in `job_versions`,
//! who else may run or edit it in `job_grants`.

use sea_orm::entity::prelude::*;

/// A job.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Unique name (of the current version).
    pub name: String,
    /// Description (of the current version).
    pub description: String,
    /// Inactive jobs cannot be run.
    pub active: bool,
    /// The latest version.
    pub current_version: i32,
    /// Creator.
    pub created_by: Option<Uuid>,
    /// The user who owns it (edits, runs, grants); `None`: only admins.
    pub owner_id: Option<Uuid>,
    /// Created.
    pub created_at: DateTimeWithTimeZone,
    /// Last changed.
    pub updated_at: DateTimeWithTimeZone,
}

/// No relations navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
