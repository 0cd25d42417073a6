//! `/api/v1/me`: one's own profile and password.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::audit::AuditDetail;
use crate::auth::{Credential, Principal};
use crate::http::AppState;
use crate::http::json::{ApiJson, reply};
use crate::http::problem::Problem;
use crate::http::routes::{Route, SELF};
use crate::users::{MeUpdate, UserView};
use axum::http::Method;
use axum::routing;

/// `GET /api/v1/me`.
pub async fn get(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
) -> Result<Response, Problem> {
    Ok(reply(
        StatusCode::OK,
        &UserView::from(crate::users::get(&state, me.user_id).await?),
    ))
}

/// `PUT /api/v1/me`.
pub async fn update(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiJson(up): ApiJson<MeUpdate>,
) -> Result<Response, Problem> {
    let keep = match me.credential {
        Credential::Session { session_id, .. } => Some(session_id),
        Credential::ApiToken { .. } => None,
    };
    let changed = crate::users::update_me(&state, me.user_id, keep, up).await?;
    let mut res = reply(StatusCode::OK, &changed.user);
    res.extensions_mut()
        .insert(AuditDetail::new("me.update", "user", me.user_id).summary(changed.summary));
    Ok(res)
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/me",
            SELF,
            "Your profile",
            routing::get(get),
        )
        .ok::<crate::users::UserView>(200),
        Route::new(
            Method::PUT,
            "/api/v1/me",
            SELF,
            "Change your profile or password",
            routing::put(update),
        )
        .body::<MeUpdate>()
        .session_only()
        .ok::<crate::users::UserView>(200),
    ]
}
