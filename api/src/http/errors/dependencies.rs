//! Dependencies between jobs as problem+json.

use serde_json::json;

use super::unavailable;
use crate::dependencies::DependencyError;
use crate::http::problem::Problem;

impl From<DependencyError> for Problem {
    fn from(e: DependencyError) -> Self {
        match e {
            DependencyError::NotFound(what) => Problem::not_found_entity(what),
            DependencyError::Invalid(ref errors) => {
                Problem::invalid(e.to_string()).errors(json!(errors))
            }
            DependencyError::Taken { .. } | DependencyError::Changed => {
                Problem::conflict(e.to_string())
            }
            DependencyError::Forbidden(detail) => Problem::forbidden(detail),
            DependencyError::Unavailable(detail) => unavailable(detail),
            DependencyError::Broken(cause) => Problem::internal(&cause),
            DependencyError::Db(e) => super::db(&e),
        }
    }
}
