//! Domain errors as problem+json, in one place: every domain module returns
//! its own error type, and this folder is where each becomes an HTTP
//! answer — one file per group of domains.

mod dependencies;
mod identity;
mod inventory;
mod schedules;
mod windows;

use axum::http::StatusCode;
use serde_json::json;

use super::AppState;
use super::problem::Problem;
use crate::jobs::JobError;
use crate::metrics::labels;
use crate::runs::AdmitError;
use crate::runs::lifecycle::CancelError;
use crate::runs::live::LiveError;
use crate::runs::queries::RunError;
use crate::sessions::SessionError;
use crate::users::UserError;

/// 503: a dependency (the bus) is away; nothing was done.
pub fn unavailable(detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "bus-unavailable",
        "The bus is unavailable",
    )
    .detail(detail)
}

/// A refused admission, counted as refused over HTTP.
pub fn admission(state: &AppState, e: AdmitError) -> Problem {
    if !e.is_transient() && !matches!(e, AdmitError::Broken(_)) {
        state
            .metrics
            .intents_refused
            .get_or_create(&labels(&[("origin", "http")]))
            .inc();
    }
    Problem::from(e)
}

impl From<AdmitError> for Problem {
    fn from(e: AdmitError) -> Self {
        match e {
            AdmitError::UnknownJob(_) => Problem::not_found_entity("job"),
            AdmitError::Inactive | AdmitError::KeyReused | AdmitError::InWindow(_) => {
                Problem::conflict(e.to_string())
            }
            AdmitError::Limit(detail) => Problem::new(
                StatusCode::CONFLICT,
                "concurrency-limit",
                "Concurrency Limit Reached",
            )
            .detail(detail)
            .errors(json!([{"path": "/concurrency/max",
                            "message": "the job has as many runs going as its concurrency limit allows"}])),
            AdmitError::UnknownVersion(_) | AdmitError::ClearSecret(_) => {
                Problem::invalid(e.to_string())
            }
            AdmitError::Invalid { detail, errors } => {
                Problem::invalid(detail).errors(json!(errors))
            }
            AdmitError::SecretsRequired(ref names) => {
                let errors: Vec<_> = names
                    .iter()
                    .map(|n| {
                        json!({"path": format!("/parameters/{}", crate::strict::escape(n)),
                               "message": "a secret parameter of the run: give it again"})
                    })
                    .collect();
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "secret-parameters-required",
                    "Secret Parameters Required",
                )
                .detail(e.to_string())
                .errors(json!(errors))
            }
            AdmitError::Forbidden(detail) => Problem::forbidden(detail),
            AdmitError::Unavailable(detail) => unavailable(detail),
            AdmitError::Db(e) => db(&e),
            AdmitError::Broken(cause) => Problem::internal(&cause),
        }
    }
}

impl From<RunError> for Problem {
    fn from(e: RunError) -> Self {
        match e {
            RunError::NotFound => Problem::not_found_entity("run"),
            RunError::Db(e) => db(&e),
        }
    }
}

impl From<CancelError> for Problem {
    fn from(e: CancelError) -> Self {
        match e {
            CancelError::Ended(_) => Problem::conflict(e.to_string()),
            CancelError::Unavailable(detail) => unavailable(detail),
        }
    }
}

impl From<SessionError> for Problem {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Invalid => {
                Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized")
                    .detail("The refresh token is invalid, expired or revoked.")
            }
            SessionError::Db(e) => db(&e),
        }
    }
}

impl From<UserError> for Problem {
    fn from(e: UserError) -> Self {
        match e {
            UserError::NotFound => Problem::not_found_entity("user"),
            UserError::Invalid(detail) => Problem::invalid(detail),
            UserError::Taken(_) | UserError::LastAdmin | UserError::SelfDelete => {
                Problem::conflict(e.to_string())
            }
            UserError::WrongPassword => Problem::forbidden(e.to_string()),
            UserError::Reauth(wait) => identity::too_many(e.to_string()).retry_after(wait),
            UserError::Busy => identity::busy(),
            UserError::Hash(cause) => Problem::internal(&cause),
            UserError::Db(e) => db(&e),
        }
    }
}

impl From<JobError> for Problem {
    fn from(e: JobError) -> Self {
        match e {
            JobError::NotFound(what) => Problem::not_found_entity(what),
            JobError::Taken(_) | JobError::Conflict(_) => Problem::conflict(e.to_string()),
            JobError::Forbidden(detail) => Problem::forbidden(detail),
            JobError::Invalid(ref errors) => Problem::invalid(e.to_string()).errors(json!(errors)),
            JobError::Broken(cause) => Problem::internal(&cause),
            JobError::Db(e) => db(&e),
        }
    }
}

impl From<LiveError> for Problem {
    fn from(e: LiveError) -> Self {
        match e {
            LiveError::NotFound => Problem::not_found_entity("run"),
            LiveError::Unavailable(detail) => unavailable(detail),
            LiveError::Db(e) => db(&e),
        }
    }
}

/// A database failure as a problem: PostgreSQL refusing a value itself
/// (SQLSTATE class 22: a NUL character in text, a number out of range …) is
/// the request's fault, 422; anything else is the server's, 500.
pub fn db(e: &sea_orm::DbErr) -> Problem {
    if crate::store::bad_data(e) {
        tracing::debug!(error = %e, "The database refused a value of a request.");
        return Problem::invalid(
            "a value in the request cannot be stored: text must not contain NUL characters, and numbers must fit their range",
        );
    }
    Problem::internal(e)
}
