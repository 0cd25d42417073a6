//! The `schedule_fires` table: every occurrence the scheduler handled,
//! projected from its schedule events (one row per event id).

use sea_orm::entity::prelude::*;

/// One fire, skip or misfire.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "schedule_fires")]
pub struct Model {
    /// The event's id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The schedule.
    pub schedule_id: Uuid,
    /// `fired`, `skipped` or `misfired`.
    pub kind: String,
    /// The occurrence's instant.
    pub fire_at: DateTimeWithTimeZone,
    /// `misfired`: the last of the consecutive missed instants this row
    /// stands for (`None`: only `fire_at`).
    pub last_fire_at: Option<DateTimeWithTimeZone>,
    /// How many occurrences the row stands for (misfires are grouped).
    pub count: i64,
    /// `misfired`: `count` stopped at the scheduler's counting limit.
    pub count_capped: bool,
    /// `skipped`: the wall time the expression named, in the schedule's zone.
    pub local_time: Option<String>,
    /// When the api recorded it.
    pub recorded_at: DateTimeWithTimeZone,
    /// `fired`: milliseconds between the instant and the intent's acknowledgement.
    pub lag_ms: Option<f64>,
    /// `fired`: a catch-up of a missed fire.
    pub catch_up: bool,
    /// The maintenance window that skipped or deferred it.
    pub window_id: Option<Uuid>,
    /// Whether a window deferred it to its end.
    pub deferred: bool,
    /// `skipped`, `misfired`: why (`dst_gap`, `too_old` …).
    pub reason: Option<String>,
    /// `fired`: the run intent's idempotency key.
    pub intent_key: Option<String>,
    /// The schedule revision it was handled under.
    pub revision: i64,
    /// `fired`: the leader's lease term.
    pub term: Option<i64>,
}

/// No relations navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
