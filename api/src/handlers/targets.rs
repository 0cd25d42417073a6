//! `/api/v1/targets`: the inventory. Operators manage targets; viewers read.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
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

use crate::audit::AuditDetail;
use crate::http::AppState;
use crate::http::json::{ApiJson, ApiPath, ApiQuery, reply};
use crate::http::problem::Problem;
use crate::http::routes::{OPERATOR, Route, VIEWER};
use crate::store::paging::{Page, Paging, paged};
use crate::store::{credential, target, target_group};
use crate::targets::{FieldError, TargetSpec, csv_io};
use axum::http::Method;
use axum::routing;

/// A target as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TargetView {
    /// Id.
    pub id: Uuid,
    /// The document.
    #[serde(flatten)]
    pub spec: TargetSpec,
    /// Pinned SSH host key, and a key pending approval, if any.
    pub host_key: Option<crate::targets::hostkey::HostKeyState>,
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
            spec: crate::targets::spec_of(&t),
            host_key: t
                .host_key
                .as_ref()
                .map(|v| crate::targets::hostkey::HostKeyState::from_column(Some(v))),
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

fn invalid(errors: &[FieldError]) -> Problem {
    Problem::invalid(
        errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; "),
    )
    .errors(json!(errors))
}

async fn validate(state: &AppState, spec: &mut TargetSpec) -> Result<(), Problem> {
    let mut errors = spec.check_fields();
    errors.extend(spec.check_credentials(state.store.db()).await?);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(invalid(&errors))
    }
}

fn active(spec: TargetSpec, id: Uuid) -> target::ActiveModel {
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

async fn filtered(state: &AppState, q: &TargetQuery) -> Result<Select<target::Entity>, Problem> {
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
            .one(state.store.db())
            .await?
            .ok_or_else(|| Problem::not_found_entity("target group"))?;
        let ids = crate::targets::group_member_ids(state.store.db(), &g).await?;
        s = s.filter(Condition::all().add(target::Column::Id.is_in(ids)));
    }
    Ok(s.order_by_asc(target::Column::Name))
}

/// `GET /api/v1/targets`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<TargetQuery>,
) -> Result<Response, Problem> {
    if q.format.is_some() {
        return Err(Problem::invalid("format applies to /api/v1/targets/export"));
    }
    let query = filtered(&state, &q).await?;
    let page: Page<TargetView> =
        paged(state.store.db(), query, Paging::of(q.limit, q.offset)).await?;
    Ok(reply(StatusCode::OK, &page))
}

/// `POST /api/v1/targets`.
pub async fn create(
    State(state): State<AppState>,
    ApiJson(mut spec): ApiJson<TargetSpec>,
) -> Result<Response, Problem> {
    validate(&state, &mut spec).await?;
    let db = state.store.db();
    if target::Entity::find()
        .filter(target::Column::Name.eq(&spec.name))
        .one(db)
        .await?
        .is_some()
    {
        return Err(Problem::conflict(format!(
            "a target named {:?} exists",
            spec.name
        )));
    }
    let id = Uuid::now_v7();
    let summary = json!({"name": spec.name, "hostname": spec.hostname, "os_type": spec.os_type, "pool": spec.pool});
    let row = active(spec, id).insert(db).await?;
    let mut res = reply(StatusCode::CREATED, &TargetView::from(row));
    res.extensions_mut()
        .insert(AuditDetail::new("target.create", "target", id).summary(summary));
    Ok(res)
}

/// `GET /api/v1/targets/{id}`.
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let t = target::Entity::find_by_id(id)
        .one(state.store.db())
        .await?
        .ok_or_else(|| Problem::not_found_entity("target"))?;
    Ok(reply(StatusCode::OK, &TargetView::from(t)))
}

/// `PUT /api/v1/targets/{id}`: the whole document. A changed host or port
/// forgets the pinned host key.
pub async fn update(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(mut spec): ApiJson<TargetSpec>,
) -> Result<Response, Problem> {
    validate(&state, &mut spec).await?;
    let db = state.store.db();
    let current = target::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Problem::not_found_entity("target"))?;
    let clash = target::Entity::find()
        .filter(target::Column::Name.eq(&spec.name))
        .filter(target::Column::Id.ne(id))
        .one(db)
        .await?;
    if clash.is_some() {
        return Err(Problem::conflict(format!(
            "a target named {:?} exists",
            spec.name
        )));
    }
    let before = crate::targets::spec_of(&current);
    let moved = before.hostname != spec.hostname
        || before.ssh.as_ref().map(|s| s.port) != spec.ssh.as_ref().map(|s| s.port);
    let summary = json!({"before": before, "after": spec});
    let mut row = active(spec, id);
    row.created_at = Set(current.created_at);
    row.host_key = Set(if moved { None } else { current.host_key });
    row.last_test = Set(current.last_test);
    let saved = row.update(db).await?;
    let mut res = reply(StatusCode::OK, &TargetView::from(saved));
    res.extensions_mut()
        .insert(AuditDetail::new("target.update", "target", id).summary(summary));
    Ok(res)
}

/// `DELETE /api/v1/targets/{id}` (also leaves every group's static members).
pub async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let db = state.store.db();
    let txn = db.begin().await?;
    let gone = target::Entity::delete_by_id(id).exec(&txn).await?;
    if gone.rows_affected == 0 {
        return Err(Problem::not_found_entity("target"));
    }
    target_group::Entity::update_many()
        .col_expr(
            target_group::Column::Members,
            Expr::cust_with_values("members - $1", [id.to_string()]),
        )
        .exec(&txn)
        .await?;
    txn.commit().await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut()
        .insert(AuditDetail::new("target.delete", "target", id));
    Ok(res)
}

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

/// `POST /api/v1/targets/import`: a JSON array of target documents, or CSV
/// (`Content-Type: text/csv`). Everything is validated first; one bad row
/// imports nothing, and the answer names every bad row.
pub async fn import(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: String,
) -> Result<Response, Problem> {
    let is_csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    let db = state.store.db();
    let rows: Vec<Result<TargetSpec, Vec<FieldError>>> = if is_csv {
        let names: HashMap<String, Uuid> = credential::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.name, c.id))
            .collect();
        csv_io::read(&body, &names).map_err(Problem::invalid)?
    } else {
        let raw: Vec<Value> = serde_json::from_str(&body).map_err(|e| {
            Problem::invalid(format!("the body must be a JSON array of targets: {e}"))
        })?;
        raw.into_iter()
            .map(|v| {
                serde_json::from_value::<TargetSpec>(v).map_err(|e| {
                    vec![FieldError {
                        field: "row".into(),
                        message: e.to_string(),
                    }]
                })
            })
            .collect()
    };
    if rows.is_empty() {
        return Err(Problem::invalid("nothing to import"));
    }
    if rows.len() > 10_000 {
        return Err(Problem::invalid("at most 10,000 targets per import"));
    }
    let mut errors: Vec<RowError> = Vec::new();
    let mut specs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, row) in rows.into_iter().enumerate() {
        let n = i + 1;
        match row {
            Err(es) => errors.extend(es.into_iter().map(|e| RowError {
                row: n,
                field: e.field,
                message: e.message,
            })),
            Ok(mut spec) => {
                let mut es = spec.check_fields();
                es.extend(spec.check_credentials(db).await?);
                if !seen.insert(spec.name.clone()) {
                    es.push(FieldError {
                        field: "name".into(),
                        message: "appears twice in this import".into(),
                    });
                } else if target::Entity::find()
                    .filter(target::Column::Name.eq(&spec.name))
                    .one(db)
                    .await?
                    .is_some()
                {
                    es.push(FieldError {
                        field: "name".into(),
                        message: "a target with this name exists".into(),
                    });
                }
                errors.extend(es.into_iter().map(|e| RowError {
                    row: n,
                    field: e.field,
                    message: e.message,
                }));
                specs.push(spec);
            }
        }
    }
    if !errors.is_empty() {
        let rows: Vec<String> = errors
            .iter()
            .map(|e| e.row.to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        return Err(Problem::invalid(format!(
            "nothing was imported; fix row(s) {}",
            rows.join(", ")
        ))
        .errors(json!(errors)));
    }
    let count = specs.len();
    let txn = db.begin().await?;
    for spec in specs {
        active(spec, Uuid::now_v7()).insert(&txn).await?;
    }
    txn.commit().await?;
    let mut res = reply(StatusCode::CREATED, &json!({"imported": count}));
    res.extensions_mut().insert(AuditDetail {
        action: Some("target.import".into()),
        entity_type: Some("target"),
        summary: json!({"imported": count, "format": if is_csv { "csv" } else { "json" }}),
        ..Default::default()
    });
    Ok(res)
}

/// `GET /api/v1/targets/export?format=json|csv` (same filters as the list).
pub async fn export(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<TargetQuery>,
) -> Result<Response, Problem> {
    let format = q.format.clone().unwrap_or_else(|| "json".into());
    if format != "json" && format != "csv" {
        return Err(Problem::invalid("format must be json or csv"));
    }
    let specs: Vec<TargetSpec> = filtered(&state, &q)
        .await?
        .all(state.store.db())
        .await?
        .iter()
        .map(crate::targets::spec_of)
        .collect();
    Ok(if format == "csv" {
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"targets.csv\"",
                ),
            ],
            csv_io::write(&specs),
        )
            .into_response()
    } else {
        let body = serde_json::to_string_pretty(&specs).map_err(|e| Problem::internal(&e))?;
        (
            [
                (header::CONTENT_TYPE, "application/json"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"targets.json\"",
                ),
            ],
            body,
        )
            .into_response()
    })
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/targets",
            VIEWER,
            "List targets (filters: name, tag, os_type, group, pool)",
            routing::get(list),
        )
        .query::<TargetQuery>()
        .ok::<Page<TargetView>>(200),
        Route::new(
            Method::POST,
            "/api/v1/targets",
            OPERATOR,
            "Create a target",
            routing::post(create),
        )
        .body::<crate::targets::TargetSpec>()
        .ok::<TargetView>(201),
        Route::new(
            Method::POST,
            "/api/v1/targets/import",
            OPERATOR,
            "Import targets (JSON array or text/csv); all or nothing",
            routing::post(import),
        ),
        Route::new(
            Method::GET,
            "/api/v1/targets/export",
            VIEWER,
            "Export targets as JSON or CSV",
            routing::get(export),
        )
        .query::<TargetQuery>(),
        Route::new(
            Method::GET,
            "/api/v1/targets/{id}",
            VIEWER,
            "Get a target",
            routing::get(get),
        )
        .ok::<TargetView>(200),
        Route::new(
            Method::PUT,
            "/api/v1/targets/{id}",
            OPERATOR,
            "Replace a target",
            routing::put(update),
        )
        .body::<crate::targets::TargetSpec>()
        .ok::<TargetView>(200),
        Route::new(
            Method::DELETE,
            "/api/v1/targets/{id}",
            OPERATOR,
            "Delete a target",
            routing::delete(delete),
        )
        .no_content(),
    ]
}
