//! `/api/v1/me`: one's own profile and password.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use schemars::JsonSchema;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use crate::audit::AuditDetail;
use crate::auth::{Credential, Principal};
use crate::handlers::users::{UserView, hash_new_password, valid_email, valid_timezone};
use crate::http::AppState;
use crate::http::json::{ApiJson, reply};
use crate::http::problem::Problem;
use crate::password;
use crate::store::{session, user};

/// `PUT /api/v1/me`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeUpdate {
    /// Contact address.
    #[serde(default)]
    pub email: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// IANA time zone (used for quiet hours).
    #[serde(default)]
    pub timezone: Option<String>,
    /// Required to change the password.
    #[serde(default)]
    pub current_password: Option<String>,
    /// New password; other sessions end.
    #[serde(default)]
    pub new_password: Option<String>,
}

pub(crate) async fn me_row(state: &AppState, me: &Principal) -> Result<user::Model, Problem> {
    user::Entity::find_by_id(me.user_id)
        .one(state.store.db())
        .await?
        .ok_or_else(|| Problem::not_found_entity("user"))
}

/// `GET /api/v1/me`.
pub async fn get(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
) -> Result<Response, Problem> {
    Ok(reply(
        StatusCode::OK,
        &UserView::from(me_row(&state, &me).await?),
    ))
}

/// `PUT /api/v1/me`.
pub async fn update(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiJson(up): ApiJson<MeUpdate>,
) -> Result<Response, Problem> {
    let current = me_row(&state, &me).await?;
    let mut row = current.clone().into_active_model();
    let mut changed = serde_json::Map::new();
    if let Some(e) = up.email {
        row.email = Set(valid_email(Some(e))?);
        changed.insert("email".into(), json!(row.email.clone().unwrap()));
    }
    if let Some(d) = up.display_name.filter(|d| !d.trim().is_empty()) {
        changed.insert("display_name".into(), json!(d));
        row.display_name = Set(d);
    }
    if let Some(tz) = valid_timezone(up.timezone)? {
        changed.insert("timezone".into(), json!(tz));
        row.timezone = Set(tz);
    }
    let mut password_changed = false;
    if let Some(new) = up.new_password {
        let ok = match up.current_password {
            Some(c) => {
                password::verify_blocking(SecretString::from(c), current.password_hash.clone())
                    .await
            }
            None => false,
        };
        if !ok {
            return Err(Problem::forbidden("current_password is missing or wrong"));
        }
        row.password_hash = Set(hash_new_password(new)?);
        row.password_changed_at = Set(Utc::now().fixed_offset());
        changed.insert("password".into(), json!("changed"));
        password_changed = true;
    }
    row.updated_at = Set(Utc::now().fixed_offset());
    let saved = row.update(state.store.db()).await?;
    if password_changed {
        // Other sessions end; the one that changed the password stays.
        let mut q = session::Entity::update_many()
            .col_expr(
                session::Column::RevokedAt,
                sea_orm::sea_query::Expr::value(Utc::now().fixed_offset()),
            )
            .filter(session::Column::UserId.eq(me.user_id))
            .filter(session::Column::RevokedAt.is_null());
        if let Credential::Session { session_id, .. } = me.credential {
            q = q.filter(session::Column::FamilyId.ne(session_id));
        }
        q.exec(state.store.db()).await?;
    }
    let mut res = reply(StatusCode::OK, &UserView::from(saved));
    res.extensions_mut().insert(
        AuditDetail::new("me.update", "user", me.user_id)
            .summary(serde_json::Value::Object(changed)),
    );
    Ok(res)
}
