//! The `users` table.

use sea_orm::entity::prelude::*;

/// Roles, from most to least privileged.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages users, credentials and settings.
    #[sea_orm(string_value = "admin")]
    Admin,
    /// Runs and edits jobs.
    #[sea_orm(string_value = "operator")]
    Operator,
    /// Reads.
    #[sea_orm(string_value = "viewer")]
    Viewer,
}

/// A user row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Unique login name.
    #[sea_orm(unique)]
    pub username: String,
    /// Contact address.
    pub email: Option<String>,
    /// Shown in the console.
    pub display_name: String,
    /// Argon2id PHC string; never leaves the store.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// IANA time zone, for quiet hours.
    pub timezone: String,
    /// Inactive users cannot log in.
    pub active: bool,
    /// Created.
    pub created_at: DateTimeWithTimeZone,
    /// Last changed.
    pub updated_at: DateTimeWithTimeZone,
}

/// No relations yet.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
