//! The `recovery_codes` table: single-use MFA recovery codes, hashed.

use sea_orm::entity::prelude::*;

/// A recovery code row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recovery_codes")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Its user.
    pub user_id: Uuid,
    /// SHA-256 of the code.
    pub code_hash: String,
    /// When it was used.
    pub used_at: Option<DateTimeWithTimeZone>,
}

/// No relations navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
