//! `/api/v1/auth/console/*`: sign-in for the web console. The same login
//! and rotation as `/api/v1/auth/*`, but the refresh token never reaches
//! script: it travels only in an `HttpOnly`, `Secure`, `SameSite=Strict`
//! cookie scoped to these three paths, and the body carries the access
//! token alone (kept in the console's memory).
//!
//! Every call must carry `X-OpsConductor-Console: 1`. A cross-site page
//! cannot add that header without a CORS preflight the api refuses, so the
//! cookie cannot be ridden by another site even where `SameSite` fails.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing;
use schemars::JsonSchema;
use serde::Serialize;

use super::auth::{self as plain, LoginRequest};
use crate::auth::Access;
use crate::auth::account;
use crate::http::AppState;
use crate::http::client::ClientAddr;
use crate::http::json::{ApiJson, reply};
use crate::http::problem::Problem;
use crate::http::routes::Route;
use crate::sessions::{self, Rotation, TokenPair};

/// The cookie holding the console's refresh token.
pub const COOKIE: &str = "opsc_console_refresh";
/// The only path the cookie is sent to.
pub const COOKIE_PATH: &str = "/api/v1/auth/console";
/// The header every console sign-in call carries.
pub const MARK: &str = "x-opsconductor-console";

/// What a console sign-in or refresh answers: the access token only.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConsoleToken {
    /// Bearer token for API calls; keep it in memory.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

fn marked(headers: &HeaderMap) -> Result<(), Problem> {
    match headers.get(MARK).and_then(|v| v.to_str().ok()) {
        Some("1") => Ok(()),
        _ => Err(Problem::new(StatusCode::BAD_REQUEST, "console-header-required", "Console Header Required")
            .detail(format!(
                "Console sign-in calls must send the header `{MARK}: 1`; other clients use /api/v1/auth/login."
            ))
            .for_request(headers)),
    }
}

/// The refresh token from the request's cookie.
fn cookie_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn set_cookie(res: &mut Response, value: &str, max_age: u64) {
    let cookie = format!(
        "{COOKIE}={value}; Path={COOKIE_PATH}; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict"
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn clear_cookie(res: &mut Response) {
    set_cookie(res, "", 0);
}

/// The answer to a good login or rotation: the access token in the body,
/// the refresh token in the cookie.
fn issued(state: &AppState, pair: &TokenPair, mut res: Response) -> Response {
    let body = ConsoleToken {
        access_token: pair.access_token.clone(),
        token_type: "Bearer",
        expires_in: pair.expires_in,
    };
    let mut out = reply(res.status(), &body);
    *out.extensions_mut() = std::mem::take(res.extensions_mut());
    set_cookie(
        &mut out,
        &pair.refresh_token,
        state.config.auth.refresh_token_ttl_secs,
    );
    out
}

fn no_session(headers: &HeaderMap) -> Response {
    let mut res = Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized")
        .detail("There is no console session; sign in.")
        .for_request(headers)
        .into_response();
    clear_cookie(&mut res);
    res
}

/// Signs in to the console (password, then the second factor when
/// enrolled), like `/api/v1/auth/login`.
async fn login(
    State(state): State<AppState>,
    addr: ClientAddr,
    headers: HeaderMap,
    body: ApiJson<LoginRequest>,
) -> Response {
    if let Err(p) = marked(&headers) {
        return p.into_response();
    }
    let res = plain::login_pair(&state, addr, body).await;
    match res {
        Ok((pair, res)) => issued(&state, &pair, res),
        Err(res) => res,
    }
}

/// A new access token from the cookie's refresh token, which rotates.
async fn refresh(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    headers: HeaderMap,
) -> Response {
    if let Err(p) = marked(&headers) {
        return p.into_response();
    }
    let Some(token) = cookie_of(&headers) else {
        return no_session(&headers);
    };
    match sessions::rotate(&state, &token, Some(peer.to_string())).await {
        Ok(Rotation::Rotated(rotated)) => {
            let (pair, u) = *rotated;
            let res = plain::with_audit(
                StatusCode::OK.into_response(),
                plain::refresh_detail(u.id, u.username),
            );
            issued(&state, &pair, res)
        }
        Ok(Rotation::ReuseDetected(user_id)) => {
            tracing::warn!(%user_id, "Console refresh token reused: session revoked.");
            let mut res = plain::reuse_answer(user_id);
            clear_cookie(&mut res);
            res
        }
        Err(e) => {
            let mut res = Problem::from(e).for_request(&headers).into_response();
            if res.status() == StatusCode::UNAUTHORIZED || res.status() == StatusCode::FORBIDDEN {
                clear_cookie(&mut res);
            }
            res
        }
    }
}

/// Ends the cookie's session and clears the cookie; without a session it
/// only clears the cookie.
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(p) = marked(&headers) {
        return p.into_response();
    }
    let mut res = match cookie_of(&headers) {
        Some(token) => match account::logout(&state, &token).await {
            Ok(family) => plain::with_audit(
                StatusCode::NO_CONTENT.into_response(),
                crate::audit::AuditDetail::new("auth.logout", "session", family),
            ),
            Err(account::LogoutError::UnknownToken) => StatusCode::NO_CONTENT.into_response(),
            Err(e) => Problem::from(e).for_request(&headers).into_response(),
        },
        None => StatusCode::NO_CONTENT.into_response(),
    };
    clear_cookie(&mut res);
    res
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::POST,
            "/api/v1/auth/console/login",
            Access::Public,
            "Console sign-in: the access token in the body, the refresh token in an HttpOnly cookie (needs `X-OpsConductor-Console: 1`)",
            routing::post(login),
        )
        .body::<LoginRequest>()
        .console()
        .ok::<ConsoleToken>(200),
        Route::new(
            Method::POST,
            "/api/v1/auth/console/refresh",
            Access::Public,
            "Console: a new access token from the refresh cookie, which rotates (needs `X-OpsConductor-Console: 1`)",
            routing::post(refresh),
        )
        .console()
        .ok::<ConsoleToken>(200),
        Route::new(
            Method::POST,
            "/api/v1/auth/console/logout",
            Access::Public,
            "Console sign-out: ends the cookie's session and clears the cookie (needs `X-OpsConductor-Console: 1`)",
            routing::post(logout),
        )
        .console()
        .no_content(),
    ]
}
