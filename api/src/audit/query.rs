//! Reading the audit trail back: filtered search in pages of up to 1000,
//! and an export of every matching record (up to [`EXPORT_MAX`]) as JSON
//! or as CSV safe to open in a spreadsheet.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::core::Core;
use crate::store::audit;
use crate::store::paging::{Page, Paging, paged_within};

/// Records exported at most in one file.
pub const EXPORT_MAX: u64 = 100_000;

/// Largest page of a search.
const PAGE_MAX: u64 = 1000;

/// Page size of a search when none is asked for.
const PAGE_DEFAULT: u64 = 100;

/// Why the trail could not be searched or exported.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A search was given an export format.
    #[error("format applies to /api/v1/audit/export")]
    FormatOnSearch,
    /// An export format other than `json` or `csv`.
    #[error("format must be json or csv")]
    UnknownFormat,
    /// The records could not be encoded as JSON.
    #[error("the export could not be encoded: {0}")]
    Encode(#[from] serde_json::Error),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

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

/// The records matching `q`, newest first.
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

/// One page of the records matching `q`.
pub async fn search(core: &Core, q: &AuditQuery) -> Result<Page<AuditView>, AuditError> {
    if q.format.is_some() {
        return Err(AuditError::FormatOnSearch);
    }
    Ok(paged_within(
        core.db(),
        filtered(q),
        Paging {
            limit: q.limit.unwrap_or(PAGE_DEFAULT),
            offset: q.offset.unwrap_or(0),
        },
        PAGE_MAX,
    )
    .await?)
}

/// An export file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Export {
    /// A JSON array of [`AuditView`]s.
    Json(Vec<u8>),
    /// CSV with a header line, one record per line.
    Csv(String),
}

/// Every record matching `q` (up to [`EXPORT_MAX`]), as `q.format` asks
/// (default JSON); paging is ignored.
pub async fn export(core: &Core, q: &AuditQuery) -> Result<Export, AuditError> {
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(AuditError::UnknownFormat),
    };
    let rows: Vec<AuditView> = filtered(q)
        .limit(EXPORT_MAX)
        .all(core.db())
        .await?
        .into_iter()
        .map(AuditView::from)
        .collect();
    if csv {
        Ok(Export::Csv(to_csv(&rows)))
    } else {
        Ok(Export::Json(serde_json::to_vec(&rows)?))
    }
}

/// The records as CSV, every field quoted as RFC 4180 needs.
fn to_csv(rows: &[AuditView]) -> String {
    let mut csv = String::from(
        "id,at,actor_id,actor_name,actor_kind,action,entity_type,entity_id,outcome,summary,client_addr,request_id\n",
    );
    for r in rows {
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
    csv
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
    }

    #[test]
    fn csv_has_a_header_and_one_line_per_record() {
        let row = AuditView {
            id: Uuid::nil(),
            at: DateTime::from_timestamp(0, 0).unwrap(),
            actor_id: None,
            actor_name: Some("ann".into()),
            actor_kind: "user".into(),
            action: "user.create".into(),
            entity_type: Some("user".into()),
            entity_id: None,
            outcome: "success".into(),
            summary: serde_json::json!({"a": 1, "b": "=x"}),
            client_addr: None,
            request_id: None,
        };
        let csv = to_csv(&[row]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("id,at,actor_id,"));
        assert_eq!(
            lines[1],
            "00000000-0000-0000-0000-000000000000,1970-01-01T00:00:00+00:00,,ann,user,user.create,user,,success,\"{\"\"a\"\":1,\"\"b\"\":\"\"=x\"\"}\",,"
        );
    }
}
