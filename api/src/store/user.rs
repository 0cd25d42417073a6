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
    schemars::JsonSchema,
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
    /// TOTP secret, sealed with the MFA key (see `auth::totp::seal`).
    pub mfa_secret: Option<Vec<u8>>,
    /// Whether login requires a second factor.
    pub mfa_enabled: bool,
    /// The last TOTP step accepted; older or equal steps are refused.
    pub mfa_last_step: Option<i64>,
    /// Consecutive failed logins.
    pub failed_logins: i32,
    /// No login until then.
    pub locked_until: Option<DateTimeWithTimeZone>,
    /// Last password change.
    pub password_changed_at: DateTimeWithTimeZone,
    /// Created.
    pub created_at: DateTimeWithTimeZone,
    /// Last changed.
    pub updated_at: DateTimeWithTimeZone,
}

/// No relations yet.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Role {
    /// Higher ranks include lower ones: admin > operator > viewer.
    pub fn rank(self) -> u8 {
        match self {
            Self::Admin => 3,
            Self::Operator => 2,
            Self::Viewer => 1,
        }
    }

    /// The lesser of two roles.
    pub fn min(self, other: Self) -> Self {
        if self.rank() <= other.rank() {
            self
        } else {
            other
        }
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Operator => "operator",
            Self::Viewer => "viewer",
        }
    }

    /// Every role.
    pub const ALL: [Role; 3] = [Role::Admin, Role::Operator, Role::Viewer];
}
