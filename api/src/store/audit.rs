//! The `audit_log` table.

use sea_orm::entity::prelude::*;

/// An audit record.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    /// Primary key (time-ordered).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// When.
    pub at: DateTimeWithTimeZone,
    /// Who (a user id), when known.
    pub actor_id: Option<Uuid>,
    /// Their user name (or the name tried at a failed login).
    pub actor_name: Option<String>,
    /// `user`, `api_token`, `anonymous` or `system`.
    pub actor_kind: String,
    /// What, e.g. `user.create` or `auth.login`.
    pub action: String,
    /// The kind of thing acted on.
    pub entity_type: Option<String>,
    /// Its id.
    pub entity_id: Option<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: String,
    /// The change, with secrets redacted.
    pub summary: Json,
    /// Client address.
    pub client_addr: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
}

/// No relations navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
