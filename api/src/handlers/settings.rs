//! `/api/v1/settings/security` (admins).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::audit::AuditDetail;
use crate::http::AppState;
use crate::http::json::{ApiJson, reply};
use crate::http::problem::Problem;
use crate::http::routes::{ADMIN, Route};
use crate::settings::SecuritySettings;
use axum::http::Method;
use axum::routing;

/// `GET /api/v1/settings/security`.
pub async fn get(State(state): State<AppState>) -> Response {
    reply(StatusCode::OK, &state.settings.security().await)
}

/// `PUT /api/v1/settings/security`.
pub async fn put(
    State(state): State<AppState>,
    ApiJson(s): ApiJson<SecuritySettings>,
) -> Result<Response, Problem> {
    let before = state.settings.security().await;
    state.settings.set_security(s).await?;
    let mut res = reply(StatusCode::OK, &s);
    res.extensions_mut().insert(
        AuditDetail::new("settings.update", "settings", "security")
            .summary(json!({ "before": before, "after": s })),
    );
    Ok(res)
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/settings/security",
            ADMIN,
            "Security settings",
            routing::get(get),
        )
        .ok::<crate::settings::SecuritySettings>(200),
        Route::new(
            Method::PUT,
            "/api/v1/settings/security",
            ADMIN,
            "Change security settings",
            routing::put(put),
        )
        .body::<crate::settings::SecuritySettings>()
        .ok::<crate::settings::SecuritySettings>(200),
    ]
}
