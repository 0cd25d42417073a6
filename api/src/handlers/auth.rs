//! `/api/v1/auth/*`: login, refresh, logout, revoke-all, verify, register.

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use schemars::JsonSchema;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::auth::Access;
use crate::auth::{Credential, Principal, throttle, totp};
use crate::http::AppState;
use crate::http::json::{ApiJson, reply};
use crate::http::problem::Problem;
use crate::http::routes::{Route, SELF};
use crate::sessions::TokenPair;
use crate::sessions::{self, Rotation};
use crate::store::user::{self, Role};
use crate::users::{NewUser, UserView};
use crate::{password, store::recovery_code};
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

/// `POST /api/v1/auth/register` (when self-registration is on).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// User name.
    pub username: String,
    /// Password (at least 12 characters, not a common one).
    pub password: String,
    /// Contact address.
    #[serde(default)]
    pub email: Option<String>,
}

fn bad_credentials() -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "invalid-credentials",
        "Unauthorized",
    )
    .detail("Invalid user name or password.")
}

fn too_many(retry_after: u64) -> Response {
    let mut res = Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too-many-attempts",
        "Too Many Requests",
    )
    .detail("Too many failed logins; try again later.")
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

fn with_audit(mut res: Response, detail: AuditDetail) -> Response {
    res.extensions_mut().insert(detail);
    res
}

fn login_detail(username: &str, user_id: Option<Uuid>, reason: &str) -> AuditDetail {
    AuditDetail {
        action: Some("auth.login".into()),
        entity_type: Some("user"),
        entity_id: user_id.map(|u| u.to_string()),
        summary: json!({ "result": reason }),
        actor_name: Some(username.to_owned()),
        actor_id: user_id,
    }
}

/// Logs in. Unknown users and wrong passwords take the same time and get the
/// same answer; failures slow down, then lock the account for a while. A
/// wrong second factor counts as a failed login.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Response {
    let name = body.username.trim().to_lowercase();
    let addr = peer.ip();
    if let Some(wait) = state.throttle.address_blocked(addr) {
        return with_audit(
            too_many(wait),
            login_detail(&name, None, "address throttled"),
        );
    }
    let found = match user::Entity::find()
        .filter(user::Column::Username.eq(&name))
        .one(state.store.db())
        .await
    {
        Ok(u) => u,
        Err(e) => return Problem::from(e).into_response(),
    };
    let pw = SecretString::from(body.password);
    let Some(u) = found else {
        // Same work as for a real user: one Argon2 verification.
        let _ = password::verify_blocking(pw, state.dummy_hash.to_string()).await;
        state.throttle.address_failed(addr);
        if let Some(wait) = state.throttle.unknown_locked(&name) {
            return with_audit(too_many(wait), login_detail(&name, None, "locked"));
        }
        let failures = state.throttle.unknown_failed(&name);
        tokio::time::sleep(throttle::slowdown(failures)).await;
        return with_audit(
            bad_credentials().into_response(),
            login_detail(&name, None, "unknown user"),
        );
    };
    let now = Utc::now();
    if let Some(until) = u.locked_until.filter(|t| t.to_utc() > now) {
        let _ = password::verify_blocking(pw, state.dummy_hash.to_string()).await;
        let wait = u64::try_from((until.to_utc() - now).num_seconds())
            .unwrap_or(1)
            .max(1);
        return with_audit(too_many(wait), login_detail(&name, Some(u.id), "locked"));
    }
    if !password::verify_blocking(pw, u.password_hash.clone()).await || !u.active {
        let reason = if u.active {
            "wrong password"
        } else {
            "inactive user"
        };
        return failed(&state, addr, &u, bad_credentials().into_response(), reason).await;
    }
    let mut mfa = false;
    if u.mfa_enabled {
        match second_factor(
            &state,
            &u,
            body.totp_code.as_deref(),
            body.recovery_code.as_deref(),
            now,
        )
        .await
        {
            Ok(()) => mfa = true,
            Err(SecondFactor::Missing(res)) => {
                return with_audit(
                    res,
                    login_detail(&name, Some(u.id), "second factor required"),
                );
            }
            Err(SecondFactor::Wrong(res)) => {
                return failed(&state, addr, &u, res, "second factor wrong").await;
            }
        }
    }
    let reset = user::Entity::update_many()
        .col_expr(user::Column::FailedLogins, Expr::value(0))
        .col_expr(
            user::Column::LockedUntil,
            Expr::value(Option::<chrono::DateTime<chrono::FixedOffset>>::None),
        )
        .filter(user::Column::Id.eq(u.id))
        .exec(state.store.db())
        .await;
    if let Err(e) = reset {
        return Problem::from(e).into_response();
    }
    match sessions::issue(&state, &u, Uuid::now_v7(), mfa, Some(addr.to_string())).await {
        Ok(pair) => with_audit(
            reply(StatusCode::OK, &pair),
            login_detail(&name, Some(u.id), "success"),
        ),
        Err(e) => Problem::from(e).into_response(),
    }
}

/// Counts a failed login atomically (concurrent guesses all count), locks
/// the account at the threshold, slows the answer down, and audits it.
async fn failed(
    state: &AppState,
    addr: std::net::IpAddr,
    u: &user::Model,
    answer: Response,
    reason: &str,
) -> Response {
    use sea_orm::{ConnectionTrait as _, DbBackend, Statement};
    state.throttle.address_failed(addr);
    let limits = state.throttle.limits();
    let db = state.store.db();
    let counted = db
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins",
            [u.id.into()],
        ))
        .await
        .ok()
        .flatten()
        .and_then(|row| row.try_get::<i32>("", "failed_logins").ok())
        .unwrap_or(1);
    let failures = u32::try_from(counted).unwrap_or(1);
    if failures >= limits.lockout_threshold {
        let until = Utc::now()
            + chrono::Duration::seconds(i64::try_from(limits.lockout.as_secs()).unwrap_or(900));
        let locked = user::Entity::update_many()
            .col_expr(user::Column::FailedLogins, Expr::value(0))
            .col_expr(user::Column::LockedUntil, Expr::value(until.fixed_offset()))
            .filter(user::Column::Id.eq(u.id))
            .exec(db)
            .await;
        if let Err(e) = locked {
            return Problem::from(e).into_response();
        }
        tracing::warn!(user_id = %u.id, "Account locked after repeated failed logins.");
    }
    tokio::time::sleep(throttle::slowdown(failures)).await;
    with_audit(answer, login_detail(&u.username, Some(u.id), reason))
}

/// Why the second factor did not pass.
enum SecondFactor {
    /// None was sent: ask for it (not a failure).
    Missing(Response),
    /// A wrong, reused or unknown code (a failure).
    Wrong(Response),
}

async fn second_factor(
    state: &AppState,
    u: &user::Model,
    code: Option<&str>,
    recovery: Option<&str>,
    now: chrono::DateTime<Utc>,
) -> Result<(), SecondFactor> {
    let wrong = || {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "invalid-credentials",
            "Unauthorized",
        )
        .detail("The second-factor code is wrong or was already used.")
        .into_response()
    };
    let internal = |e: sea_orm::DbErr| SecondFactor::Wrong(Problem::from(e).into_response());
    let db = state.store.db();
    if let Some(rc) = recovery {
        let hash = crate::auth::secret::hash(&rc.trim().to_lowercase());
        let used = recovery_code::Entity::update_many()
            .col_expr(
                recovery_code::Column::UsedAt,
                Expr::value(now.fixed_offset()),
            )
            .filter(recovery_code::Column::UserId.eq(u.id))
            .filter(recovery_code::Column::CodeHash.eq(hash))
            .filter(recovery_code::Column::UsedAt.is_null())
            .exec(db)
            .await
            .map_err(internal)?;
        return if used.rows_affected == 1 {
            Ok(())
        } else {
            Err(SecondFactor::Wrong(wrong()))
        };
    }
    let Some(code) = code else {
        return Err(SecondFactor::Missing(
            Problem::new(
                StatusCode::UNAUTHORIZED,
                "mfa-required",
                "Second Factor Required",
            )
            .detail("Send totp_code (or recovery_code) with the login.")
            .into_response(),
        ));
    };
    let secret = u
        .mfa_secret
        .as_deref()
        .and_then(|sealed| totp::open(&state.keys.mfa, u.id, sealed))
        .ok_or_else(|| SecondFactor::Wrong(wrong()))?;
    let step = totp::check(&secret, code.trim(), now.timestamp(), u.mfa_last_step)
        .ok_or_else(|| SecondFactor::Wrong(wrong()))?;
    // Record the step only if no concurrent login used it first.
    let claimed = user::Entity::update_many()
        .col_expr(user::Column::MfaLastStep, Expr::value(step))
        .filter(user::Column::Id.eq(u.id))
        .filter(
            user::Column::MfaLastStep
                .is_null()
                .or(user::Column::MfaLastStep.lt(step)),
        )
        .exec(db)
        .await
        .map_err(internal)?;
    if claimed.rows_affected == 1 {
        Ok(())
    } else {
        Err(SecondFactor::Wrong(wrong()))
    }
}

/// Rotates a refresh token. Reuse revokes the whole session.
pub async fn refresh(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Response {
    match sessions::rotate(&state, &body.refresh_token, Some(peer.ip().to_string())).await {
        Ok(Rotation::Rotated(rotated)) => {
            let (pair, u) = *rotated;
            let mut detail = AuditDetail::new("auth.refresh", "user", u.id);
            detail.actor_id = Some(u.id);
            detail.actor_name = Some(u.username);
            with_audit(reply(StatusCode::OK, &pair), detail)
        }
        Ok(Rotation::ReuseDetected(user_id)) => {
            tracing::warn!(%user_id, "Refresh token reused: session revoked.");
            let mut detail = AuditDetail::new("auth.refresh_reuse", "user", user_id)
                .summary(json!({ "result": "reused refresh token; session revoked" }));
            detail.actor_id = Some(user_id);
            let res = Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized")
                .detail("The refresh token was already used; the session is revoked. Log in again.")
                .into_response();
            with_audit(res, detail)
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
) -> Response {
    match sessions::family_of(&state, &body.refresh_token).await {
        Ok(Some(family)) => match sessions::revoke_family(&state, family).await {
            Ok(()) => with_audit(
                StatusCode::NO_CONTENT.into_response(),
                AuditDetail::new("auth.logout", "session", family),
            ),
            Err(e) => Problem::from(e).into_response(),
        },
        Ok(None) => Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized")
            .detail("Unknown refresh token.")
            .into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}

/// Revokes every session of the caller, or (admins) of another user.
pub async fn revoke_all(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiJson(body): ApiJson<RevokeAllRequest>,
) -> Result<Response, Problem> {
    let target = body.user_id.unwrap_or(me.user_id);
    let mfa_missing = matches!(me.credential, Credential::Session { mfa: false, .. })
        && state.settings.security().await.require_mfa_for_admins;
    if target != me.user_id && mfa_missing {
        return Err(Problem::forbidden(
            "Revoking another user's sessions needs an MFA session.",
        ));
    }
    if target != me.user_id && !me.has(Role::Admin) {
        return Err(Problem::forbidden(
            "Only admins may revoke another user's sessions.",
        ));
    }
    let revoked = sessions::revoke_user(&state, target).await?;
    Ok(with_audit(
        StatusCode::NO_CONTENT.into_response(),
        AuditDetail::new("auth.revoke_all", "user", target)
            .summary(json!({ "sessions_ended": revoked })),
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
    if !state.settings.security().await.self_registration {
        return Err(Problem::forbidden("Self-registration is turned off."));
    }
    let created: UserView = crate::users::create(
        state.db(),
        NewUser {
            username: body.username,
            password: body.password,
            role: Role::Viewer,
            email: body.email,
            display_name: None,
            timezone: None,
        },
    )
    .await?;
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
