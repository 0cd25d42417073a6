//! `/api/v1/settings/security` (admins).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::audit::AuditDetail;
use crate::http::AppState;
use crate::http::json::{ApiJson, reply};
use crate::http::problem::Problem;
use crate::settings::SecuritySettings;

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
