//! The second factor of a user: TOTP enrolment (a new secret, sealed at
//! rest, pending confirmation), confirmation with a first code (MFA on, ten
//! single-use recovery codes shown once), and removal with the password.

use chrono::Utc;
use schemars::JsonSchema;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, Set,
};
use secrecy::SecretString;
use serde::Serialize;
use uuid::Uuid;

use super::reconfirm::Refused;
use super::{secret, totp};
use crate::core::Core;
use crate::store::recovery_code;
use crate::users::{self, UserError};

/// Recovery codes made at confirmation.
const RECOVERY_CODES: usize = 10;

/// Why an MFA change was refused.
#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    /// Enrolling again while MFA is on.
    #[error("MFA is already enabled; disable it first")]
    AlreadyEnabled,
    /// Confirming without a pending enrolment.
    #[error("enrol first: POST /api/v1/me/mfa/enroll")]
    NotEnrolled,
    /// The confirmation code is wrong or its step was used.
    #[error("the code is wrong or was already used")]
    WrongCode,
    /// Disabling with a wrong password.
    #[error("the password is wrong")]
    WrongPassword,
    /// Too many wrong passwords lately: wait.
    #[error("too many wrong passwords; retry in {0} s")]
    Reauth(u64),
    /// Every password-check slot stayed taken.
    #[error("too many password checks at once; retry in a second")]
    Busy,
    /// The user is gone.
    #[error(transparent)]
    User(#[from] UserError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Enrolment: scan the URI (as a QR code) or type the secret, then confirm.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Enrolment {
    /// Base32 secret.
    pub secret: String,
    /// `otpauth://` URI for authenticator apps.
    pub otpauth_uri: String,
}

/// Recovery codes, shown once.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes.
    pub recovery_codes: Vec<String>,
}

/// A new secret for `user_id`, pending confirmation.
pub async fn enroll(core: &Core, user_id: Uuid) -> Result<Enrolment, MfaError> {
    let u = users::get(core, user_id).await?;
    if u.mfa_enabled {
        return Err(MfaError::AlreadyEnabled);
    }
    let secret = totp::new_secret();
    let mut row = u.clone().into_active_model();
    row.mfa_secret = Set(Some(totp::seal(&core.keys.mfa, u.id, &secret)));
    row.mfa_last_step = Set(None);
    row.update(core.db()).await?;
    Ok(Enrolment {
        secret: totp::base32(&secret),
        otpauth_uri: totp::otpauth_uri(&secret, &u.username),
    })
}

/// A valid code turns MFA on; new recovery codes replace any old ones.
pub async fn confirm(core: &Core, user_id: Uuid, code: &str) -> Result<RecoveryCodes, MfaError> {
    let u = users::get(core, user_id).await?;
    let secret = u
        .mfa_secret
        .as_deref()
        .and_then(|s| totp::open(&core.keys.mfa, u.id, s))
        .ok_or(MfaError::NotEnrolled)?;
    let step = totp::check(
        &secret,
        code.trim(),
        Utc::now().timestamp(),
        u.mfa_last_step,
    )
    .ok_or(MfaError::WrongCode)?;
    let db = core.db();
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(u.id))
        .exec(db)
        .await?;
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let code = secret::generate("")[..16].to_lowercase();
        recovery_code::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(u.id),
            code_hash: Set(secret::hash(&code)),
            used_at: Set(None),
        }
        .insert(db)
        .await?;
        codes.push(code);
    }
    let mut row = u.into_active_model();
    row.mfa_enabled = Set(true);
    row.mfa_last_step = Set(Some(step));
    row.update(db).await?;
    Ok(RecoveryCodes {
        recovery_codes: codes,
    })
}

/// Turns MFA off and drops the recovery codes, when `password` is right.
pub async fn disable(core: &Core, user_id: Uuid, password: SecretString) -> Result<(), MfaError> {
    let u = users::get(core, user_id).await?;
    super::reconfirm::password(core, &u, Some(password))
        .await
        .map_err(|r| match r {
            Refused::Wrong => MfaError::WrongPassword,
            Refused::Locked(wait) => MfaError::Reauth(wait),
            Refused::Busy => MfaError::Busy,
        })?;
    let db = core.db();
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(u.id))
        .exec(db)
        .await?;
    let mut row = u.into_active_model();
    row.mfa_enabled = Set(false);
    row.mfa_secret = Set(None);
    row.mfa_last_step = Set(None);
    row.update(db).await?;
    Ok(())
}
