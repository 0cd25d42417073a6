//! `/api/v1/audit`: search, page and export the audit trail (admins).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::http::AppState;
use crate::http::json::{ApiQuery, reply};
use crate::http::problem::Problem;
use crate::http::routes::{ADMIN, Route};
use crate::store::audit;
use crate::store::paging::{Page, Paging};
use axum::http::Method;
use axum::routing;

/// Filters (all optional) and paging.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Actor user id.
    #[serde(default)]
    pub actor_id: Option<Uuid>,
    /// Actor name.
    #[serde(default)]
    pub actor: Option<String>,
    /// Exact action, e.g. `user.create`.
    #[serde(default)]
    pub action: Option<String>,
    /// Entity type, e.g. `user`.
    #[serde(default)]
    pub entity_type: Option<String>,
    /// Entity id.
    #[serde(default)]
    pub entity_id: Option<String>,
    /// `success`, `failure` or `denied`.
    #[serde(default)]
    pub outcome: Option<String>,
    /// From (inclusive), RFC 3339.
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Until (exclusive), RFC 3339.
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
    /// Page size, 1 to 1000 (default 100).
    #[serde(default)]
    pub limit: Option<u64>,
    /// Records skipped.
    #[serde(default)]
    pub offset: Option<u64>,
    /// Export format: `json` or `csv` (export only).
    #[serde(default)]
    pub format: Option<String>,
}

/// One audit record.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AuditView {
    /// Id.
    pub id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
    /// Actor id.
    pub actor_id: Option<Uuid>,
    /// Actor name.
    pub actor_name: Option<String>,
    /// `user`, `api_token`, `anonymous`, `system`.
    pub actor_kind: String,
    /// Action.
    pub action: String,
    /// Entity type.
    pub entity_type: Option<String>,
    /// Entity id.
    pub entity_id: Option<String>,
    /// `success`, `failure`, `denied`.
    pub outcome: String,
    /// The change, secrets redacted.
    pub summary: serde_json::Value,
    /// Client address.
    pub client_addr: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
}

impl From<audit::Model> for AuditView {
    fn from(a: audit::Model) -> Self {
        Self {
            id: a.id,
            at: a.at.to_utc(),
            actor_id: a.actor_id,
            actor_name: a.actor_name,
            actor_kind: a.actor_kind,
            action: a.action,
            entity_type: a.entity_type,
            entity_id: a.entity_id,
            outcome: a.outcome,
            summary: a.summary,
            client_addr: a.client_addr,
            request_id: a.request_id,
        }
    }
}

fn filtered(q: &AuditQuery) -> Select<audit::Entity> {
    let mut s = audit::Entity::find();
    if let Some(v) = q.actor_id {
        s = s.filter(audit::Column::ActorId.eq(v));
    }
    if let Some(v) = &q.actor {
        s = s.filter(audit::Column::ActorName.eq(v.as_str()));
    }
    if let Some(v) = &q.action {
        s = s.filter(audit::Column::Action.eq(v.as_str()));
    }
    if let Some(v) = &q.entity_type {
        s = s.filter(audit::Column::EntityType.eq(v.as_str()));
    }
    if let Some(v) = &q.entity_id {
        s = s.filter(audit::Column::EntityId.eq(v.as_str()));
    }
    if let Some(v) = &q.outcome {
        s = s.filter(audit::Column::Outcome.eq(v.as_str()));
    }
    if let Some(v) = q.since {
        s = s.filter(audit::Column::At.gte(v.fixed_offset()));
    }
    if let Some(v) = q.until {
        s = s.filter(audit::Column::At.lt(v.fixed_offset()));
    }
    s.order_by_desc(audit::Column::At)
        .order_by_desc(audit::Column::Id)
}

/// `GET /api/v1/audit`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Response, Problem> {
    if q.format.is_some() {
        return Err(Problem::invalid("format applies to /api/v1/audit/export"));
    }
    let page: Page<AuditView> = crate::store::paging::paged_within(
        state.store.db(),
        filtered(&q),
        Paging {
            limit: q.limit.unwrap_or(100),
            offset: q.offset.unwrap_or(0),
        },
        1000,
    )
    .await?;
    Ok(reply(StatusCode::OK, &page))
}

/// Records exported at most in one file.
const EXPORT_MAX: u64 = 100_000;

/// `GET /api/v1/audit/export?format=csv|json`: every matching record (up to 100,000).
pub async fn export(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Response, Problem> {
    let format = q.format.clone().unwrap_or_else(|| "json".into());
    if format != "json" && format != "csv" {
        return Err(Problem::invalid("format must be json or csv"));
    }
    let rows: Vec<AuditView> = filtered(&q)
        .limit(EXPORT_MAX)
        .all(state.store.db())
        .await?
        .into_iter()
        .map(AuditView::from)
        .collect();
    if format == "json" {
        let body = serde_json::to_vec(&rows).map_err(|e| Problem::internal(&e))?;
        return Ok((
            [
                (header::CONTENT_TYPE, "application/json"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"audit.json\"",
                ),
            ],
            body,
        )
            .into_response());
    }
    let mut csv = String::from(
        "id,at,actor_id,actor_name,actor_kind,action,entity_type,entity_id,outcome,summary,client_addr,request_id\n",
    );
    for r in &rows {
        let fields = [
            r.id.to_string(),
            r.at.to_rfc3339(),
            r.actor_id.map(|x| x.to_string()).unwrap_or_default(),
            r.actor_name.clone().unwrap_or_default(),
            r.actor_kind.clone(),
            r.action.clone(),
            r.entity_type.clone().unwrap_or_default(),
            r.entity_id.clone().unwrap_or_default(),
            r.outcome.clone(),
            r.summary.to_string(),
            r.client_addr.clone().unwrap_or_default(),
            r.request_id.clone().unwrap_or_default(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        csv.push_str(&line.join(","));
        csv.push('\n');
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

/// RFC 4180 quoting; a leading formula character is neutralised for spreadsheets.
fn csv_field(f: &str) -> String {
    let f = if f.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{f}")
    } else {
        f.to_owned()
    };
    if f.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f
    }
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/audit",
            ADMIN,
            "Search the audit trail",
            routing::get(list),
        )
        .query::<AuditQuery>()
        .ok::<Page<AuditView>>(200),
        Route::new(
            Method::GET,
            "/api/v1/audit/export",
            ADMIN,
            "Export the audit trail as CSV or JSON",
            routing::get(export),
        )
        .query::<AuditQuery>(),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(super::csv_field("plain"), "plain");
        assert_eq!(super::csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
        assert_eq!(super::csv_field("=cmd()"), "'=cmd()");
    }
}
