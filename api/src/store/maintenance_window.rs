//! The `maintenance_windows` table: when runs and schedule fires keep off
//! jobs and targets.

use sea_orm::entity::prelude::*;

/// A maintenance window.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "maintenance_windows")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Disabled windows apply nowhere.
    pub enabled: bool,
    /// When it is open: an `opsc_proto::schedule::WindowTiming`.
    pub timing: Json,
    /// What it covers: an `opsc_proto::schedule::WindowScope`.
    pub scope: Json,
    /// `skip` or `defer`: what a schedule fire inside it does.
    pub fire_policy: String,
    /// `exclude` or `include`: what a run does with its targets inside it.
    pub target_policy: String,
    /// Increases with every change.
    pub revision: i64,
    /// Who created it; `None` once that user is deleted.
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
