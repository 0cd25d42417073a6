//! The `job_grants` table: who besides a job's owner may run or edit it.

use sea_orm::entity::prelude::*;

/// One grant: to a user, or to every holder of a role (one of the two).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_grants")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The job.
    pub job_id: Uuid,
    /// The user granted, for a user grant.
    pub user_id: Option<Uuid>,
    /// The role granted (`operator`), for a role grant.
    pub role: Option<String>,
    /// `run` or `edit` (which includes run).
    pub access: String,
    /// The user who made the grant.
    pub granted_by: Option<Uuid>,
    /// When.
    pub granted_at: DateTimeWithTimeZone,
}

/// No relations navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
