//! `/api/v1/search`: the console's global search. Jobs by name, targets by
//! name or address, runs by id, id prefix or short id (the id's last 8
//! hex digits, as the console shows it); at most 10 of each, and only
//! what the list endpoints show a viewer (never the hidden ad-hoc job).

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing;
use schemars::JsonSchema;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::http::AppState;
use crate::http::json::{ApiQuery, reply};
use crate::http::problem::Problem;
use crate::http::routes::{Route, VIEWER};

/// Hits per kind at most.
const PER_KIND: i64 = 10;
/// The longest search text.
const MAX_QUERY: usize = 100;

/// `GET /api/v1/search`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// What to look for (1 to 100 characters): part of a job's name, of a
    /// target's name or address, or a run id or its first 4 or more hex digits.
    #[serde(default)]
    pub q: Option<String>,
}

/// A job found.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JobHit {
    /// The job's id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
}

/// A target found.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TargetHit {
    /// The target's id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its host name or address.
    pub address: String,
}

/// A run found.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunHit {
    /// The run's id.
    pub id: Uuid,
    /// Its job's name when it started.
    pub job_name: String,
    /// Its status.
    pub status: String,
}

/// What a search found: names starting with the text first, then by name.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SearchResults {
    /// Jobs whose name contains the text (case-insensitive).
    pub jobs: Vec<JobHit>,
    /// Targets whose name or address contains it.
    pub targets: Vec<TargetHit>,
    /// Runs whose id is, or starts with, the text (4 or more hex digits).
    pub runs: Vec<RunHit>,
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/search",
            VIEWER,
            "Search jobs by name, targets by name or address, runs by id, id prefix or short id (its last 8 hex digits; 10 of each at most)",
            routing::get(search),
        )
        .query::<SearchQuery>()
        .ok::<SearchResults>(200),
    ]
}

/// `%text%` for `LIKE`, with its wildcards escaped.
fn contains(text: &str) -> String {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The range of run ids starting with the hex digits of `text` (dashes
/// ignored): 4 to 32 hex digits, else none.
fn id_range(text: &str) -> Option<(Uuid, Uuid)> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if !(4..=32).contains(&hex.len()) || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let pad = |fill: char| {
        let full: String = hex
            .chars()
            .chain(std::iter::repeat(fill))
            .take(32)
            .collect();
        u128::from_str_radix(&full, 16).ok().map(Uuid::from_u128)
    };
    Some((pad('0')?, pad('f')?))
}

/// The console shows a run by the last 8 hex digits of its id (the first
/// ones of a UUIDv7 are its time, shared by runs started together): exactly
/// 8 hex digits are also a short id, lower-cased.
fn short_id(text: &str) -> Option<String> {
    (text.len() == 8 && text.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
}

async fn rows(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
    db.query_all(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        values,
    ))
    .await
}

async fn find(db: &impl ConnectionTrait, text: &str) -> Result<SearchResults, DbErr> {
    let like = contains(text);
    let prefix = text.to_lowercase();
    let jobs = rows(
        db,
        "SELECT id, name FROM jobs WHERE id <> $1 AND lower(name) LIKE $2 \
         ORDER BY starts_with(lower(name), $3) DESC, name LIMIT $4",
        vec![
            crate::runs::adhoc::JOB_ID.into(),
            like.clone().into(),
            prefix.clone().into(),
            PER_KIND.into(),
        ],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(JobHit {
            id: r.try_get("", "id")?,
            name: r.try_get("", "name")?,
        })
    })
    .collect::<Result<_, DbErr>>()?;
    let targets = rows(
        db,
        "SELECT id, name, hostname FROM targets \
         WHERE lower(name) LIKE $1 OR lower(hostname) LIKE $1 \
         ORDER BY starts_with(lower(name), $2) DESC, name LIMIT $3",
        vec![like.into(), prefix.into(), PER_KIND.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(TargetHit {
            id: r.try_get("", "id")?,
            name: r.try_get("", "name")?,
            address: r.try_get("", "hostname")?,
        })
    })
    .collect::<Result<_, DbErr>>()?;
    // By id or id prefix (the primary key's range), or by the short id the
    // console shows (its last 8 digits: idx_runs_short_id).
    let short = short_id(text);
    let runs = match (id_range(text), short.as_deref()) {
        (None, _) => Vec::new(),
        (Some((lo, hi)), None) => {
            rows(
                db,
                "SELECT id, job_name, status FROM runs WHERE id BETWEEN $1 AND $2 \
                 ORDER BY created_at DESC LIMIT $3",
                vec![lo.into(), hi.into(), PER_KIND.into()],
            )
            .await?
        }
        (Some((lo, hi)), Some(short)) => {
            rows(
                db,
                "SELECT id, job_name, status, created_at FROM runs WHERE id BETWEEN $1 AND $2 \
                 UNION SELECT id, job_name, status, created_at FROM runs WHERE right(id::text, 8) = $4 \
                 ORDER BY created_at DESC LIMIT $3",
                vec![lo.into(), hi.into(), PER_KIND.into(), short.into()],
            )
            .await?
        }
    }
    .iter()
    .map(|r| {
        Ok(RunHit {
            id: r.try_get("", "id")?,
            job_name: r.try_get("", "job_name")?,
            status: r.try_get("", "status")?,
        })
    })
    .collect::<Result<_, DbErr>>()?;
    Ok(SearchResults {
        jobs,
        targets,
        runs,
    })
}

/// `GET /api/v1/search?q=`.
pub async fn search(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Response, Problem> {
    let text = q.q.as_deref().map(str::trim).unwrap_or_default();
    if text.is_empty() || text.chars().count() > MAX_QUERY {
        let message = format!("`q` must be 1 to {MAX_QUERY} characters");
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-query",
            "Invalid Query Parameter",
        )
        .detail(message.clone())
        .errors(json!([{"path": "?q", "message": message}])));
    }
    Ok(reply(StatusCode::OK, &find(state.db(), text).await?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn id_prefixes_make_ranges() {
        let (lo, hi) = id_range("0190abCD").unwrap();
        assert_eq!(lo.to_string(), "0190abcd-0000-0000-0000-000000000000");
        assert_eq!(hi.to_string(), "0190abcd-ffff-ffff-ffff-ffffffffffff");
        assert!(id_range("abc").is_none());
        assert!(id_range("web-1").is_none());
        let id = Uuid::now_v7();
        assert_eq!(id_range(&id.to_string()), Some((id, id)));
    }

    #[test]
    fn short_ids_are_eight_hex_digits() {
        assert_eq!(short_id("9F3A1B2C").as_deref(), Some("9f3a1b2c"));
        assert_eq!(short_id("9f3a1b2c4d5e"), None);
        assert_eq!(short_id("9f3a1b2"), None);
        assert_eq!(short_id("9f3a-1b2"), None);
        assert_eq!(short_id("%%%%%%%%"), None);
    }

    #[test]
    fn wildcards_are_escaped() {
        assert_eq!(contains("50%_a\\"), "%50\\%\\_a\\\\%");
    }
}
