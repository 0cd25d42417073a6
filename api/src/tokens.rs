//! API tokens: long-lived bearer tokens for automation, owned by a user,
//! with a role no higher than the owner's.
//!
//! The secret is shown once, at creation, and stored only as a hash.
//! Revoking a token forgets its owner's cached principals here and on
//! every other api replica ([`crate::auth::forget_user`]), so it stops
//! working at once rather than when the cache entry expires.

use chrono::{DateTime, Duration, Utc};
use schemars::JsonSchema;
use sea_orm::{ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::{Principal, secret};
use crate::core::Core;
use crate::store::api_token;
use crate::store::user::Role;

/// Why a token was not listed, created or revoked.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The name is empty or too long.
    #[error("name must be 1-100 characters")]
    InvalidName,
    /// The role asked for is above the caller's.
    #[error("a token cannot have more rights than you")]
    RoleTooHigh,
    /// The lifetime is out of range.
    #[error("expires_in_days must be 1 to 3650")]
    InvalidExpiry,
    /// Both a lifetime and "never" were asked for.
    #[error("give expires_in_days or never_expires, not both")]
    ExpiryAndNever,
    /// Only an admin may mint a token that never expires.
    #[error("only an admin may mint a token that never expires; give expires_in_days (1 to 3650)")]
    NeverNeedsAdmin,
    /// An admin token needs a session that passed a second factor while
    /// admins must use one.
    #[error("admins must use a second factor: log in with it to mint an admin token")]
    NeedsMfa,
    /// No such token, or not one the caller may see.
    #[error("no such API token")]
    NotFound,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// An API token without its secret.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TokenView {
    /// Id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Name.
    pub name: String,
    /// Role granted.
    pub role: Role,
    /// The first characters of the secret.
    pub prefix: String,
    /// Expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// Last use.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revocation.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl From<api_token::Model> for TokenView {
    fn from(t: api_token::Model) -> Self {
        Self {
            id: t.id,
            user_id: t.user_id,
            name: t.name,
            role: t.role,
            prefix: t.token_prefix,
            expires_at: t.expires_at.map(|x| x.to_utc()),
            last_used_at: t.last_used_at.map(|x| x.to_utc()),
            revoked_at: t.revoked_at.map(|x| x.to_utc()),
            created_at: t.created_at.to_utc(),
        }
    }
}

/// `POST /api/v1/api-tokens`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// A name to recognise it by, 1–100 characters.
    #[schemars(length(min = 1, max = 100))]
    pub name: String,
    /// Role granted, at most yours (default: yours).
    #[serde(default)]
    pub role: Option<Role>,
    /// Days until it expires, 1 to 3650 (default: `auth.api_token_days`,
    /// 90 unless configured).
    #[serde(default)]
    #[schemars(range(min = 1, max = 3650))]
    pub expires_in_days: Option<u32>,
    /// A token that never expires (admins only; not with `expires_in_days`).
    #[serde(default)]
    pub never_expires: bool,
}

/// The answer to a creation: the only time the secret is shown.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CreatedToken {
    /// The token.
    pub token: TokenView,
    /// Use as `Authorization: Bearer <secret>`. Shown once.
    pub secret: String,
}

/// A new token, and what was granted (never the secret), for the audit trail.
#[derive(Debug)]
pub struct Minted {
    /// The token and its secret.
    pub created: CreatedToken,
    /// Name, role and expiry as granted.
    pub summary: Value,
}

/// The tokens `owner` holds, newest first.
pub async fn list(core: &Core, owner: Uuid) -> Result<Vec<TokenView>, TokenError> {
    Ok(api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(owner))
        .order_by_desc(api_token::Column::CreatedAt)
        .all(core.db())
        .await?
        .into_iter()
        .map(TokenView::from)
        .collect())
}

/// The expiry of a token that lives `days` from `now` (none: forever).
fn expiry(days: Option<u32>, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, TokenError> {
    match days {
        None => Ok(None),
        Some(d) if (1..=3650).contains(&d) => Ok(Some(now + Duration::days(i64::from(d)))),
        Some(_) => Err(TokenError::InvalidExpiry),
    }
}

/// The lifetime of a new token: what was asked, else `default_days`;
/// "never" only for an admin.
fn lifetime(new: &NewToken, me: &Principal, default_days: u32) -> Result<Option<u32>, TokenError> {
    match (new.expires_in_days, new.never_expires) {
        (Some(_), true) => Err(TokenError::ExpiryAndNever),
        (None, true) if me.has(Role::Admin) => Ok(None),
        (None, true) => Err(TokenError::NeverNeedsAdmin),
        (Some(d), false) => Ok(Some(d)),
        (None, false) => Ok(Some(default_days)),
    }
}

/// Creates a token for `me`, with at most `me`'s role.
pub async fn create(core: &Core, me: &Principal, new: NewToken) -> Result<Minted, TokenError> {
    let name = new.name.trim().to_owned();
    if name.is_empty() || name.len() > 100 {
        return Err(TokenError::InvalidName);
    }
    let role = new.role.unwrap_or(me.role);
    if !me.has(role) {
        return Err(TokenError::RoleTooHigh);
    }
    let mfa = me.credential.has_mfa();
    if role == Role::Admin && !mfa && core.settings.security().await.require_mfa_for_admins {
        return Err(TokenError::NeedsMfa);
    }
    let days = lifetime(&new, me, core.config.auth.api_token_days)?;
    let expires_at = expiry(days, Utc::now())?;
    let secret = secret::generate(secret::API_TOKEN_PREFIX);
    let row = api_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(me.user_id),
        name: Set(name.clone()),
        role: Set(role),
        token_hash: Set(secret::hash(&secret)),
        token_prefix: Set(secret.chars().take(12).collect()),
        expires_at: Set(expires_at.map(|e| e.fixed_offset())),
        last_used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(Utc::now().fixed_offset()),
        mfa: Set(mfa),
    }
    .insert(core.db())
    .await?;
    Ok(Minted {
        created: CreatedToken {
            token: row.into(),
            secret,
        },
        summary: json!({ "name": name, "role": role, "expires_at": expires_at }),
    })
}

/// Revokes a token of `me` (admins: anyone's) and makes every api replica
/// forget the owner's cached principals, so the token stops working now.
pub async fn revoke(core: &Core, me: &Principal, id: Uuid) -> Result<(), TokenError> {
    let tok = api_token::Entity::find_by_id(id)
        .one(core.db())
        .await?
        .filter(|t| t.user_id == me.user_id || me.has(Role::Admin))
        .ok_or(TokenError::NotFound)?;
    let owner = tok.user_id;
    let mut row: api_token::ActiveModel = tok.into();
    row.revoked_at = Set(Some(Utc::now().fixed_offset()));
    row.update(core.db()).await?;
    crate::auth::forget_user(core, owner).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_one_day_to_ten_years_or_never() {
        let now = Utc::now();
        assert_eq!(expiry(None, now).unwrap(), None);
        assert_eq!(expiry(Some(1), now).unwrap(), Some(now + Duration::days(1)));
        assert_eq!(
            expiry(Some(3650), now).unwrap(),
            Some(now + Duration::days(3650))
        );
        for days in [0, 3651] {
            assert!(matches!(
                expiry(Some(days), now),
                Err(TokenError::InvalidExpiry)
            ));
        }
    }

    #[test]
    fn a_token_expires_by_default_and_never_only_for_admins() {
        let who = |role| Principal {
            user_id: Uuid::nil(),
            username: "u".into(),
            role,
            credential: crate::auth::Credential::ApiToken {
                token_id: Uuid::nil(),
                mfa: false,
            },
        };
        let ask = |days, never| NewToken {
            name: "t".into(),
            role: None,
            expires_in_days: days,
            never_expires: never,
        };
        let op = who(Role::Operator);
        let admin = who(Role::Admin);
        assert_eq!(lifetime(&ask(None, false), &op, 90).unwrap(), Some(90));
        assert_eq!(lifetime(&ask(Some(7), false), &op, 90).unwrap(), Some(7));
        assert!(matches!(
            lifetime(&ask(None, true), &op, 90),
            Err(TokenError::NeverNeedsAdmin)
        ));
        assert_eq!(lifetime(&ask(None, true), &admin, 90).unwrap(), None);
        assert!(matches!(
            lifetime(&ask(Some(7), true), &admin, 90),
            Err(TokenError::ExpiryAndNever)
        ));
    }
}
