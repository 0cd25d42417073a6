//! The `runs` table.

use sea_orm::entity::prelude::*;

/// A run.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "runs")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The job.
    pub job_id: Uuid,
    /// The job's name when the run started.
    pub job_name: String,
    /// The version run.
    pub job_version: i32,
    /// `waiting`, `queued`, `running`, `succeeded`, `failed`, `cancelled`, `timed_out`,
    /// `worker_lost`, `skipped`.
    pub status: String,
    /// Why it did not succeed.
    pub reason: Option<String>,
    /// `manual`, `api`, `schedule`, `dependency`, `retry`, `rerun`.
    pub trigger_kind: String,
    /// Who or what triggered it.
    pub trigger_actor: String,
    /// Non-secret parameters (defaults applied).
    pub parameters: Json,
    /// Secret parameters, sealed by the vault.
    pub secret_parameters: Option<Vec<u8>>,
    /// Their wrapped data key.
    pub secret_dek: Option<Vec<u8>>,
    /// Their key-encryption key id.
    pub secret_kek_id: Option<String>,
    /// Target override of the request.
    pub targets: Option<Json>,
    /// Resolved target ids (for filtering).
    pub target_ids: Json,
    /// Number of shards dispatched.
    pub shards: Option<i32>,
    /// The run must have ended by then (set when dispatched).
    pub deadline: Option<DateTimeWithTimeZone>,
    /// Finished shards: index → status.
    pub shards_finished: Json,
    /// The client's `Idempotency-Key`.
    pub idempotency_key: Option<String>,
    /// The intent the run was admitted from: one run per intent.
    pub intent_id: Option<String>,
    /// Where the intent came from (`scheduler`, `integration:ci` …).
    pub trigger_origin: Option<String>,
    /// The run that caused this one (dependency, retry, re-run).
    pub cause_run_id: Option<Uuid>,
    /// The run this one re-runs.
    pub rerun_of: Option<Uuid>,
    /// 1 for a first run, n + 1 for the n-th retry of it.
    pub attempt: i32,
    /// The failed run this one retries.
    pub retry_of: Option<Uuid>,
    /// The first run of its retry chain (`None` for a run that is no retry).
    pub retry_root: Option<Uuid>,
    /// The user who started it.
    pub created_by: Option<Uuid>,
    /// Accepted.
    pub created_at: DateTimeWithTimeZone,
    /// First step started.
    pub started_at: Option<DateTimeWithTimeZone>,
    /// Reached a terminal status.
    pub finished_at: Option<DateTimeWithTimeZone>,
    /// Last change.
    pub updated_at: DateTimeWithTimeZone,
}

/// No relations navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
