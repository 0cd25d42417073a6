//! The `notification_preferences` table: one user's choices.

use sea_orm::entity::prelude::*;

/// A user's notification preferences.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_preferences")]
pub struct Model {
    /// The user.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// The preferences body.
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
