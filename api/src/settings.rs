//! Installation-wide security settings, stored in PostgreSQL and cached
//! briefly so the guard does not read them on every request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use sea_orm::{DatabaseConnection, EntityTrait, sea_query::OnConflict};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use crate::store::setting;

/// The `security` settings an admin controls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// Admins must log in with a second factor; until they enrol, they can
    /// only reach their own profile and MFA enrolment.
    pub require_mfa_for_admins: bool,
    /// Anyone may register (as a viewer) at `POST /api/v1/auth/register`.
    pub self_registration: bool,
}

const KEY: &str = "security";
const TTL: Duration = Duration::from_secs(5);

/// Cached access to the settings.
#[derive(Debug, Clone)]
pub struct Settings {
    db: DatabaseConnection,
    cache: Arc<RwLock<Option<(Instant, SecuritySettings)>>>,
}

impl Settings {
    /// Settings read from `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            cache: Arc::new(RwLock::new(None)),
        }
    }

    /// Current settings (at most five seconds old); defaults when unset.
    pub async fn security(&self) -> SecuritySettings {
        if let Some((at, s)) = *self.cache.read().await
            && at.elapsed() < TTL
        {
            return s;
        }
        let loaded = match setting::Entity::find_by_id(KEY.to_owned())
            .one(&self.db)
            .await
        {
            Ok(row) => row
                .and_then(|row| serde_json::from_value(row.value).ok())
                .unwrap_or_default(),
            // Fail closed: keep the last known settings rather than defaults.
            Err(e) => {
                tracing::warn!(error = %e, "Reading security settings failed; keeping the last known.");
                if let Some((_, last)) = *self.cache.read().await {
                    return last;
                }
                return SecuritySettings {
                    require_mfa_for_admins: true,
                    self_registration: false,
                };
            }
        };
        *self.cache.write().await = Some((Instant::now(), loaded));
        loaded
    }

    /// Stores new settings.
    pub async fn set_security(&self, s: SecuritySettings) -> Result<(), sea_orm::DbErr> {
        let row = setting::ActiveModel {
            key: sea_orm::Set(KEY.to_owned()),
            value: sea_orm::Set(serde_json::to_value(s).unwrap_or_default()),
            updated_at: sea_orm::Set(chrono::Utc::now().fixed_offset()),
        };
        setting::Entity::insert(row)
            .on_conflict(
                OnConflict::column(setting::Column::Key)
                    .update_columns([setting::Column::Value, setting::Column::UpdatedAt])
                    .to_owned(),
            )
            .exec(&self.db)
            .await?;
        *self.cache.write().await = Some((Instant::now(), s));
        Ok(())
    }
}
