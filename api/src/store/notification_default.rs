//! The `notification_defaults` table: one row (id 1), the admins' defaults.

use sea_orm::entity::prelude::*;

/// The defaults.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_defaults")]
pub struct Model {
    /// Always 1.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i16,
    /// An `opsc_proto::notify::DefaultsDoc`.
    pub document: Json,
    /// Last changed.
    pub updated_at: DateTimeWithTimeZone,
    /// Increases with every change.
    pub revision: i64,
}

/// No relations navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
