//! Identity domains (logins, MFA, API tokens, audit queries) as problem+json.

use axum::http::StatusCode;

use crate::audit::query::AuditError;
use crate::auth::account::{LogoutError, RegisterError, RevokeError};
use crate::auth::login::LoginError;
use crate::auth::mfa::MfaError;
use crate::http::problem::Problem;
use crate::tokens::TokenError;

/// 401 for a login that did not pass: the same answer for an unknown
/// user, a wrong password and a deactivated account.
fn invalid_credentials(detail: &str) -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "invalid-credentials",
        "Unauthorized",
    )
    .detail(detail)
}

/// 429 with `detail`.
pub fn too_many(detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too-many-attempts",
        "Too Many Requests",
    )
    .detail(detail)
}

/// 503 while every password-check slot is taken (the handler adds
/// `Retry-After: 1`).
pub fn busy() -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "password-checks-busy",
        "Service Unavailable",
    )
    .detail("Too many password checks at once; retry in a second.")
    .retry_after(1)
}

/// Logins that did not pass. A throttled one's `Retry-After` header is
/// the handler's to add ([`LoginError::retry_after`]): a problem carries
/// no headers.
impl From<LoginError> for Problem {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::AddressThrottled { .. } | LoginError::Locked { .. } => {
                too_many("Too many failed logins; try again later.")
            }
            LoginError::UnknownUser { .. }
            | LoginError::WrongPassword { .. }
            | LoginError::Inactive { .. } => invalid_credentials("Invalid user name or password."),
            LoginError::MfaRequired { .. } => Problem::new(
                StatusCode::UNAUTHORIZED,
                "mfa-required",
                "Second Factor Required",
            )
            .detail("Send totp_code (or recovery_code) with the login."),
            LoginError::WrongSecondFactor { .. } => {
                invalid_credentials("The second-factor code is wrong or was already used.")
            }
            LoginError::SecondFactorUnchecked { source, .. } => Problem::internal(&source),
            LoginError::Busy { .. } => busy(),
            LoginError::AddressBusy { .. } => {
                too_many("Too many logins from this address at once; retry in a second.")
            }
            LoginError::Db(e) => super::db(&e),
        }
    }
}

impl From<LogoutError> for Problem {
    fn from(e: LogoutError) -> Self {
        match e {
            LogoutError::UnknownToken => {
                Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized")
                    .detail("Unknown refresh token.")
            }
            LogoutError::Db(e) => super::db(&e),
        }
    }
}

impl From<RevokeError> for Problem {
    fn from(e: RevokeError) -> Self {
        match e {
            RevokeError::NeedsMfa | RevokeError::NotAdmin => Problem::forbidden(e.to_string()),
            RevokeError::Db(e) => super::db(&e),
        }
    }
}

impl From<RegisterError> for Problem {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::Closed => Problem::forbidden(e.to_string()),
            RegisterError::User(e) => Problem::from(e),
        }
    }
}

impl From<MfaError> for Problem {
    fn from(e: MfaError) -> Self {
        match e {
            MfaError::AlreadyEnabled | MfaError::NotEnrolled => Problem::conflict(e.to_string()),
            MfaError::WrongCode => Problem::invalid(e.to_string()),
            MfaError::WrongPassword => Problem::forbidden(e.to_string()),
            MfaError::Reauth(wait) => too_many(e.to_string()).retry_after(wait),
            MfaError::Busy => busy(),
            MfaError::User(e) => Problem::from(e),
            MfaError::Db(e) => super::db(&e),
        }
    }
}

impl From<TokenError> for Problem {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::InvalidName | TokenError::InvalidExpiry | TokenError::ExpiryAndNever => {
                Problem::invalid(e.to_string())
            }
            TokenError::RoleTooHigh | TokenError::NeverNeedsAdmin | TokenError::NeedsMfa => {
                Problem::forbidden(e.to_string())
            }
            TokenError::NotFound => Problem::not_found_entity("API token"),
            TokenError::Db(e) => super::db(&e),
        }
    }
}

impl From<AuditError> for Problem {
    fn from(e: AuditError) -> Self {
        match e {
            AuditError::FormatOnSearch | AuditError::UnknownFormat => {
                Problem::invalid(e.to_string())
            }
            AuditError::Encode(e) => Problem::internal(&e),
            AuditError::Db(e) => super::db(&e),
        }
    }
}
