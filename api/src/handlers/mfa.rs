//! `/api/v1/me/mfa`: the HTTP side of [`crate::auth::mfa`] — TOTP
//! enrolment, confirmation, recovery codes, removal.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::Deserialize;

use crate::audit::AuditDetail;
use crate::auth::Principal;
use crate::auth::mfa::{self, Enrolment, RecoveryCodes};
use crate::http::AppState;
use crate::http::json::{ApiJson, reply};
use crate::http::problem::Problem;
use crate::http::routes::{Route, SELF};
use axum::http::Method;
use axum::routing;

/// A TOTP code.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// Six digits from the authenticator.
    pub code: String,
}

/// `DELETE /api/v1/me/mfa`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableRequest {
    /// Your password.
    pub password: String,
}

/// `POST /api/v1/me/mfa/enroll`: a new secret, pending confirmation.
pub async fn enroll(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
) -> Result<Response, Problem> {
    let enrolment = mfa::enroll(&state, me.user_id).await?;
    let mut res = reply(StatusCode::OK, &enrolment);
    res.extensions_mut()
        .insert(AuditDetail::new("mfa.enroll", "user", me.user_id));
    Ok(res)
}

/// `POST /api/v1/me/mfa/confirm`: a valid code turns MFA on and yields recovery codes.
pub async fn confirm(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiJson(body): ApiJson<CodeRequest>,
) -> Result<Response, Problem> {
    let codes = mfa::confirm(&state, me.user_id, &body.code).await?;
    let mut res = reply(StatusCode::OK, &codes);
    res.extensions_mut()
        .insert(AuditDetail::new("mfa.enable", "user", me.user_id));
    Ok(res)
}

/// `DELETE /api/v1/me/mfa`: turn MFA off (needs the password).
pub async fn disable(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiJson(body): ApiJson<DisableRequest>,
) -> Result<Response, Problem> {
    mfa::disable(&state, me.user_id, SecretString::from(body.password)).await?;
    let mut res = reply(StatusCode::OK, &serde_json::json!({ "mfa_enabled": false }));
    res.extensions_mut()
        .insert(AuditDetail::new("mfa.disable", "user", me.user_id));
    Ok(res)
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::POST,
            "/api/v1/me/mfa/enroll",
            SELF,
            "Start TOTP enrolment",
            routing::post(enroll),
        )
        .session_only()
        .ok::<Enrolment>(200),
        Route::new(
            Method::POST,
            "/api/v1/me/mfa/confirm",
            SELF,
            "Confirm TOTP with a code; returns recovery codes",
            routing::post(confirm),
        )
        .body::<CodeRequest>()
        .session_only()
        .ok::<RecoveryCodes>(200),
        Route::new(
            Method::DELETE,
            "/api/v1/me/mfa",
            SELF,
            "Turn TOTP off (needs your password)",
            routing::delete(disable),
        )
        .body::<DisableRequest>()
        .session_only(),
    ]
}
