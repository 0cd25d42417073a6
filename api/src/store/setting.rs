//! The `settings` table: installation-wide settings changed through the API.

use sea_orm::entity::prelude::*;

/// A setting row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "settings")]
pub struct Model {
    /// Setting name.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Its value.
    pub value: Json,
    /// Last change.
    pub updated_at: DateTimeWithTimeZone,
}

/// No relations navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
