//! The `notification_rules` table: who hears about what, as a `RuleDoc`.

use sea_orm::entity::prelude::*;

/// A notification rule.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_rules")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// The rule's body (an `opsc_proto::notify::RuleDoc` without id and revision).
    pub document: Json,
    /// Whether it applies.
    pub enabled: bool,
    /// Who created it.
    pub created_by: Option<Uuid>,
    /// Created.
    pub created_at: DateTimeWithTimeZone,
    /// Last changed.
    pub updated_at: DateTimeWithTimeZone,
    /// Increases with every change.
    pub revision: i64,
}

/// No relations navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
