//! The first admin. There is no default password: it comes from
//! `OPSC_BOOTSTRAP_ADMIN_PASSWORD` (or its file) on the first start with an
//! empty user table; `opsconductor dev` generates one and prints it once.

use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use secrecy::{ExposeSecret, SecretString};

use crate::password;
use crate::store::user::{self, Role};
use crate::users::{NewUser, UserError};

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
    /// The user name or password is not acceptable.
    #[error("the first admin (security.bootstrap_admin_username): {0}")]
    Invalid(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// Creates the admin `username` when the user table is empty, through the
/// same domain function as `POST /api/v1/users`.
///
/// Safe when several api replicas start at once: the unique user name lets
/// exactly one insert win; the others see the name taken and report
/// `UsersExist`.
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
    let created = crate::users::create(
        db,
        NewUser {
            username: username.to_owned(),
            password: password.expose_secret().to_owned(),
            role: Role::Admin,
            email: None,
            display_name: Some("Administrator".to_owned()),
            timezone: None,
        },
    )
    .await;
    match created {
        Ok(admin) => {
            tracing::info!(username = %admin.username, "Created the first admin.");
            Ok(BootstrapOutcome::Created {
                username: admin.username,
            })
        }
        Err(UserError::Taken(_)) => {
            tracing::debug!("Another replica created the first admin.");
            Ok(BootstrapOutcome::UsersExist)
        }
        Err(UserError::Db(e)) => Err(e.into()),
        Err(e) => Err(BootstrapError::Invalid(e.to_string())),
    }
}
