//! Ending sessions and opening accounts: logout (one session), revoke-all
//! (every session of oneself or, for admins, of another user) and
//! self-registration as a viewer, when an admin turned it on.

use schemars::JsonSchema;
use sea_orm::DbErr;
use serde::Deserialize;
use uuid::Uuid;

use super::{Credential, Principal};
use crate::core::Core;
use crate::sessions;
use crate::store::user::Role;
use crate::users::{self, NewUser, UserError, UserView};

/// Why a logout did nothing.
#[derive(Debug, thiserror::Error)]
pub enum LogoutError {
    /// The refresh token is not one this api issued.
    #[error("unknown refresh token")]
    UnknownToken,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Ends the session of a refresh token; the session (family) ended.
pub async fn logout(core: &Core, refresh: &str) -> Result<Uuid, LogoutError> {
    let family = sessions::family_of(core, refresh)
        .await?
        .ok_or(LogoutError::UnknownToken)?;
    sessions::revoke_family(core, family).await?;
    Ok(family)
}

/// Why sessions were not revoked.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    /// Another user's sessions, from a session that passed no second
    /// factor while admins must use one.
    #[error("Revoking another user's sessions needs an MFA session.")]
    NeedsMfa,
    /// Another user's sessions, by someone who is not an admin.
    #[error("Only admins may revoke another user's sessions.")]
    NotAdmin,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// What revoke-all ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revoked {
    /// Whose sessions.
    pub user_id: Uuid,
    /// How many refresh tokens were revoked.
    pub sessions_ended: u64,
}

/// Revokes every session of `me`, or of `user` (admins only, and from an
/// MFA session when admins must use one).
pub async fn revoke_all(
    core: &Core,
    me: &Principal,
    user: Option<Uuid>,
) -> Result<Revoked, RevokeError> {
    let target = user.unwrap_or(me.user_id);
    let mfa_missing = matches!(me.credential, Credential::Session { mfa: false, .. })
        && core.settings.security().await.require_mfa_for_admins;
    if target != me.user_id && mfa_missing {
        return Err(RevokeError::NeedsMfa);
    }
    if target != me.user_id && !me.has(Role::Admin) {
        return Err(RevokeError::NotAdmin);
    }
    let sessions_ended = sessions::revoke_user(core, target).await?;
    Ok(Revoked {
        user_id: target,
        sessions_ended,
    })
}

/// `POST /api/v1/auth/register` (when self-registration is on).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// User name.
    pub username: String,
    /// Password (at least 12 characters, not a common one).
    pub password: String,
    /// Contact address.
    #[serde(default)]
    pub email: Option<String>,
}

/// Why a registration was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// Self-registration is off (the default).
    #[error("Self-registration is turned off.")]
    Closed,
    /// The user could not be created (a bad field, a taken name).
    #[error(transparent)]
    User(#[from] UserError),
}

/// Registers a new viewer, when the security settings allow it.
pub async fn register(core: &Core, r: RegisterRequest) -> Result<UserView, RegisterError> {
    if !core.settings.security().await.self_registration {
        return Err(RegisterError::Closed);
    }
    Ok(users::create(
        core.db(),
        NewUser {
            username: r.username,
            password: r.password,
            role: Role::Viewer,
            email: r.email,
            display_name: None,
            timezone: None,
        },
    )
    .await?)
}
