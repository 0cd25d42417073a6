//! The first admin. There is no default password: it comes from
//! `OPSC_BOOTSTRAP_ADMIN_PASSWORD` (or its file) on the first start with an
//! empty user table; `opsconductor dev` generates one and prints it once.

use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, PaginatorTrait, Set};
use secrecy::SecretString;

use crate::password;
use crate::store::user::{self, Role};

/// What start-up did about the first admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootstrapOutcome {
    /// Users exist; nothing was done (the bootstrap password is ignored).
    UsersExist,
    /// The admin was created with the configured password.
    Created {
        /// Its user name.
        username: String,
    },
}

/// Why the first admin could not be created.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// The user table is empty and no password was configured.
    #[error(
        "no users exist yet: set security.bootstrap_admin_password (OPSC_BOOTSTRAP_ADMIN_PASSWORD) or its _FILE to create the first admin"
    )]
    NoPassword,
    /// The configured password breaks the policy.
    #[error("security.bootstrap_admin_password (OPSC_BOOTSTRAP_ADMIN_PASSWORD) {0}")]
    Policy(#[from] password::PolicyError),
    /// Hashing failed.
    #[error("hashing the bootstrap password failed: {0}")]
    Hash(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// Creates the admin `username` when the user table is empty.
///
/// Safe when several api replicas start at once: the unique user name lets
/// exactly one insert win; the others see a conflict and report `UsersExist`.
pub async fn ensure_admin(
    db: &DatabaseConnection,
    username: &str,
    password: Option<SecretString>,
) -> Result<BootstrapOutcome, BootstrapError> {
    if user::Entity::find().count(db).await? > 0 {
        return Ok(BootstrapOutcome::UsersExist);
    }
    let password = password.ok_or(BootstrapError::NoPassword)?;
    password::check_policy(&password)?;
    let hash = password::hash(&password).map_err(|e| BootstrapError::Hash(e.to_string()))?;
    let now = chrono::Utc::now().fixed_offset();
    let admin = user::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        username: Set(username.trim().to_lowercase()),
        email: Set(None),
        display_name: Set("Administrator".to_owned()),
        password_hash: Set(hash),
        role: Set(Role::Admin),
        timezone: Set("UTC".to_owned()),
        active: Set(true),
        mfa_secret: Set(None),
        mfa_enabled: Set(false),
        mfa_last_step: Set(None),
        failed_logins: Set(0),
        locked_until: Set(None),
        password_changed_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
    };
    match admin.insert(db).await {
        Ok(_) => {
            tracing::info!(username, "Created the first admin.");
            Ok(BootstrapOutcome::Created {
                username: username.to_owned(),
            })
        }
        Err(e) if user::Entity::find().count(db).await.unwrap_or(0) > 0 => {
            tracing::debug!(error = %e, "Another replica created the first admin.");
            Ok(BootstrapOutcome::UsersExist)
        }
        Err(e) => Err(e.into()),
    }
}
