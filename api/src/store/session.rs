//! The `refresh_tokens` table: one row per refresh token, grouped in families
//! (one family = one login session).

use sea_orm::entity::prelude::*;

/// A refresh token row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The session it belongs to.
    pub family_id: Uuid,
    /// Its user.
    pub user_id: Uuid,
    /// SHA-256 of the token.
    pub token_hash: String,
    /// Expiry.
    pub expires_at: DateTimeWithTimeZone,
    /// When it was exchanged; a second use revokes the family.
    pub used_at: Option<DateTimeWithTimeZone>,
    /// When the family was revoked.
    pub revoked_at: Option<DateTimeWithTimeZone>,
    /// Client address at issue.
    pub client_addr: Option<String>,
    /// Whether the session passed a second factor at login; carried forward.
    pub mfa: bool,
    /// Issued.
    pub created_at: DateTimeWithTimeZone,
}

/// No relations navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
