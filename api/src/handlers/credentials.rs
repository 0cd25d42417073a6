//! `/api/v1/credentials`: the vault's API. Admins manage; operators may list
//! (to reference credentials in jobs); nobody reads a secret back.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::auth::Access;
use crate::auth::Principal;
use crate::credentials::CredentialSpec;
use crate::http::AppState;
use crate::http::json::{ApiJson, ApiPath, ApiQuery, reply};
use crate::http::problem::Problem;
use crate::http::routes::{ADMIN, Route};
use crate::store::credential;
use crate::store::paging::{Page, Paging, paged};
use crate::store::user::Role;
use crate::vault;
use axum::http::Method;
use axum::routing;

/// A credential as the API shows it: metadata only.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CredentialView {
    /// Id.
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Non-secret fields and derived facts (fingerprint, certificate expiry …).
    pub public: serde_json::Value,
    /// The key-encryption key its secrets are wrapped with.
    pub key_id: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Last used.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<credential::Model> for CredentialView {
    fn from(c: credential::Model) -> Self {
        Self {
            id: c.id,
            name: c.name,
            description: c.description,
            kind: c.kind,
            public: c.public,
            key_id: c.kek_id,
            created_at: c.created_at.to_utc(),
            updated_at: c.updated_at.to_utc(),
            last_used_at: c.last_used_at.map(|t| t.to_utc()),
        }
    }
}

/// `POST /api/v1/credentials`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCredential {
    /// Unique name, 1–100 characters.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// The content, tagged by `type`.
    pub spec: CredentialSpec,
}

/// `PUT /api/v1/credentials/{id}`: `spec` replaces the whole content.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialUpdate {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// New content (all secret fields again); the type may not change.
    #[serde(default)]
    pub spec: Option<CredentialSpec>,
}

fn valid_name(name: &str) -> Result<String, Problem> {
    let n = name.trim();
    if n.is_empty() || n.len() > 100 {
        return Err(Problem::invalid("name must be 1-100 characters"));
    }
    Ok(n.to_owned())
}

async fn name_taken(state: &AppState, name: &str, except: Option<Uuid>) -> Result<bool, Problem> {
    let mut q = credential::Entity::find().filter(credential::Column::Name.eq(name));
    if let Some(id) = except {
        q = q.filter(credential::Column::Id.ne(id));
    }
    Ok(q.one(state.store.db()).await?.is_some())
}

/// `GET /api/v1/credentials`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<Paging>,
) -> Result<Response, Problem> {
    let query = credential::Entity::find().order_by_asc(credential::Column::Name);
    let page: Page<CredentialView> = paged(state.store.db(), query, p).await?;
    Ok(reply(StatusCode::OK, &page))
}

/// `GET /api/v1/credentials/{id}`.
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let c = credential::Entity::find_by_id(id)
        .one(state.store.db())
        .await?
        .ok_or_else(|| Problem::not_found_entity("credential"))?;
    Ok(reply(StatusCode::OK, &CredentialView::from(c)))
}

/// `POST /api/v1/credentials`.
pub async fn create(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiJson(new): ApiJson<NewCredential>,
) -> Result<Response, Problem> {
    let name = valid_name(&new.name)?;
    let split = new.spec.split().map_err(Problem::invalid)?;
    if name_taken(&state, &name, None).await? {
        return Err(Problem::conflict(format!(
            "a credential named {name:?} exists"
        )));
    }
    let id = Uuid::now_v7();
    let secret = serde_json::to_vec(&split.secret).map_err(|e| Problem::internal(&e))?;
    let sealed = vault::seal(&state.vault, id, split.kind, &secret);
    let now = Utc::now().fixed_offset();
    let row = credential::ActiveModel {
        id: Set(id),
        name: Set(name.clone()),
        kind: Set(split.kind.to_owned()),
        description: Set(new.description.unwrap_or_default()),
        public: Set(split.public),
        sealed: Set(sealed.sealed),
        wrapped_dek: Set(sealed.wrapped_dek),
        kek_id: Set(sealed.kek_id),
        created_by: Set(Some(me.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
        last_used_at: Set(None),
    }
    .insert(state.store.db())
    .await?;
    let mut res = reply(StatusCode::CREATED, &CredentialView::from(row));
    res.extensions_mut().insert(
        AuditDetail::new("credential.create", "credential", id)
            .summary(json!({"name": name, "type": split.kind})),
    );
    Ok(res)
}

/// `PUT /api/v1/credentials/{id}`.
pub async fn update(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(up): ApiJson<CredentialUpdate>,
) -> Result<Response, Problem> {
    let db = state.store.db();
    let current = credential::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Problem::not_found_entity("credential"))?;
    let mut changed = serde_json::Map::new();
    let mut row: credential::ActiveModel = current.clone().into();
    if let Some(n) = up.name {
        let n = valid_name(&n)?;
        if name_taken(&state, &n, Some(id)).await? {
            return Err(Problem::conflict(format!(
                "a credential named {n:?} exists"
            )));
        }
        changed.insert("name".into(), json!(n));
        row.name = Set(n);
    }
    if let Some(d) = up.description {
        changed.insert("description".into(), json!(d));
        row.description = Set(d);
    }
    if let Some(spec) = up.spec {
        let split = spec.split().map_err(Problem::invalid)?;
        if split.kind != current.kind {
            return Err(Problem::invalid(format!(
                "the type stays {}; create a new credential instead",
                current.kind
            )));
        }
        let secret = serde_json::to_vec(&split.secret).map_err(|e| Problem::internal(&e))?;
        let sealed = vault::seal(&state.vault, id, split.kind, &secret);
        row.public = Set(split.public);
        row.sealed = Set(sealed.sealed);
        row.wrapped_dek = Set(sealed.wrapped_dek);
        row.kek_id = Set(sealed.kek_id);
        changed.insert("secret".into(), json!("replaced"));
    }
    row.updated_at = Set(Utc::now().fixed_offset());
    let saved = row.update(db).await?;
    let mut res = reply(StatusCode::OK, &CredentialView::from(saved));
    res.extensions_mut().insert(
        AuditDetail::new("credential.update", "credential", id)
            .summary(serde_json::Value::Object(changed)),
    );
    Ok(res)
}

/// `DELETE /api/v1/credentials/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    use sea_orm::sea_query::Expr;
    let pattern = id.to_string();
    let users = crate::store::target::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(Expr::cust_with_values(
                    "ssh->>'credential_id' = $1",
                    [pattern.clone()],
                ))
                .add(Expr::cust_with_values(
                    "winrm->>'credential_id' = $1",
                    [pattern.clone()],
                ))
                .add(Expr::cust_with_values(
                    "http->>'credential_id' = $1",
                    [pattern],
                )),
        )
        .all(state.store.db())
        .await?;
    if !users.is_empty() {
        let names: Vec<String> = users.into_iter().take(5).map(|t| t.name).collect();
        return Err(Problem::conflict(format!(
            "targets use this credential: {}",
            names.join(", ")
        )));
    }
    let gone = credential::Entity::delete_by_id(id)
        .exec(state.store.db())
        .await?;
    if gone.rows_affected == 0 {
        return Err(Problem::not_found_entity("credential"));
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut()
        .insert(AuditDetail::new("credential.delete", "credential", id));
    Ok(res)
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/credentials",
            Access::Role(Role::Operator),
            "List credentials (metadata only)",
            routing::get(list),
        )
        .query::<Paging>()
        .ok::<Page<CredentialView>>(200),
        Route::new(
            Method::POST,
            "/api/v1/credentials",
            ADMIN,
            "Store a credential (secrets sealed, never shown again)",
            routing::post(create),
        )
        .body::<NewCredential>()
        .ok::<CredentialView>(201),
        Route::new(
            Method::GET,
            "/api/v1/credentials/{id}",
            Access::Role(Role::Operator),
            "Get a credential's metadata",
            routing::get(get),
        )
        .ok::<CredentialView>(200),
        Route::new(
            Method::PUT,
            "/api/v1/credentials/{id}",
            ADMIN,
            "Change a credential",
            routing::put(update),
        )
        .body::<CredentialUpdate>()
        .ok::<CredentialView>(200),
        Route::new(
            Method::DELETE,
            "/api/v1/credentials/{id}",
            ADMIN,
            "Delete a credential",
            routing::delete(delete),
        )
        .no_content(),
    ]
}
