//! The `targets` table.

use sea_orm::entity::prelude::*;

/// A target row; protocol settings are JSON documents validated by `targets::spec`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "targets")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// Host name or address.
    pub hostname: String,
    /// `windows`, `linux`, `unix`, `network_device`, `other`.
    pub os_type: String,
    /// SSH settings.
    pub ssh: Option<Json>,
    /// WinRM settings.
    pub winrm: Option<Json>,
    /// HTTP settings.
    pub http: Option<Json>,
    /// Tags (a JSON array of strings).
    pub tags: Json,
    /// Free-form metadata.
    pub metadata: Json,
    /// The worker pool that reaches it.
    pub pool: String,
    /// Disabled targets are skipped.
    pub enabled: bool,
    /// Pinned SSH host key.
    pub host_key: Option<Json>,
    /// Outcome of the last connection test.
    pub last_test: Option<Json>,
    /// Created.
    pub created_at: DateTimeWithTimeZone,
    /// Last changed.
    pub updated_at: DateTimeWithTimeZone,
}

/// No relations navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
