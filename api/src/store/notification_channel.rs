//! The `notification_channels` table: where notifications go. The secrets
//! are sealed by the vault (bound to the channel's id), never in the clear.

use sea_orm::entity::prelude::*;

/// A notification channel.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_channels")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// `email`, `slack`, `teams` or `webhook`.
    pub kind: String,
    /// The public `ChannelSettings`.
    pub settings: Json,
    /// The sealed `ChannelSecrets` JSON.
    pub secrets: Option<Vec<u8>>,
    /// Its wrapped data key.
    pub secrets_dek: Option<Vec<u8>>,
    /// The key-encryption key's id.
    pub secrets_kek_id: Option<String>,
    /// The names of the secrets set (a list of strings), for reads.
    pub secrets_set: Json,
    /// Whether deliveries go out.
    pub enabled: bool,
    /// Whether `notify.*` steps may send through it.
    pub allow_steps: bool,
    /// Deliveries per minute at most.
    pub rate_limit_per_minute: Option<i32>,
    /// Attempts before a delivery is dead-lettered.
    pub max_attempts: i32,
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
