//! `/api/v1/auth/*`: the HTTP side of [`crate::auth::login`] and
//! [`crate::auth::account`] — login, refresh, logout, revoke-all, verify,
//! register.

use crate::http::client::ClientAddr;

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::auth::account::{self, RegisterRequest};
use crate::auth::login::{self, Attempt, Attempted};
use crate::auth::{Access, Credential, Principal};
use crate::http::AppState;
use crate::http::json::{ApiJson, reply};
use crate::http::problem::Problem;
use crate::http::routes::{Route, SELF};
use crate::sessions::TokenPair;
use crate::sessions::{self, Rotation};
use crate::store::user::Role;
use axum::http::Method;
use axum::routing;

/// `POST /api/v1/auth/login`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
    /// Current TOTP code, when the user enrolled MFA.
    #[serde(default)]
    pub totp_code: Option<String>,
    /// A single-use recovery code instead of a TOTP code.
    #[serde(default)]
    pub recovery_code: Option<String>,
}

/// A refresh token in a body.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from login or the last refresh.
    pub refresh_token: String,
}

/// `POST /api/v1/auth/revoke-all`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeAllRequest {
    /// Another user's sessions (admins only); default: your own.
    #[serde(default)]
    pub user_id: Option<Uuid>,
}

/// `GET /api/v1/auth/verify`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VerifyResponse {
    /// User id.
    pub sub: Uuid,
    /// User name.
    pub username: String,
    /// Effective role.
    pub role: Role,
    /// `user` (a login session) or `api_token`.
    pub kind: String,
    /// When the access token expires (sessions only).
    pub expires_at: Option<chrono::DateTime<Utc>>,
}

pub(crate) fn with_audit(mut res: Response, detail: AuditDetail) -> Response {
    res.extensions_mut().insert(detail);
    res
}

fn login_detail(who: &Attempted, result: &str) -> AuditDetail {
    AuditDetail {
        action: Some("auth.login".into()),
        entity_type: Some("user"),
        entity_id: who.user_id.map(|u| u.to_string()),
        summary: json!({ "result": result }),
        actor_name: Some(who.name.clone()),
        actor_id: who.user_id,
    }
}

/// Logs in. Unknown users and wrong passwords take the same time and get the
/// same answer; failures slow down, then lock the account for a while. A
/// wrong second factor counts as a failed login.
pub async fn login(
    State(state): State<AppState>,
    addr: ClientAddr,
    body: ApiJson<LoginRequest>,
) -> Response {
    match login_pair(&state, addr, body).await {
        Ok((pair, mut res)) => {
            let mut out = reply(StatusCode::OK, &pair);
            *out.extensions_mut() = std::mem::take(res.extensions_mut());
            out
        }
        Err(res) => res,
    }
}

/// A login's tokens and an empty `200` carrying its audit record, or the
/// refusal's answer (audited, with `Retry-After` when throttled). Shared
/// with the console's sign-in, which answers the tokens differently.
pub(crate) async fn login_pair(
    state: &AppState,
    ClientAddr(peer): ClientAddr,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<(TokenPair, Response), Response> {
    let attempt = Attempt {
        username: body.username,
        password: SecretString::from(body.password),
        totp_code: body.totp_code,
        recovery_code: body.recovery_code,
        addr: peer,
    };
    match login::login(state, attempt).await {
        Ok(done) => Ok((
            done.pair,
            with_audit(
                StatusCode::OK.into_response(),
                login_detail(&done.who, "success"),
            ),
        )),
        Err(e) => {
            let detail = e.attempt().map(|(who, reason)| login_detail(who, reason));
            let retry_after = e.retry_after();
            let mut res = Problem::from(e).into_response();
            if let Some(wait) = retry_after
                && let Ok(v) = HeaderValue::from_str(&wait.to_string())
            {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Err(match detail {
                Some(detail) => with_audit(res, detail),
                None => res,
            })
        }
    }
}

/// The audit record of a good rotation.
pub(crate) fn refresh_detail(user_id: Uuid, username: String) -> AuditDetail {
    let mut detail = AuditDetail::new("auth.refresh", "user", user_id);
    detail.actor_id = Some(user_id);
    detail.actor_name = Some(username);
    detail
}

/// The answer when a used refresh token comes back: the session is revoked.
pub(crate) fn reuse_answer(user_id: Uuid) -> Response {
    let detail = AuditDetail::new("auth.refresh_reuse", "user", user_id)
        .summary(json!({ "result": "reused refresh token; session revoked" }));
    let mut detail = detail;
    detail.actor_id = Some(user_id);
    let res = Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized")
        .detail("The refresh token was already used; the session is revoked. Log in again.")
        .into_response();
    with_audit(res, detail)
}

/// Rotates a refresh token. Reuse revokes the whole session.
pub async fn refresh(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Response {
    match sessions::rotate(&state, &body.refresh_token, Some(peer.to_string())).await {
        Ok(Rotation::Rotated(rotated)) => {
            let (pair, u) = *rotated;
            with_audit(
                reply(StatusCode::OK, &pair),
                refresh_detail(u.id, u.username),
            )
        }
        Ok(Rotation::ReuseDetected(user_id)) => {
            tracing::warn!(%user_id, "Refresh token reused: session revoked.");
            reuse_answer(user_id)
        }
        Err(e) => with_audit(
            Problem::from(e).into_response(),
            AuditDetail {
                action: Some("auth.refresh".into()),
                ..Default::default()
            },
        ),
    }
}

/// Ends the session of a refresh token.
pub async fn logout(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Response, Problem> {
    let family = account::logout(&state, &body.refresh_token).await?;
    Ok(with_audit(
        StatusCode::NO_CONTENT.into_response(),
        AuditDetail::new("auth.logout", "session", family),
    ))
}

/// Revokes every session of the caller, or (admins) of another user.
pub async fn revoke_all(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiJson(body): ApiJson<RevokeAllRequest>,
) -> Result<Response, Problem> {
    let revoked = account::revoke_all(&state, &me, body.user_id).await?;
    Ok(with_audit(
        StatusCode::NO_CONTENT.into_response(),
        AuditDetail::new("auth.revoke_all", "user", revoked.user_id)
            .summary(json!({ "sessions_ended": revoked.sessions_ended })),
    ))
}

/// Who the token belongs to.
pub async fn verify(Extension(me): Extension<Principal>) -> Response {
    let expires_at = match me.credential {
        Credential::Session { expires_at, .. } => Some(expires_at),
        Credential::ApiToken { .. } => None,
    };
    reply(
        StatusCode::OK,
        &VerifyResponse {
            sub: me.user_id,
            username: me.username.clone(),
            role: me.role,
            kind: me.kind().to_owned(),
            expires_at,
        },
    )
}

/// Self-registration, off unless an admin turned it on; new users are viewers.
pub async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<Response, Problem> {
    let created = account::register(&state, body).await?;
    let detail = AuditDetail::new("user.register", "user", created.id)
        .summary(json!({ "username": created.username, "role": "viewer" }));
    Ok(with_audit(reply(StatusCode::CREATED, &created), detail))
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::POST,
            "/api/v1/auth/login",
            Access::Public,
            "Log in; returns an access and a refresh token",
            routing::post(login),
        )
        .body::<LoginRequest>()
        .ok::<TokenPair>(200),
        Route::new(
            Method::POST,
            "/api/v1/auth/refresh",
            Access::Public,
            "Rotate a refresh token; reuse revokes the session",
            routing::post(refresh),
        )
        .body::<RefreshRequest>()
        .ok::<TokenPair>(200),
        Route::new(
            Method::POST,
            "/api/v1/auth/logout",
            Access::Public,
            "End the session of a refresh token",
            routing::post(logout),
        )
        .body::<RefreshRequest>()
        .no_content(),
        Route::new(
            Method::POST,
            "/api/v1/auth/register",
            Access::Public,
            "Self-registration as a viewer (off by default)",
            routing::post(register),
        )
        .body::<RegisterRequest>()
        .ok::<crate::users::UserView>(201),
        Route::new(
            Method::POST,
            "/api/v1/auth/revoke-all",
            SELF,
            "Revoke all sessions of yourself, or (admins) of a user",
            routing::post(revoke_all),
        )
        .body::<RevokeAllRequest>()
        .session_only()
        .no_content(),
        Route::new(
            Method::GET,
            "/api/v1/auth/verify",
            SELF,
            "Who this token belongs to",
            routing::get(verify),
        )
        .ok::<VerifyResponse>(200),
    ]
}
