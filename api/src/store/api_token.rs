//! The `api_tokens` table.

use sea_orm::entity::prelude::*;

use super::user::Role;

/// An API token row; the secret itself is never stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_tokens")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// A name the owner chose.
    pub name: String,
    /// Role granted (at most the owner's).
    pub role: Role,
    /// SHA-256 of the secret.
    pub token_hash: String,
    /// First characters, to recognise it in lists.
    pub token_prefix: String,
    /// Expiry, if any.
    pub expires_at: Option<DateTimeWithTimeZone>,
    /// Last use.
    pub last_used_at: Option<DateTimeWithTimeZone>,
    /// Revocation.
    pub revoked_at: Option<DateTimeWithTimeZone>,
    /// Created.
    pub created_at: DateTimeWithTimeZone,
    /// Minted from a session that passed a second factor.
    pub mfa: bool,
}

/// No relations navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Entity::belongs_to(super::user::Entity)
            .from(Column::UserId)
            .to(super::user::Column::Id)
            .into()
    }
}
