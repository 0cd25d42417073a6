//! The `schedules` table: cron schedules that start runs of a job.

use sea_orm::entity::prelude::*;

/// A schedule.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "schedules")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// The job it runs (the schedule goes with the job).
    pub job_id: Uuid,
    /// Who created it; `None` once that user is deleted (then only admins
    /// change it).
    pub owner_id: Option<Uuid>,
    /// The cron expression.
    pub cron: String,
    /// IANA time zone the expression is read in.
    pub time_zone: String,
    /// No fire before this instant.
    pub start_at: Option<DateTimeWithTimeZone>,
    /// No fire after this instant.
    pub end_at: Option<DateTimeWithTimeZone>,
    /// Disabled schedules do not fire.
    pub enabled: bool,
    /// Paused schedules do not fire; missed fires follow the misfire policy.
    pub paused: bool,
    /// `DstPolicy` as JSON.
    pub dst: Json,
    /// `MisfirePolicy` as JSON.
    pub misfire: Json,
    /// Non-secret parameter values given (an object).
    pub parameters: Json,
    /// Names of the secret parameters given (an array of strings).
    pub secret_names: Json,
    /// Secret parameter values (a JSON object), sealed by the vault.
    pub secret_parameters: Option<Vec<u8>>,
    /// Their wrapped data key.
    pub secret_dek: Option<Vec<u8>>,
    /// Their key-encryption key id.
    pub secret_kek_id: Option<String>,
    /// `TargetSelection` overriding the job's, as JSON.
    pub targets: Option<Json>,
    /// `RetryPolicy` of its runs as JSON, overriding the job's.
    pub retry: Option<Json>,
    /// Increases with every change.
    pub revision: i64,
    /// Created.
    pub created_at: DateTimeWithTimeZone,
    /// When its timing (cron, zone, DST policy, bounds) last changed;
    /// `None`: never since it was created. The scheduler fires nothing of
    /// the current timing before it.
    pub timing_changed_at: Option<DateTimeWithTimeZone>,
    /// Last changed.
    pub updated_at: DateTimeWithTimeZone,
}

/// No relations navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
