//! The inventory's rows: listing targets with filters, and creating,
//! replacing and deleting one, each document validated first.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, Select, Set,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::hostkey::HostKeyState;
use super::{FieldError, TargetSpec, group_member_ids, spec_of};
use crate::core::Core;
use crate::store::paging::{Page, Paging, paged};
use crate::store::{target, target_group};

/// One rejected row of an import.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RowError {
    /// 1-based data row (CSV: line number minus one for the header).
    pub row: usize,
    /// The field.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// Why a target change, list or import was refused.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// No such target.
    #[error("no such target")]
    NotFound,
    /// The group a list is filtered by does not exist.
    #[error("no such target group")]
    GroupNotFound,
    /// The request is not acceptable as a whole.
    #[error("{0}")]
    Invalid(String),
    /// Fields of the document are not acceptable, each named.
    #[error("{}", fields_text(.0))]
    Fields(Vec<FieldError>),
    /// Rows of an import are not acceptable; nothing was imported.
    #[error("nothing was imported; fix row(s) {}", rows_text(.0))]
    Rows(Vec<RowError>),
    /// Another target has the name.
    #[error("a target named {0:?} exists")]
    Taken(String),
    /// The caller may not make this change: a credential would leave its
    /// scope, or a guard would be lowered that only an admin may lower.
    #[error("{0}")]
    Forbidden(String),
    /// An export could not be encoded.
    #[error("encoding the export failed: {0}")]
    Encode(#[from] serde_json::Error),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

fn fields_text(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

fn rows_text(errors: &[RowError]) -> String {
    errors
        .iter()
        .map(|e| e.row.to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
        .join(", ")
}

/// A target as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TargetView {
    /// Id.
    pub id: Uuid,
    /// The document.
    #[serde(flatten)]
    pub spec: TargetSpec,
    /// Pinned SSH host key, and a key pending approval, if any.
    pub host_key: Option<HostKeyState>,
    /// Last connection test.
    pub last_test: Option<Value>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<target::Model> for TargetView {
    fn from(t: target::Model) -> Self {
        Self {
            id: t.id,
            spec: spec_of(&t),
            host_key: t
                .host_key
                .as_ref()
                .map(|v| HostKeyState::from_column(Some(v))),
            last_test: t.last_test,
            created_at: t.created_at.to_utc(),
            updated_at: t.updated_at.to_utc(),
        }
    }
}

/// Filters and paging for `GET /api/v1/targets`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetQuery {
    /// Part of the name, case-insensitive.
    #[serde(default)]
    pub name: Option<String>,
    /// Targets with this tag.
    #[serde(default)]
    pub tag: Option<String>,
    /// Operating system family.
    #[serde(default)]
    pub os_type: Option<String>,
    /// Members of this group.
    #[serde(default)]
    pub group: Option<Uuid>,
    /// Worker pool.
    #[serde(default)]
    pub pool: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[serde(default)]
    pub limit: Option<u64>,
    /// Items skipped.
    #[serde(default)]
    pub offset: Option<u64>,
    /// Export format: `json` (default) or `csv` (export only).
    #[serde(default)]
    pub format: Option<String>,
}

/// A replaced target, and the documents before and after, for the audit trail.
#[derive(Debug)]
pub struct Changed {
    /// The target after the change.
    pub target: TargetView,
    /// `{"before": …, "after": …}`.
    pub summary: Value,
}

/// A created target, and the credential scopes an admin's target widened.
#[derive(Debug)]
pub struct Created {
    /// The target.
    pub target: TargetView,
    /// The widened scopes (`[]` when none).
    pub widened: Value,
}

/// Checks the fields and the credentials a document references.
async fn validate(core: &Core, spec: &mut TargetSpec) -> Result<(), TargetError> {
    let mut errors = spec.check_fields();
    errors.extend(spec.check_credentials(core.db()).await?);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(TargetError::Fields(errors))
    }
}

/// A new row of `spec` (no host key, never tested).
pub(super) fn active(spec: TargetSpec, id: Uuid) -> target::ActiveModel {
    let now = Utc::now().fixed_offset();
    target::ActiveModel {
        id: Set(id),
        name: Set(spec.name),
        hostname: Set(spec.hostname),
        os_type: Set(spec.os_type.as_str().to_owned()),
        ssh: Set(spec.ssh.map(|s| json!(s))),
        winrm: Set(spec.winrm.map(|s| json!(s))),
        http: Set(spec.http.map(|s| json!(s))),
        tags: Set(json!(spec.tags)),
        metadata: Set(json!(spec.metadata)),
        pool: Set(spec.pool),
        enabled: Set(spec.enabled),
        host_key: Set(None),
        last_test: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// The targets a query's filters select, by name (paging and format aside).
pub(super) async fn filtered(
    core: &Core,
    q: &TargetQuery,
) -> Result<Select<target::Entity>, TargetError> {
    let mut s = target::Entity::find();
    if let Some(n) = q.name.as_deref().filter(|n| !n.is_empty()) {
        let pattern = format!(
            "%{}%",
            n.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        s = s.filter(Expr::cust_with_values("name ILIKE $1", [pattern]));
    }
    if let Some(t) = &q.tag {
        s = s.filter(Expr::cust_with_values(
            "tags @> $1::jsonb",
            [json!([t]).to_string()],
        ));
    }
    if let Some(o) = &q.os_type {
        s = s.filter(target::Column::OsType.eq(o.as_str()));
    }
    if let Some(p) = &q.pool {
        s = s.filter(target::Column::Pool.eq(p.as_str()));
    }
    if let Some(gid) = q.group {
        let g = target_group::Entity::find_by_id(gid)
            .one(core.db())
            .await?
            .ok_or(TargetError::GroupNotFound)?;
        let ids = group_member_ids(core.db(), &g).await?;
        s = s.filter(Condition::all().add(target::Column::Id.is_in(ids)));
    }
    Ok(s.order_by_asc(target::Column::Name))
}

/// Whether another target (not `except`) is named `name`.
pub(super) async fn name_taken(
    db: &impl sea_orm::ConnectionTrait,
    name: &str,
    except: Option<Uuid>,
) -> Result<bool, sea_orm::DbErr> {
    let mut q = target::Entity::find().filter(target::Column::Name.eq(name));
    if let Some(id) = except {
        q = q.filter(target::Column::Id.ne(id));
    }
    Ok(q.one(db).await?.is_some())
}

/// One page of the targets a query selects; `format` belongs to the export.
pub async fn list(core: &Core, q: &TargetQuery) -> Result<Page<TargetView>, TargetError> {
    if q.format.is_some() {
        return Err(TargetError::Invalid(
            "format applies to /api/v1/targets/export".to_owned(),
        ));
    }
    let query = filtered(core, q).await?;
    Ok(paged(core.db(), query, Paging::of(q.limit, q.offset)).await?)
}

/// One target's row.
pub async fn get(core: &Core, id: Uuid) -> Result<target::Model, TargetError> {
    target::Entity::find_by_id(id)
        .one(core.db())
        .await?
        .ok_or(TargetError::NotFound)
}

/// Validates and stores a new target; `admin` says who saves it (see
/// [`super::scope::enforce`]).
pub async fn create(
    core: &Core,
    admin: bool,
    mut spec: TargetSpec,
) -> Result<Created, TargetError> {
    validate(core, &mut spec).await?;
    if name_taken(core.db(), &spec.name, None).await? {
        return Err(TargetError::Taken(spec.name));
    }
    let txn = core.db().begin().await?;
    let widened = super::scope::enforce(&txn, admin, None, &spec).await?;
    let row = active(spec, Uuid::now_v7()).insert(&txn).await?;
    txn.commit().await?;
    Ok(Created {
        target: row.into(),
        widened,
    })
}

/// Replaces a target's document. A changed host or port forgets the
/// pinned host key; the last test stays.
pub async fn update(
    core: &Core,
    admin: bool,
    id: Uuid,
    mut spec: TargetSpec,
) -> Result<Changed, TargetError> {
    validate(core, &mut spec).await?;
    let current = get(core, id).await?;
    if name_taken(core.db(), &spec.name, Some(id)).await? {
        return Err(TargetError::Taken(spec.name));
    }
    let before = spec_of(&current);
    let txn = core.db().begin().await?;
    let widened = super::scope::enforce(&txn, admin, Some(&before), &spec).await?;
    let moved = before.hostname != spec.hostname
        || before.ssh.as_ref().map(|s| s.port) != spec.ssh.as_ref().map(|s| s.port);
    let summary = json!({"before": before, "after": spec, "widened_scopes": widened});
    let mut row = active(spec, id);
    row.created_at = Set(current.created_at);
    row.host_key = Set(if moved { None } else { current.host_key });
    row.last_test = Set(current.last_test);
    let saved = row.update(&txn).await?;
    txn.commit().await?;
    Ok(Changed {
        target: saved.into(),
        summary,
    })
}

/// Deletes a target; it also leaves every group's static members.
pub async fn delete(core: &Core, id: Uuid) -> Result<(), TargetError> {
    let txn = core.db().begin().await?;
    let gone = target::Entity::delete_by_id(id).exec(&txn).await?;
    if gone.rows_affected == 0 {
        return Err(TargetError::NotFound);
    }
    target_group::Entity::update_many()
        .col_expr(
            target_group::Column::Members,
            Expr::cust_with_values("members - $1", [id.to_string()]),
        )
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}
