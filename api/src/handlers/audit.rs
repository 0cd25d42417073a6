//! `/api/v1/audit`: the HTTP side of [`crate::audit::query`] — search,
//! page and export the audit trail (admins).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::audit::query::{self, AuditQuery, AuditView, Export};
use crate::http::AppState;
use crate::http::json::{ApiQuery, reply};
use crate::http::problem::Problem;
use crate::http::routes::{ADMIN, Route};
use crate::store::paging::Page;
use axum::http::Method;
use axum::routing;

/// `GET /api/v1/audit`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &query::search(&state, &q).await?))
}

/// `GET /api/v1/audit/export?format=csv|json`: every matching record (up to 100,000).
pub async fn export(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Response, Problem> {
    Ok(match query::export(&state, &q).await? {
        Export::Json(body) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"audit.json\"",
                ),
            ],
            body,
        )
            .into_response(),
        Export::Csv(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"audit.csv\"",
                ),
            ],
            csv,
        )
            .into_response(),
    })
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
