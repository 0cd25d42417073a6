//! `/api/v1/api-tokens`: tokens for automation, shown once, stored hashed.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use schemars::JsonSchema;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::auth::Access;
use crate::auth::{Principal, secret};
use crate::http::AppState;
use crate::http::json::{ApiJson, ApiPath, reply};
use crate::http::problem::Problem;
use crate::http::routes::Route;
use crate::store::api_token;
use crate::store::user::Role;
use axum::http::Method;
use axum::routing;

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
    /// A name to recognise it by.
    pub name: String,
    /// Role granted, at most yours (default: yours).
    #[serde(default)]
    pub role: Option<Role>,
    /// Days until it expires, 1 to 3650 (default: never).
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// The answer to a creation: the only time the secret is shown.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CreatedToken {
    /// The token.
    pub token: TokenView,
    /// Use as `Authorization: Bearer <secret>`. Shown once.
    pub secret: String,
}

/// `GET /api/v1/api-tokens`: your tokens.
pub async fn list(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
) -> Result<Response, Problem> {
    let items: Vec<TokenView> = api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(me.user_id))
        .order_by_desc(api_token::Column::CreatedAt)
        .all(state.store.db())
        .await?
        .into_iter()
        .map(TokenView::from)
        .collect();
    Ok(reply(StatusCode::OK, &json!({ "items": items })))
}

/// `POST /api/v1/api-tokens`.
pub async fn create(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiJson(new): ApiJson<NewToken>,
) -> Result<Response, Problem> {
    let name = new.name.trim().to_owned();
    if name.is_empty() || name.len() > 100 {
        return Err(Problem::invalid("name must be 1-100 characters"));
    }
    let role = new.role.unwrap_or(me.role);
    if !me.has(role) {
        return Err(Problem::forbidden(
            "a token cannot have more rights than you",
        ));
    }
    let expires_at = match new.expires_in_days {
        None => None,
        Some(d) if (1..=3650).contains(&d) => Some(Utc::now() + Duration::days(i64::from(d))),
        Some(_) => return Err(Problem::invalid("expires_in_days must be 1 to 3650")),
    };
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
    }
    .insert(state.store.db())
    .await?;
    let id = row.id;
    let mut res = reply(
        StatusCode::CREATED,
        &CreatedToken {
            token: row.into(),
            secret,
        },
    );
    res.extensions_mut().insert(
        AuditDetail::new("api_token.create", "api_token", id)
            .summary(json!({ "name": name, "role": role, "expires_at": expires_at })),
    );
    Ok(res)
}

/// `DELETE /api/v1/api-tokens/{id}`: revoke one of yours (admins: anyone's).
pub async fn revoke(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let db = state.store.db();
    let tok = api_token::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|t| t.user_id == me.user_id || me.has(Role::Admin))
        .ok_or_else(|| Problem::not_found_entity("API token"))?;
    let mut row: api_token::ActiveModel = tok.into();
    row.revoked_at = Set(Some(Utc::now().fixed_offset()));
    row.update(db).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut()
        .insert(AuditDetail::new("api_token.revoke", "api_token", id));
    Ok(res)
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/api-tokens",
            Access::Role(Role::Viewer),
            "Your API tokens",
            routing::get(list),
        ),
        Route::new(
            Method::POST,
            "/api/v1/api-tokens",
            Access::Role(Role::Viewer),
            "Create an API token (secret shown once)",
            routing::post(create),
        )
        .body::<NewToken>()
        .session_only()
        .ok::<CreatedToken>(201),
        Route::new(
            Method::DELETE,
            "/api/v1/api-tokens/{id}",
            Access::Role(Role::Viewer),
            "Revoke an API token",
            routing::delete(revoke),
        )
        .no_content(),
    ]
}
