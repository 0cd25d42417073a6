//! Turning a bearer token into a [`Principal`]: an API token (looked up by
//! its hash) or a session's access token (a signed JWT whose user must be
//! active and whose session must not be revoked). Answers are remembered
//! briefly ([`super::PrincipalCache`]).

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

use super::{Credential, Principal, jwt, secret};
use crate::core::Core;
use crate::store::{api_token, session, user};

/// Why a token does not authenticate. The caller learns no more than
/// "invalid": the kinds are for logs and tests.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown, expired, revoked, or its user is inactive.
    #[error("the token is invalid, expired or revoked")]
    Invalid,
    /// The database failed while checking it.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// The principal `token` authenticates as.
pub async fn authenticate(core: &Core, token: &str) -> Result<Principal, AuthError> {
    if token.starts_with(secret::API_TOKEN_PREFIX) {
        let digest = secret::digest(token);
        if let Some(p) = core.principals.get(&digest) {
            return Ok(p);
        }
        let (p, expires) = api_token_principal(core, token).await?;
        core.principals.put(digest, p.clone(), expires);
        return Ok(p);
    }
    let claims =
        jwt::verify(&core.keys, token, Utc::now().timestamp()).map_err(|_| AuthError::Invalid)?;
    let expires_at = chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or_default();
    let digest = secret::digest(token);
    if let Some(p) = core.principals.get(&digest) {
        return Ok(p);
    }
    let u = user::Entity::find_by_id(claims.sub)
        .one(core.db())
        .await?
        .filter(|u| u.active)
        .ok_or(AuthError::Invalid)?;
    let revoked = session::Entity::find()
        .filter(session::Column::FamilyId.eq(claims.sid))
        .filter(session::Column::RevokedAt.is_not_null())
        .one(core.db())
        .await?
        .is_some();
    if revoked {
        return Err(AuthError::Invalid);
    }
    let p = Principal {
        user_id: u.id,
        username: u.username,
        role: u.role,
        credential: Credential::Session {
            session_id: claims.sid,
            mfa: claims.mfa,
            expires_at,
        },
    };
    core.principals.put(digest, p.clone(), Some(expires_at));
    Ok(p)
}

/// The principal of an API token, and when the token expires.
async fn api_token_principal(
    core: &Core,
    token: &str,
) -> Result<(Principal, Option<chrono::DateTime<Utc>>), AuthError> {
    let db = core.db();
    let now = Utc::now();
    let (tok, owner) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(secret::hash(token)))
        .find_also_related(user::Entity)
        .one(db)
        .await?
        .ok_or(AuthError::Invalid)?;
    let owner = owner.ok_or(AuthError::Invalid)?;
    // A password change ends every token minted before it, as it ends
    // every session.
    let predates_password = tok.created_at < owner.password_changed_at;
    if tok.revoked_at.is_some()
        || tok.expires_at.is_some_and(|e| e <= now)
        || !owner.active
        || predates_password
    {
        return Err(AuthError::Invalid);
    }
    if tok
        .last_used_at
        .is_none_or(|t| (now - t.to_utc()).num_seconds() >= 60)
    {
        let _ = api_token::Entity::update_many()
            .col_expr(
                api_token::Column::LastUsedAt,
                Expr::value(now.fixed_offset()),
            )
            .filter(api_token::Column::Id.eq(tok.id))
            .exec(db)
            .await;
    }
    let principal = Principal {
        user_id: owner.id,
        username: owner.username,
        role: tok.role.min(owner.role),
        credential: Credential::ApiToken {
            token_id: tok.id,
            mfa: tok.mfa,
        },
    };
    Ok((principal, tok.expires_at.map(|e| e.to_utc())))
}

/// Forgets what was remembered about `user`'s tokens, here and (over core
/// NATS) on every other api replica. Call it after anything that narrows
/// what the user's tokens may do.
pub async fn forget_user(core: &Core, user: uuid::Uuid) {
    core.principals.forget_user(user);
    let subject = core.bus.subjects.auth_invalidate();
    if let Err(e) = core
        .bus
        .client
        .publish(subject, user.to_string().into())
        .await
    {
        tracing::warn!(error = %e, %user, "Other api replicas not told to forget a user's tokens; they will within auth.token_cache_secs.");
    }
}

/// Forgets tokens when another replica says so, until shutdown.
pub async fn listen_forget(core: Core, shutdown: tokio_util::sync::CancellationToken) {
    use futures::StreamExt as _;
    let Ok(mut sub) = core
        .bus
        .client
        .subscribe(core.bus.subjects.auth_invalidate())
        .await
    else {
        tracing::warn!(
            "Not subscribed to token invalidations; cached tokens expire after auth.token_cache_secs."
        );
        return;
    };
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            m = sub.next() => match m {
                None => return,
                Some(m) => {
                    if let Some(user) = std::str::from_utf8(&m.payload).ok().and_then(|s| s.parse().ok()) {
                        core.principals.forget_user(user);
                    }
                }
            }
        }
    }
}
