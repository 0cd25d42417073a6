//! `/api/v1/me/mfa`: TOTP enrolment, confirmation, recovery codes, removal.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use schemars::JsonSchema;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::auth::{Principal, secret, totp};
use crate::http::AppState;
use crate::http::json::{ApiJson, reply};
use crate::http::problem::Problem;
use crate::http::routes::{Route, SELF};
use crate::password;
use crate::store::recovery_code;
use axum::http::Method;
use axum::routing;

/// Enrolment: scan the URI (as a QR code) or type the secret, then confirm.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Enrolment {
    /// Base32 secret.
    pub secret: String,
    /// `otpauth://` URI for authenticator apps.
    pub otpauth_uri: String,
}

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

/// Recovery codes, shown once.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes.
    pub recovery_codes: Vec<String>,
}

/// `POST /api/v1/me/mfa/enroll`: a new secret, pending confirmation.
pub async fn enroll(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
) -> Result<Response, Problem> {
    let u = crate::users::get(&state, me.user_id).await?;
    if u.mfa_enabled {
        return Err(Problem::conflict(
            "MFA is already enabled; disable it first",
        ));
    }
    let secret = totp::new_secret();
    let mut row = u.clone().into_active_model();
    row.mfa_secret = Set(Some(totp::seal(&state.keys.mfa, u.id, &secret)));
    row.mfa_last_step = Set(None);
    row.update(state.store.db()).await?;
    let mut res = reply(
        StatusCode::OK,
        &Enrolment {
            secret: totp::base32(&secret),
            otpauth_uri: totp::otpauth_uri(&secret, &u.username),
        },
    );
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
    let u = crate::users::get(&state, me.user_id).await?;
    let secret = u
        .mfa_secret
        .as_deref()
        .and_then(|s| totp::open(&state.keys.mfa, u.id, s))
        .ok_or_else(|| Problem::conflict("enrol first: POST /api/v1/me/mfa/enroll"))?;
    let step = totp::check(
        &secret,
        body.code.trim(),
        Utc::now().timestamp(),
        u.mfa_last_step,
    )
    .ok_or_else(|| Problem::invalid("the code is wrong or was already used"))?;
    let db = state.store.db();
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(u.id))
        .exec(db)
        .await?;
    let mut codes = Vec::new();
    for _ in 0..10 {
        let code = secret::generate("")[..16].to_lowercase();
        recovery_code::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(u.id),
            code_hash: Set(secret::hash(&code)),
            used_at: Set(None),
        }
        .insert(db)
        .await?;
        codes.push(code);
    }
    let mut row = u.into_active_model();
    row.mfa_enabled = Set(true);
    row.mfa_last_step = Set(Some(step));
    row.update(db).await?;
    let mut res = reply(
        StatusCode::OK,
        &RecoveryCodes {
            recovery_codes: codes,
        },
    );
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
    let u = crate::users::get(&state, me.user_id).await?;
    if !password::verify_blocking(SecretString::from(body.password), u.password_hash.clone()).await
    {
        return Err(Problem::forbidden("the password is wrong"));
    }
    let db = state.store.db();
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(u.id))
        .exec(db)
        .await?;
    let mut row = u.into_active_model();
    row.mfa_enabled = Set(false);
    row.mfa_secret = Set(None);
    row.mfa_last_step = Set(None);
    row.update(db).await?;
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
