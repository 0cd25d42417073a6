//! Stored credentials: listing their metadata, creating and changing them
//! (validated by [`CredentialSpec::split`], secrets sealed in the vault) and
//! deleting those no target uses. Nothing here returns a secret.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::CredentialSpec;
use super::scope::CredentialScope;
use crate::core::Core;
use crate::store::paging::{Page, Paging, paged};
use crate::store::{credential, target};
use crate::vault;

/// Why a credential change was refused.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// No such credential.
    #[error("no such credential")]
    NotFound,
    /// The name or the content is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// Another credential has the name.
    #[error("a credential named {0:?} exists")]
    Taken(String),
    /// Targets still use the credential (up to five of their names).
    #[error("targets use this credential: {}", .0.join(", "))]
    InUse(Vec<String>),
    /// The secret document could not be encoded for sealing.
    #[error("encoding the secret failed: {0}")]
    Encode(#[from] serde_json::Error),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

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
    pub public: Value,
    /// The key-encryption key its secrets are wrapped with.
    pub key_id: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Last used.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Where it may be used.
    pub scope: CredentialScope,
}

impl From<credential::Model> for CredentialView {
    fn from(c: credential::Model) -> Self {
        let scope = c.scope();
        Self {
            id: c.id,
            name: c.name,
            description: c.description,
            kind: c.kind,
            public: c.public,
            scope,
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
    #[schemars(length(min = 1, max = 100))]
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// The content, tagged by `type`.
    pub spec: CredentialSpec,
    /// Where it may be used (default: nowhere until an admin names hosts
    /// or points a target at it).
    #[serde(default)]
    pub scope: Option<CredentialScope>,
}

/// `PUT /api/v1/credentials/{id}`: `spec` replaces the whole content.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialUpdate {
    /// New name, 1–100 characters.
    #[serde(default)]
    #[schemars(length(min = 1, max = 100))]
    pub name: Option<String>,
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// New content (all secret fields again); the type may not change.
    #[serde(default)]
    pub spec: Option<CredentialSpec>,
    /// New scope (replaces the whole scope).
    #[serde(default)]
    pub scope: Option<CredentialScope>,
}

/// A change, and what it changed (names, never a secret), for the audit trail.
#[derive(Debug)]
pub struct Changed {
    /// The credential after the change.
    pub credential: CredentialView,
    /// What changed; a new content shows as `"secret": "replaced"`.
    pub summary: Value,
}

fn valid_name(name: &str) -> Result<String, CredentialError> {
    let n = name.trim();
    if n.is_empty() || n.len() > 100 {
        return Err(CredentialError::Invalid(
            "name must be 1-100 characters".to_owned(),
        ));
    }
    Ok(n.to_owned())
}

async fn name_taken(
    core: &Core,
    name: &str,
    except: Option<Uuid>,
) -> Result<bool, CredentialError> {
    let mut q = credential::Entity::find().filter(credential::Column::Name.eq(name));
    if let Some(id) = except {
        q = q.filter(credential::Column::Id.ne(id));
    }
    Ok(q.one(core.db()).await?.is_some())
}

/// Credentials by name, metadata only.
pub async fn list(core: &Core, paging: Paging) -> Result<Page<CredentialView>, CredentialError> {
    let query = credential::Entity::find().order_by_asc(credential::Column::Name);
    Ok(paged(core.db(), query, paging).await?)
}

/// One credential's row.
pub async fn get(core: &Core, id: Uuid) -> Result<credential::Model, CredentialError> {
    credential::Entity::find_by_id(id)
        .one(core.db())
        .await?
        .ok_or(CredentialError::NotFound)
}

/// Validates, seals and stores a new credential made by `created_by`.
pub async fn create(
    core: &Core,
    created_by: Uuid,
    new: NewCredential,
) -> Result<CredentialView, CredentialError> {
    let name = valid_name(&new.name)?;
    let split = new.spec.split().map_err(CredentialError::Invalid)?;
    let scope = new.scope.unwrap_or_default();
    scope.validate().map_err(CredentialError::Invalid)?;
    if name_taken(core, &name, None).await? {
        return Err(CredentialError::Taken(name));
    }
    let id = Uuid::now_v7();
    let secret = serde_json::to_vec(&split.secret)?;
    let sealed = vault::seal(&core.vault, id, split.kind, &secret);
    let now = Utc::now().fixed_offset();
    let row = credential::ActiveModel {
        id: Set(id),
        name: Set(name),
        kind: Set(split.kind.to_owned()),
        description: Set(new.description.unwrap_or_default()),
        public: Set(split.public),
        sealed: Set(sealed.sealed),
        wrapped_dek: Set(sealed.wrapped_dek),
        kek_id: Set(sealed.kek_id),
        created_by: Set(Some(created_by)),
        created_at: Set(now),
        updated_at: Set(now),
        last_used_at: Set(None),
        scope: Set(json!(scope)),
    }
    .insert(core.db())
    .await?;
    Ok(row.into())
}

/// Changes a credential's name, description or whole content (resealed;
/// the type stays).
pub async fn update(
    core: &Core,
    id: Uuid,
    up: CredentialUpdate,
) -> Result<Changed, CredentialError> {
    let current = get(core, id).await?;
    let mut changed = Map::new();
    let mut row: credential::ActiveModel = current.clone().into();
    if let Some(n) = up.name {
        let n = valid_name(&n)?;
        if name_taken(core, &n, Some(id)).await? {
            return Err(CredentialError::Taken(n));
        }
        changed.insert("name".into(), json!(n));
        row.name = Set(n);
    }
    if let Some(d) = up.description {
        changed.insert("description".into(), json!(d));
        row.description = Set(d);
    }
    if let Some(scope) = up.scope {
        scope.validate().map_err(CredentialError::Invalid)?;
        changed.insert("scope".into(), json!(scope));
        row.scope = Set(json!(scope));
    }
    if let Some(spec) = up.spec {
        let split = spec.split().map_err(CredentialError::Invalid)?;
        if split.kind != current.kind {
            return Err(CredentialError::Invalid(format!(
                "the type stays {}; create a new credential instead",
                current.kind
            )));
        }
        let secret = serde_json::to_vec(&split.secret)?;
        let sealed = vault::seal(&core.vault, id, split.kind, &secret);
        row.public = Set(split.public);
        row.sealed = Set(sealed.sealed);
        row.wrapped_dek = Set(sealed.wrapped_dek);
        row.kek_id = Set(sealed.kek_id);
        changed.insert("secret".into(), json!("replaced"));
    }
    row.updated_at = Set(Utc::now().fixed_offset());
    let saved = row.update(core.db()).await?;
    Ok(Changed {
        credential: saved.into(),
        summary: Value::Object(changed),
    })
}

/// Widens `id`'s scope so that it places `host` from `pool` (an admin
/// pointed a target there); returns the new scope when it changed.
pub async fn extend_scope(
    db: &impl sea_orm::ConnectionTrait,
    current: &credential::Model,
    host: &str,
    pool: &str,
) -> Result<Option<CredentialScope>, sea_orm::DbErr> {
    let before = current.scope();
    let after = before.extended(host, pool);
    if after == before {
        return Ok(None);
    }
    let mut row: credential::ActiveModel = current.clone().into();
    row.scope = Set(json!(after));
    row.updated_at = Set(Utc::now().fixed_offset());
    row.update(db).await?;
    Ok(Some(after))
}

/// Deletes a credential that no target references.
pub async fn delete(core: &Core, id: Uuid) -> Result<(), CredentialError> {
    let pattern = id.to_string();
    let users = target::Entity::find()
        .filter(
            Condition::any()
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
        .all(core.db())
        .await?;
    if !users.is_empty() {
        return Err(CredentialError::InUse(
            users.into_iter().take(5).map(|t| t.name).collect(),
        ));
    }
    let gone = credential::Entity::delete_by_id(id).exec(core.db()).await?;
    if gone.rows_affected == 0 {
        return Err(CredentialError::NotFound);
    }
    Ok(())
}
