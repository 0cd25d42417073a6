//! Maintenance windows as problem+json.

use serde_json::json;

use super::unavailable;
use crate::http::problem::Problem;
use crate::windows::WindowError;

impl From<WindowError> for Problem {
    fn from(e: WindowError) -> Self {
        match e {
            WindowError::NotFound => Problem::not_found_entity("maintenance window"),
            WindowError::Invalid(ref errors) => {
                Problem::invalid(e.to_string()).errors(json!(errors))
            }
            WindowError::Taken(_) | WindowError::Changed => Problem::conflict(e.to_string()),
            WindowError::Unavailable(detail) => unavailable(detail),
            WindowError::Broken(cause) => Problem::internal(&cause),
            WindowError::Db(e) => super::db(&e),
        }
    }
}
