//! `/api/v1/users` (admins): the HTTP side of [`crate::users`].

use axum::Extension;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing;
use serde_json::json;
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::auth::Principal;
use crate::http::AppState;
use crate::http::json::{ApiJson, ApiPath, ApiQuery, reply};
use crate::http::problem::Problem;
use crate::http::routes::{ADMIN, Route};
use crate::store::paging::{Page, Paging};
use crate::users::{self, NewUser, UserUpdate, UserView};

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        Route::new(
            M::GET,
            "/api/v1/users",
            ADMIN,
            "List users",
            routing::get(list),
        )
        .query::<Paging>()
        .ok::<Page<UserView>>(200),
        Route::new(
            M::POST,
            "/api/v1/users",
            ADMIN,
            "Create a user",
            routing::post(create),
        )
        .body::<NewUser>()
        .ok::<UserView>(201),
        Route::new(
            M::GET,
            "/api/v1/users/{id}",
            ADMIN,
            "Get a user",
            routing::get(get_one),
        )
        .ok::<UserView>(200),
        Route::new(
            M::PUT,
            "/api/v1/users/{id}",
            ADMIN,
            "Change a user",
            routing::put(update),
        )
        .body::<UserUpdate>()
        .ok::<UserView>(200),
        Route::new(
            M::DELETE,
            "/api/v1/users/{id}",
            ADMIN,
            "Delete a user",
            routing::delete(remove),
        )
        .no_content(),
    ]
}

/// `GET /api/v1/users`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<Paging>,
) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &users::list(&state, p).await?))
}

/// `POST /api/v1/users`.
pub async fn create(
    State(state): State<AppState>,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<Response, Problem> {
    let role = new.role;
    let created = users::create(state.db(), new).await?;
    let mut res = reply(StatusCode::CREATED, &created);
    res.extensions_mut()
        .insert(AuditDetail::new("user.create", "user", created.id).summary(
            json!({ "username": created.username, "role": role, "email": created.email }),
        ));
    Ok(res)
}

/// `GET /api/v1/users/{id}`.
pub async fn get_one(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    Ok(reply(
        StatusCode::OK,
        &UserView::from(users::get(&state, id).await?),
    ))
}

/// `PUT /api/v1/users/{id}`.
pub async fn update(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(up): ApiJson<UserUpdate>,
) -> Result<Response, Problem> {
    let changed = users::update(&state, id, up).await?;
    let mut res = reply(StatusCode::OK, &changed.user);
    res.extensions_mut()
        .insert(AuditDetail::new("user.update", "user", id).summary(changed.summary));
    Ok(res)
}

/// `DELETE /api/v1/users/{id}`.
pub async fn remove(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let gone = users::delete(&state, me.user_id, id).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut().insert(
        AuditDetail::new("user.delete", "user", id).summary(json!({ "username": gone.username })),
    );
    Ok(res)
}
