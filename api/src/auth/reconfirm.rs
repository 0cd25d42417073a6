//! A signed-in user giving their password again (to change it, or to turn
//! MFA off): checked under the same bound as logins, and counted, so a
//! stolen session cannot guess it; after `auth.lockout_threshold` wrong
//! answers the check is locked for `auth.lockout_secs`.

use secrecy::SecretString;

use crate::core::Core;
use crate::store::user;

/// Why the password was not confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Missing or wrong (counted).
    Wrong,
    /// Too many wrong answers lately: seconds until it may try again.
    Locked(u64),
    /// Every password-check slot stayed taken.
    Busy,
}

/// Confirms `given` as `u`'s password.
pub async fn password(
    core: &Core,
    u: &user::Model,
    given: Option<SecretString>,
) -> Result<(), Refused> {
    if let Some(wait) = core.throttle.reauth_locked(u.id) {
        return Err(Refused::Locked(wait));
    }
    let right = match given {
        Some(p) => core
            .verifier
            .verify(p, u.password_hash.clone())
            .await
            .map_err(|_| Refused::Busy)?,
        None => false,
    };
    if !right {
        core.throttle.reauth_failed(u.id);
        return Err(Refused::Wrong);
    }
    Ok(())
}
