//! Inventory domains (credentials, targets, groups, connection tests) as problem+json.

use axum::http::StatusCode;
use serde_json::json;

use super::unavailable;
use crate::credentials::CredentialError;
use crate::http::problem::Problem;
use crate::targets::{GroupError, HostKeyError, ProbeError, TargetError};

impl From<CredentialError> for Problem {
    fn from(e: CredentialError) -> Self {
        match e {
            CredentialError::NotFound => Problem::not_found_entity("credential"),
            CredentialError::Invalid(detail) => Problem::invalid(detail),
            CredentialError::Taken(_) | CredentialError::InUse(_) => {
                Problem::conflict(e.to_string())
            }
            CredentialError::Encode(e) => Problem::internal(&e),
            CredentialError::Db(e) => super::db(&e),
        }
    }
}

impl From<TargetError> for Problem {
    fn from(e: TargetError) -> Self {
        let detail = e.to_string();
        match e {
            TargetError::NotFound => Problem::not_found_entity("target"),
            TargetError::GroupNotFound => Problem::not_found_entity("target group"),
            TargetError::Invalid(detail) => Problem::invalid(detail),
            TargetError::Fields(errors) => Problem::invalid(detail).errors(json!(errors)),
            TargetError::Rows(errors) => Problem::invalid(detail).errors(json!(errors)),
            TargetError::Taken(_) => Problem::conflict(detail),
            TargetError::Forbidden(detail) => Problem::forbidden(detail),
            TargetError::Encode(e) => Problem::internal(&e),
            TargetError::Db(e) => super::db(&e),
        }
    }
}

impl From<GroupError> for Problem {
    fn from(e: GroupError) -> Self {
        match e {
            GroupError::NotFound => Problem::not_found_entity("target group"),
            GroupError::Invalid(detail) => Problem::invalid(detail),
            GroupError::Taken(_) => Problem::conflict(e.to_string()),
            GroupError::Db(e) => super::db(&e),
        }
    }
}

impl From<ProbeError> for Problem {
    fn from(e: ProbeError) -> Self {
        match e {
            ProbeError::TargetNotFound => Problem::not_found_entity("target"),
            ProbeError::GroupNotFound => Problem::not_found_entity("target group"),
            ProbeError::NothingToTest
            | ProbeError::NoSsh
            | ProbeError::NoWinrm
            | ProbeError::CredentialGone
            | ProbeError::Unusable(_) => Problem::invalid(e.to_string()),
            ProbeError::OutOfScope(detail) => Problem::forbidden(detail),
            ProbeError::NoWorker { .. } => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "no-worker",
                "No worker can run the test",
            )
            .detail(e.to_string()),
            ProbeError::TimedOut { .. } => Problem::new(
                StatusCode::GATEWAY_TIMEOUT,
                "test-timeout",
                "The connection test did not finish",
            )
            .detail(e.to_string()),
            ProbeError::Bus(_) => unavailable(e.to_string()),
            ProbeError::Encode(_)
            | ProbeError::Undecodable(_)
            | ProbeError::OtherReply
            | ProbeError::Db(_) => Problem::internal(&e),
        }
    }
}

impl From<HostKeyError> for Problem {
    fn from(e: HostKeyError) -> Self {
        match e {
            HostKeyError::NotFound => Problem::not_found_entity("target"),
            HostKeyError::NothingPending | HostKeyError::OtherKeyPending { .. } => {
                Problem::conflict(e.to_string())
            }
            HostKeyError::Invalid(detail) => Problem::invalid(detail),
            HostKeyError::Db(e) => super::db(&e),
        }
    }
}
