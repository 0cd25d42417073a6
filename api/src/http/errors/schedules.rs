//! Schedules as problem+json.

use serde_json::json;

use super::unavailable;
use crate::http::problem::Problem;
use crate::schedules::ScheduleError;

impl From<ScheduleError> for Problem {
    fn from(e: ScheduleError) -> Self {
        match e {
            ScheduleError::NotFound => Problem::not_found_entity("schedule"),
            ScheduleError::Invalid(ref errors) => {
                Problem::invalid(e.to_string()).errors(json!(errors))
            }
            ScheduleError::Taken(_) | ScheduleError::Changed => Problem::conflict(e.to_string()),
            ScheduleError::Forbidden(detail) => Problem::forbidden(detail),
            ScheduleError::Unavailable(detail) => unavailable(detail),
            ScheduleError::Broken(cause) => Problem::internal(&cause),
            ScheduleError::Db(e) => super::db(&e),
        }
    }
}
