//! `/api/v1/notifications/{channels,rules,preferences,defaults,templates,control}`:
//! the notification configuration, the HTTP side of [`crate::notify_config`].
//! Admins write; operators and admins read channels and rules (a read
//! never holds a secret); every signed-in user reads the defaults and
//! reads and writes their own preferences.

mod channels;
mod rules;
mod settings;

use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::http::json::reply;
use crate::http::problem::Problem;
use crate::http::routes::Route;
use crate::notify_config::NotifyConfigError;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    [channels::routes(), rules::routes(), settings::routes()]
        .into_iter()
        .flatten()
        .collect()
}

impl From<NotifyConfigError> for Problem {
    fn from(e: NotifyConfigError) -> Self {
        match e {
            NotifyConfigError::NotFound(what) => Problem::not_found_entity(what),
            NotifyConfigError::Invalid(ref errors) => {
                Problem::invalid(e.to_string()).errors(json!(errors))
            }
            NotifyConfigError::Taken(_) | NotifyConfigError::Changed => {
                Problem::conflict(e.to_string())
            }
            NotifyConfigError::Forbidden(detail) => Problem::forbidden(detail),
            NotifyConfigError::Unavailable(detail) => crate::http::errors::unavailable(detail),
            NotifyConfigError::Broken(cause) => Problem::internal(&cause),
            NotifyConfigError::Db(e) => crate::http::errors::db(&e),
        }
    }
}

/// A reply carrying the audit detail of `action` on `kind` `id`.
pub(super) fn audited<T: Serialize>(
    status: StatusCode,
    body: &T,
    action: &str,
    kind: &'static str,
    id: Uuid,
    summary: Value,
) -> Response {
    let mut res = reply(status, body);
    res.extensions_mut()
        .insert(AuditDetail::new(action, kind, id).summary(summary));
    res
}
