//! The `job_versions` table: immutable definitions.

use sea_orm::entity::prelude::*;

/// One version of a job.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_versions")]
pub struct Model {
    /// The job.
    #[sea_orm(primary_key, auto_increment = false)]
    pub job_id: Uuid,
    /// Version number from 1.
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i32,
    /// The definition document.
    pub definition: Json,
    /// Author.
    pub created_by: Option<Uuid>,
    /// Created.
    pub created_at: DateTimeWithTimeZone,
}

/// No relations navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
