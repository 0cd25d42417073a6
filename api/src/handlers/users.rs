//! `/api/v1/users` (admins) and the shared user logic.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::auth::Principal;
use crate::http::AppState;
use crate::http::json::{ApiJson, ApiPath, ApiQuery, reply};
use crate::http::problem::Problem;
use crate::password;
use crate::sessions;
use crate::store::user::{self, Role};

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

/// A page of items.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Matching items in all.
    pub total: u64,
    /// Page size.
    pub limit: u64,
    /// Items skipped.
    pub offset: u64,
}

/// Paging parameters.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// Page size, 1 to 500 (default 50).
    #[serde(default = "default_limit")]
    pub limit: u64,
    /// Items to skip.
    #[serde(default)]
    pub offset: u64,
}

fn default_limit() -> u64 {
    50
}

/// Runs `query` for one page: the total count, then `limit` (clamped to
/// 1..=`max`) rows from `offset`, each shown as `V`.
pub async fn paged<E, V>(
    db: &sea_orm::DatabaseConnection,
    query: sea_orm::Select<E>,
    limit: u64,
    offset: u64,
    max: u64,
) -> Result<Page<V>, Problem>
where
    E: EntityTrait,
    E::Model: Into<V> + Send + Sync,
{
    let limit = limit.clamp(1, max);
    let total = query.clone().count(db).await?;
    let items = query
        .limit(limit)
        .offset(offset)
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Page {
        items,
        total,
        limit,
        offset,
    })
}

/// `POST /api/v1/users`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 3–64 of `a-z 0-9 . _ -`; stored lowercase.
    pub username: String,
    /// At least 12 characters, not a common password.
    pub password: String,
    /// Role.
    pub role: Role,
    /// Contact address.
    #[serde(default)]
    pub email: Option<String>,
    /// Shown in the console (default: the user name).
    #[serde(default)]
    pub display_name: Option<String>,
    /// IANA time zone (default UTC).
    #[serde(default)]
    pub timezone: Option<String>,
}

/// `PUT /api/v1/users/{id}`: every field optional.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    /// Contact address.
    #[serde(default)]
    pub email: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Role.
    #[serde(default)]
    pub role: Option<Role>,
    /// IANA time zone.
    #[serde(default)]
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

pub(crate) fn valid_username(name: &str) -> Result<String, Problem> {
    let n = name.trim().to_lowercase();
    let ok = (3..=64).contains(&n.len())
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(n)
    } else {
        Err(Problem::invalid(
            "username must be 3-64 of a-z, 0-9, '.', '_', '-'",
        ))
    }
}

pub(crate) fn valid_email(email: Option<String>) -> Result<Option<String>, Problem> {
    match email.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()) {
        Some(e) if e.len() > 254 || !e.contains('@') || e.starts_with('@') || e.ends_with('@') => {
            Err(Problem::invalid("email is not an address"))
        }
        other => Ok(other),
    }
}

pub(crate) fn valid_timezone(tz: Option<String>) -> Result<Option<String>, Problem> {
    match tz {
        Some(t)
            if t.is_empty()
                || t.len() > 64
                || !t
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c)) =>
        {
            Err(Problem::invalid(
                "timezone must be an IANA name such as Europe/Berlin",
            ))
        }
        other => Ok(other),
    }
}

pub(crate) fn hash_new_password(pw: String) -> Result<String, Problem> {
    let pw = SecretString::from(pw);
    password::check_policy(&pw).map_err(|e| Problem::invalid(format!("password {e}")))?;
    password::hash(&pw).map_err(|e| Problem::internal(&e))
}

/// Creates a user after validating every field; a taken name is a 409.
pub async fn create_user(state: &AppState, new: NewUser) -> Result<UserView, Problem> {
    let username = valid_username(&new.username)?;
    let email = valid_email(new.email)?;
    let timezone = valid_timezone(new.timezone)?.unwrap_or_else(|| "UTC".to_owned());
    let hash = hash_new_password(new.password)?;
    let db = state.store.db();
    if user::Entity::find()
        .filter(user::Column::Username.eq(&username))
        .one(db)
        .await?
        .is_some()
    {
        return Err(Problem::conflict(format!(
            "the user name {username:?} is taken"
        )));
    }
    let now = Utc::now().fixed_offset();
    let row = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        display_name: Set(new
            .display_name
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| username.clone())),
        username: Set(username),
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
        sea_orm::DbErr::Query(_) | sea_orm::DbErr::Exec(_) => {
            Problem::conflict("the user name is taken")
        }
        other => Problem::from(other),
    })?;
    Ok(row.into())
}

async fn load(state: &AppState, id: Uuid) -> Result<user::Model, Problem> {
    user::Entity::find_by_id(id)
        .one(state.store.db())
        .await?
        .ok_or_else(|| Problem::not_found_entity("user"))
}

async fn active_admins(state: &AppState) -> Result<u64, Problem> {
    Ok(user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin))
        .filter(user::Column::Active.eq(true))
        .count(state.store.db())
        .await?)
}

/// `GET /api/v1/users`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<Paging>,
) -> Result<Response, Problem> {
    let query = user::Entity::find().order_by_asc(user::Column::Username);
    let page: Page<UserView> = paged(state.store.db(), query, p.limit, p.offset, 500).await?;
    Ok(reply(StatusCode::OK, &page))
}

/// `POST /api/v1/users`.
pub async fn create(
    State(state): State<AppState>,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<Response, Problem> {
    let role = new.role;
    let created = create_user(&state, new).await?;
    let mut res = reply(StatusCode::CREATED, &created);
    res.extensions_mut()
        .insert(AuditDetail::new("user.create", "user", created.id).summary(
            json!({ "username": created.username, "role": role, "email": created.email }),
        ));
    Ok(res)
}

/// `GET /api/v1/users/{id}`.
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    Ok(reply(
        StatusCode::OK,
        &UserView::from(load(&state, id).await?),
    ))
}

/// `PUT /api/v1/users/{id}`. The last active admin cannot be demoted or deactivated.
pub async fn update(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(up): ApiJson<UserUpdate>,
) -> Result<Response, Problem> {
    let current = load(&state, id).await?;
    let loses_admin = current.role == Role::Admin
        && current.active
        && (up.role.is_some_and(|r| r != Role::Admin) || up.active == Some(false));
    if loses_admin && active_admins(&state).await? <= 1 {
        return Err(Problem::conflict("this is the last active admin"));
    }
    let mut changed = serde_json::Map::new();
    let mut row = current.clone().into_active_model();
    let mut end_sessions = false;
    if let Some(e) = up.email {
        row.email = Set(valid_email(Some(e))?);
        changed.insert("email".into(), json!(row.email.clone().unwrap()));
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
    let saved = row.update(state.store.db()).await?;
    if end_sessions {
        sessions::revoke_user(&state, id).await?;
    }
    let mut res = reply(StatusCode::OK, &UserView::from(saved));
    res.extensions_mut().insert(
        AuditDetail::new("user.update", "user", id).summary(serde_json::Value::Object(changed)),
    );
    Ok(res)
}

/// `DELETE /api/v1/users/{id}`. Nobody deletes themselves or the last admin.
pub async fn delete(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    if id == me.user_id {
        return Err(Problem::conflict("you cannot delete yourself"));
    }
    let current = load(&state, id).await?;
    if current.role == Role::Admin && current.active && active_admins(&state).await? <= 1 {
        return Err(Problem::conflict("this is the last active admin"));
    }
    user::Entity::delete_by_id(id)
        .exec(state.store.db())
        .await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut().insert(
        AuditDetail::new("user.delete", "user", id)
            .summary(json!({ "username": current.username })),
    );
    Ok(res)
}
