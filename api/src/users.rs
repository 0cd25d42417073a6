//! Users: who may log in, with which role. Creating (the API, self
//! registration and the first admin all use [`create`]), changing — by an
//! admin or by the user — and deleting them. The last active admin can be
//! neither demoted, deactivated nor deleted.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::auth::reconfirm::Refused;
use crate::core::Core;
use crate::password;
use crate::store::paging::{Page, Paging, paged};
use crate::store::session;
use crate::store::user::{self, Role};

/// Why a user change was refused.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// No such user.
    #[error("no such user")]
    NotFound,
    /// A field is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The name is taken.
    #[error("the user name {0:?} is taken")]
    Taken(String),
    /// The change would leave no active admin.
    #[error("this is the last active admin")]
    LastAdmin,
    /// Nobody deletes themselves.
    #[error("you cannot delete yourself")]
    SelfDelete,
    /// The current password is missing or wrong.
    #[error("current_password is missing or wrong")]
    WrongPassword,
    /// Too many wrong current passwords lately: wait.
    #[error("too many wrong current passwords; retry in {0} s")]
    Reauth(u64),
    /// Every password-check slot stayed taken.
    #[error("too many password checks at once; retry in a second")]
    Busy,
    /// Hashing failed.
    #[error("hashing failed: {0}")]
    Hash(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// A user as the API shows it: never a hash or a secret.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct UserView {
    /// Id.
    pub id: Uuid,
    /// Login name (lowercase).
    pub username: String,
    /// Contact address.
    pub email: Option<String>,
    /// Shown in the console.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// IANA time zone.
    pub timezone: String,
    /// Inactive users cannot log in.
    pub active: bool,
    /// Whether the user enrolled a second factor.
    pub mfa_enabled: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<user::Model> for UserView {
    fn from(u: user::Model) -> Self {
        Self {
            id: u.id,
            username: u.username,
            email: u.email,
            display_name: u.display_name,
            role: u.role,
            timezone: u.timezone,
            active: u.active,
            mfa_enabled: u.mfa_enabled,
            created_at: u.created_at.to_utc(),
            updated_at: u.updated_at.to_utc(),
        }
    }
}

/// `POST /api/v1/users`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 3–64 of `a-z 0-9 . _ -`; stored lowercase.
    #[schemars(pattern(r"^[A-Za-z0-9._-]{3,64}$"))]
    pub username: String,
    /// At least 12 characters, not a common password.
    #[schemars(length(min = 12))]
    pub password: String,
    /// Role.
    pub role: Role,
    /// Contact address.
    #[serde(default)]
    #[schemars(length(max = 254))]
    pub email: Option<String>,
    /// Shown in the console (default: the user name).
    #[serde(default)]
    pub display_name: Option<String>,
    /// IANA time zone (default UTC).
    #[serde(default)]
    #[schemars(pattern(r"^[A-Za-z0-9/_+-]{1,64}$"))]
    pub timezone: Option<String>,
}

/// `PUT /api/v1/users/{id}`: every field optional.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    /// Contact address.
    #[serde(default)]
    #[schemars(length(max = 254))]
    pub email: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Role.
    #[serde(default)]
    pub role: Option<Role>,
    /// IANA time zone.
    #[serde(default)]
    #[schemars(pattern(r"^[A-Za-z0-9/_+-]{1,64}$"))]
    pub timezone: Option<String>,
    /// Active flag; deactivating ends the user's sessions.
    #[serde(default)]
    pub active: Option<bool>,
    /// New password; setting it ends the user's sessions and unlocks the account.
    #[serde(default)]
    pub password: Option<String>,
    /// `true` clears a lockout after failed logins.
    #[serde(default)]
    pub unlock: Option<bool>,
}

/// `PUT /api/v1/me`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeUpdate {
    /// Contact address.
    #[serde(default)]
    pub email: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// IANA time zone (used for quiet hours).
    #[serde(default)]
    pub timezone: Option<String>,
    /// Required to change the password.
    #[serde(default)]
    pub current_password: Option<String>,
    /// New password; other sessions end.
    #[serde(default)]
    pub new_password: Option<String>,
}

/// A change, and what it changed (names and flags, never a secret), for
/// the audit trail.
#[derive(Debug)]
pub struct Changed {
    /// The user after the change.
    pub user: UserView,
    /// What changed.
    pub summary: Value,
}

/// A user name, checked and lowercased.
pub fn valid_username(name: &str) -> Result<String, UserError> {
    let n = name.trim().to_lowercase();
    let ok = (3..=64).contains(&n.len())
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(n)
    } else {
        Err(UserError::Invalid(
            "username must be 3-64 of a-z, 0-9, '.', '_', '-'".to_owned(),
        ))
    }
}

/// An e-mail address, checked; blank means none.
pub fn valid_email(email: Option<String>) -> Result<Option<String>, UserError> {
    match email.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()) {
        Some(e) if e.len() > 254 || !e.contains('@') || e.starts_with('@') || e.ends_with('@') => {
            Err(UserError::Invalid("email is not an address".to_owned()))
        }
        other => Ok(other),
    }
}

/// An IANA time zone name, checked for shape.
pub fn valid_timezone(tz: Option<String>) -> Result<Option<String>, UserError> {
    match tz {
        Some(t)
            if t.is_empty()
                || t.len() > 64
                || !t
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c)) =>
        {
            Err(UserError::Invalid(
                "timezone must be an IANA name such as Europe/Berlin".to_owned(),
            ))
        }
        other => Ok(other),
    }
}

/// The hash of a new password that passes the policy.
pub fn hash_new_password(pw: String) -> Result<String, UserError> {
    let pw = SecretString::from(pw);
    password::check_policy(&pw).map_err(|e| UserError::Invalid(format!("password {e}")))?;
    password::hash(&pw).map_err(|e| UserError::Hash(e.to_string()))
}

/// Creates a user after validating every field; a taken name is
/// [`UserError::Taken`]. The first admin is made by this too.
pub async fn create(db: &impl ConnectionTrait, new: NewUser) -> Result<UserView, UserError> {
    let username = valid_username(&new.username)?;
    let email = valid_email(new.email)?;
    let timezone = valid_timezone(new.timezone)?.unwrap_or_else(|| "UTC".to_owned());
    let hash = hash_new_password(new.password)?;
    if user::Entity::find()
        .filter(user::Column::Username.eq(&username))
        .one(db)
        .await?
        .is_some()
    {
        return Err(UserError::Taken(username));
    }
    let now = Utc::now().fixed_offset();
    let row = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        display_name: Set(new
            .display_name
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| username.clone())),
        username: Set(username.clone()),
        email: Set(email),
        password_hash: Set(hash),
        role: Set(new.role),
        timezone: Set(timezone),
        active: Set(true),
        mfa_secret: Set(None),
        mfa_enabled: Set(false),
        mfa_last_step: Set(None),
        failed_logins: Set(0),
        locked_until: Set(None),
        password_changed_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| match e {
        // Two requests raced for one name; the unique index let one win.
        sea_orm::DbErr::Query(_) | sea_orm::DbErr::Exec(_) => UserError::Taken(username),
        other => UserError::Db(other),
    })?;
    Ok(row.into())
}

/// One user.
pub async fn get(core: &Core, id: Uuid) -> Result<user::Model, UserError> {
    user::Entity::find_by_id(id)
        .one(core.db())
        .await?
        .ok_or(UserError::NotFound)
}

/// Users by name.
pub async fn list(core: &Core, paging: Paging) -> Result<Page<UserView>, UserError> {
    let query = user::Entity::find().order_by_asc(user::Column::Username);
    Ok(paged(core.db(), query, paging).await?)
}

async fn active_admins(core: &Core) -> Result<u64, UserError> {
    Ok(user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin))
        .filter(user::Column::Active.eq(true))
        .count(core.db())
        .await?)
}

/// An admin's change to a user. Deactivating or a new password ends the
/// user's sessions; any change forgets their cached tokens.
pub async fn update(core: &Core, id: Uuid, up: UserUpdate) -> Result<Changed, UserError> {
    let current = get(core, id).await?;
    let loses_admin = current.role == Role::Admin
        && current.active
        && (up.role.is_some_and(|r| r != Role::Admin) || up.active == Some(false));
    if loses_admin && active_admins(core).await? <= 1 {
        return Err(UserError::LastAdmin);
    }
    let mut changed = Map::new();
    let mut row = current.into_active_model();
    let mut end_sessions = false;
    if let Some(e) = up.email {
        let email = valid_email(Some(e))?;
        changed.insert("email".into(), json!(email));
        row.email = Set(email);
    }
    if let Some(d) = up.display_name.filter(|d| !d.trim().is_empty()) {
        changed.insert("display_name".into(), json!(d));
        row.display_name = Set(d);
    }
    if let Some(r) = up.role {
        changed.insert("role".into(), json!(r));
        row.role = Set(r);
    }
    if let Some(tz) = valid_timezone(up.timezone)? {
        changed.insert("timezone".into(), json!(tz));
        row.timezone = Set(tz);
    }
    if let Some(a) = up.active {
        changed.insert("active".into(), json!(a));
        row.active = Set(a);
        end_sessions |= !a;
    }
    if up.unlock == Some(true) || up.password.is_some() {
        row.failed_logins = Set(0);
        row.locked_until = Set(None);
        changed.insert("unlocked".into(), json!(true));
    }
    if let Some(pw) = up.password {
        row.password_hash = Set(hash_new_password(pw)?);
        row.password_changed_at = Set(Utc::now().fixed_offset());
        changed.insert("password".into(), json!("changed"));
        end_sessions = true;
    }
    row.updated_at = Set(Utc::now().fixed_offset());
    let saved = row.update(core.db()).await?;
    if end_sessions {
        crate::sessions::revoke_user(core, id).await?;
    } else {
        crate::auth::forget_user(core, id).await;
    }
    Ok(Changed {
        user: saved.into(),
        summary: Value::Object(changed),
    })
}

/// A user's change to themselves. A new password needs the current one
/// and ends their other sessions (`keep` stays).
pub async fn update_me(
    core: &Core,
    id: Uuid,
    keep: Option<Uuid>,
    up: MeUpdate,
) -> Result<Changed, UserError> {
    let current = get(core, id).await?;
    let mut row = current.clone().into_active_model();
    let mut changed = Map::new();
    if let Some(e) = up.email {
        let email = valid_email(Some(e))?;
        changed.insert("email".into(), json!(email));
        row.email = Set(email);
    }
    if let Some(d) = up.display_name.filter(|d| !d.trim().is_empty()) {
        changed.insert("display_name".into(), json!(d));
        row.display_name = Set(d);
    }
    if let Some(tz) = valid_timezone(up.timezone)? {
        changed.insert("timezone".into(), json!(tz));
        row.timezone = Set(tz);
    }
    let mut password_changed = false;
    if let Some(new) = up.new_password {
        let given = up.current_password.map(SecretString::from);
        crate::auth::reconfirm::password(core, &current, given)
            .await
            .map_err(|r| match r {
                Refused::Wrong => UserError::WrongPassword,
                Refused::Locked(wait) => UserError::Reauth(wait),
                Refused::Busy => UserError::Busy,
            })?;
        row.password_hash = Set(hash_new_password(new)?);
        row.password_changed_at = Set(Utc::now().fixed_offset());
        changed.insert("password".into(), json!("changed"));
        password_changed = true;
    }
    row.updated_at = Set(Utc::now().fixed_offset());
    let saved = row.update(core.db()).await?;
    if password_changed {
        let mut q = session::Entity::update_many()
            .col_expr(
                session::Column::RevokedAt,
                sea_orm::sea_query::Expr::value(Utc::now().fixed_offset()),
            )
            .filter(session::Column::UserId.eq(id))
            .filter(session::Column::RevokedAt.is_null());
        if let Some(family) = keep {
            q = q.filter(session::Column::FamilyId.ne(family));
        }
        q.exec(core.db()).await?;
        crate::auth::forget_user(core, id).await;
    }
    Ok(Changed {
        user: saved.into(),
        summary: Value::Object(changed),
    })
}

/// Deletes a user (not `me`, not the last admin); the row it was.
pub async fn delete(core: &Core, me: Uuid, id: Uuid) -> Result<user::Model, UserError> {
    if id == me {
        return Err(UserError::SelfDelete);
    }
    let current = get(core, id).await?;
    if current.role == Role::Admin && current.active && active_admins(core).await? <= 1 {
        return Err(UserError::LastAdmin);
    }
    user::Entity::delete_by_id(id).exec(core.db()).await?;
    crate::auth::forget_user(core, id).await;
    Ok(current)
}
