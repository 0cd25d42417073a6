//! Login sessions: a family of rotating refresh tokens plus short-lived
//! access tokens. Presenting a refresh token twice revokes its family:
//! one of the two holders is a thief, and neither keeps access.

use chrono::{Duration, Utc};
use schemars::JsonSchema;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use uuid::Uuid;

use crate::auth::{jwt, secret};
use crate::core::Core;
use crate::store::{session, user};

/// Why a refresh token was not exchanged.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Unknown, used, expired or revoked (the caller learns no more).
    #[error("the refresh token is invalid, expired or revoked")]
    Invalid,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// What login and refresh answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TokenPair {
    /// Bearer token for API calls.
    pub access_token: String,
    /// Exchange it at `/api/v1/auth/refresh` for a new pair; single use.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// Starts or continues a session for `user`: stores a new refresh token of
/// `family` and signs an access token.
pub async fn issue(
    state: &Core,
    u: &user::Model,
    family: Uuid,
    mfa: bool,
    client_addr: Option<String>,
) -> Result<TokenPair, sea_orm::DbErr> {
    let now = Utc::now();
    let auth = &state.config.auth;
    let refresh = secret::generate(secret::REFRESH_PREFIX);
    session::ActiveModel {
        id: Set(Uuid::now_v7()),
        family_id: Set(family),
        user_id: Set(u.id),
        token_hash: Set(secret::hash(&refresh)),
        expires_at: Set((now + Duration::seconds(secs(auth.refresh_token_ttl_secs))).fixed_offset()),
        used_at: Set(None),
        revoked_at: Set(None),
        client_addr: Set(client_addr),
        mfa: Set(mfa),
        created_at: Set(now.fixed_offset()),
    }
    .insert(state.db())
    .await?;
    let claims = jwt::Claims {
        iss: jwt::ISSUER.into(),
        aud: jwt::AUDIENCE.into(),
        sub: u.id,
        iat: now.timestamp(),
        exp: now.timestamp() + secs(auth.access_token_ttl_secs),
        jti: Uuid::now_v7(),
        sid: family,
        mfa,
    };
    Ok(TokenPair {
        access_token: jwt::sign(&state.keys, &claims),
        refresh_token: refresh,
        token_type: "Bearer",
        expires_in: auth.access_token_ttl_secs,
    })
}

fn secs(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX / 2)
}

/// The outcome of a refresh, for the audit record.
#[derive(Debug)]
pub enum Rotation {
    /// A new pair for this user.
    Rotated(Box<(TokenPair, user::Model)>),
    /// The token was used before: the family is now revoked.
    ReuseDetected(Uuid),
}

/// Exchanges a refresh token for a new pair.
pub async fn rotate(
    state: &Core,
    refresh: &str,
    client_addr: Option<String>,
) -> Result<Rotation, SessionError> {
    let db = state.db();
    let now = Utc::now();
    let row = session::Entity::find()
        .filter(session::Column::TokenHash.eq(secret::hash(refresh)))
        .one(db)
        .await?
        .ok_or(SessionError::Invalid)?;
    if row.revoked_at.is_some() || row.expires_at.to_utc() <= now {
        return Err(SessionError::Invalid);
    }
    // Claim the token atomically: of two concurrent uses, one wins.
    let claimed = session::Entity::update_many()
        .col_expr(session::Column::UsedAt, Expr::value(now.fixed_offset()))
        .filter(session::Column::Id.eq(row.id))
        .filter(session::Column::UsedAt.is_null())
        .exec(db)
        .await?
        .rows_affected
        == 1;
    if !claimed {
        revoke_family(state, row.family_id).await?;
        return Ok(Rotation::ReuseDetected(row.user_id));
    }
    // A concurrent reuse may have revoked the family after our claim.
    let family_revoked = session::Entity::find()
        .filter(session::Column::FamilyId.eq(row.family_id))
        .filter(session::Column::RevokedAt.is_not_null())
        .one(db)
        .await?
        .is_some();
    if family_revoked {
        return Err(SessionError::Invalid);
    }
    let Some(u) = user::Entity::find_by_id(row.user_id)
        .one(db)
        .await?
        .filter(|u| u.active)
    else {
        revoke_family(state, row.family_id).await?;
        return Err(SessionError::Invalid);
    };
    // What the session proved at login carries over; enrolling MFA later
    // does not upgrade a password-only session.
    let pair = issue(state, &u, row.family_id, row.mfa, client_addr).await?;
    Ok(Rotation::Rotated(Box::new((pair, u))))
}

/// Revokes every token of one session.
pub async fn revoke_family(state: &Core, family: Uuid) -> Result<(), sea_orm::DbErr> {
    let owner = session::Entity::find()
        .filter(session::Column::FamilyId.eq(family))
        .one(state.db())
        .await?
        .map(|s| s.user_id);
    session::Entity::update_many()
        .col_expr(
            session::Column::RevokedAt,
            Expr::value(Utc::now().fixed_offset()),
        )
        .filter(session::Column::FamilyId.eq(family))
        .filter(session::Column::RevokedAt.is_null())
        .exec(state.db())
        .await?;
    if let Some(user) = owner {
        crate::auth::forget_user(state, user).await;
    }
    Ok(())
}

/// Revokes every session of a user; returns how many tokens were revoked.
pub async fn revoke_user(state: &Core, user_id: Uuid) -> Result<u64, sea_orm::DbErr> {
    let revoked = session::Entity::update_many()
        .col_expr(
            session::Column::RevokedAt,
            Expr::value(Utc::now().fixed_offset()),
        )
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(state.db())
        .await?
        .rows_affected;
    crate::auth::forget_user(state, user_id).await;
    Ok(revoked)
}

/// The family of a refresh token, if the token is known.
pub async fn family_of(state: &Core, refresh: &str) -> Result<Option<Uuid>, sea_orm::DbErr> {
    Ok(session::Entity::find()
        .filter(session::Column::TokenHash.eq(secret::hash(refresh)))
        .one(state.db())
        .await?
        .map(|r| r.family_id))
}
