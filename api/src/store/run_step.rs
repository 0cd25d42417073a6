//! The `run_steps` table: one row per step and target of a run.

use sea_orm::entity::prelude::*;

/// A step on a target (`target_key` is the nil id for steps without a target).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "run_steps")]
pub struct Model {
    /// The run.
    #[sea_orm(primary_key, auto_increment = false)]
    pub run_id: Uuid,
    /// The step id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub step_id: String,
    /// The target, or the nil id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub target_key: Uuid,
    /// The target.
    pub target_id: Option<Uuid>,
    /// Position of the step in the job.
    pub position: i32,
    /// Latest attempt.
    pub attempt: i32,
    /// `running`, `succeeded`, `failed`, `skipped`, `cancelled`, `timed_out`.
    pub status: String,
    /// Exit code.
    pub exit_code: Option<i32>,
    /// Error.
    pub error: Option<String>,
    /// Output was cut at the cap.
    pub output_truncated: bool,
    /// Worker.
    pub worker_id: Option<String>,
    /// Started.
    pub started_at: Option<DateTimeWithTimeZone>,
    /// Finished.
    pub finished_at: Option<DateTimeWithTimeZone>,
    /// Duration.
    pub duration_ms: Option<i64>,
}

/// No relations navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
