//! Logging in with a password and, once enrolled, a second factor.
//!
//! Unknown users and wrong passwords cost the same time (one Argon2
//! verification, against [`Core::dummy_hash`] when there is no user) and
//! fail alike. Failures are counted per client address and per account
//! (unknown names in memory, real users in the database, so the count
//! holds across replicas); past a few they slow the answer down, and at
//! the threshold the account locks for a while. A wrong second factor
//! counts as a failed login; a missing one does not.

use std::net::IpAddr;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait as _, DbBackend, DbErr, EntityTrait, QueryFilter, Statement,
};
use secrecy::SecretString;
use uuid::Uuid;

use super::{secret, throttle, totp};
use crate::core::Core;
use crate::password;
use crate::sessions::{self, TokenPair};
use crate::store::{recovery_code, user};

/// One login attempt, as the client sent it.
#[derive(Debug)]
pub struct Attempt {
    /// The user name as typed (trimmed and lowercased here).
    pub username: String,
    /// The password.
    pub password: SecretString,
    /// The current TOTP code, when the user enrolled MFA.
    pub totp_code: Option<String>,
    /// A single-use recovery code instead of a TOTP code.
    pub recovery_code: Option<String>,
    /// The client's address, for throttling and the session record.
    pub addr: IpAddr,
}

/// Who tried to log in, for the audit record: the name tried, and the
/// user's id when the name is a real user's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempted {
    /// The (normalised) user name tried.
    pub name: String,
    /// The user, when the name exists.
    pub user_id: Option<Uuid>,
}

impl Attempted {
    fn unknown(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            user_id: None,
        }
    }

    fn user(name: &str, id: Uuid) -> Self {
        Self {
            name: name.to_owned(),
            user_id: Some(id),
        }
    }
}

/// A successful login.
#[derive(Debug)]
pub struct LoggedIn {
    /// The new session's tokens.
    pub pair: TokenPair,
    /// Who logged in.
    pub who: Attempted,
}

/// Why a login did not succeed. Every variant but [`LoginError::Db`]
/// names who tried, for the audit record ([`LoginError::attempt`]).
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Too many recent failures from the client's address.
    #[error("too many failed logins from this address; retry in {retry_after} s")]
    AddressThrottled {
        /// Who tried.
        who: Attempted,
        /// Seconds until the address may try again.
        retry_after: u64,
    },
    /// The account (or the unknown name) is locked for a while.
    #[error("the account is locked; retry in {retry_after} s")]
    Locked {
        /// Who tried.
        who: Attempted,
        /// Seconds until the lock ends.
        retry_after: u64,
    },
    /// No such user; answered exactly like a wrong password.
    #[error("invalid user name or password")]
    UnknownUser {
        /// Who tried.
        who: Attempted,
    },
    /// The password is wrong.
    #[error("invalid user name or password")]
    WrongPassword {
        /// Who tried.
        who: Attempted,
    },
    /// The user is deactivated; answered exactly like a wrong password.
    #[error("invalid user name or password")]
    Inactive {
        /// Who tried.
        who: Attempted,
    },
    /// The user enrolled MFA and sent no second factor (not a failure).
    #[error("a second factor is required")]
    MfaRequired {
        /// Who tried.
        who: Attempted,
    },
    /// A wrong, reused or unknown second-factor code (a failure).
    #[error("the second-factor code is wrong or was already used")]
    WrongSecondFactor {
        /// Who tried.
        who: Attempted,
    },
    /// The database failed while checking the second factor; counted as
    /// a failed login all the same.
    #[error("the second factor could not be checked: {source}")]
    SecondFactorUnchecked {
        /// Who tried.
        who: Attempted,
        /// The database error.
        source: DbErr,
    },
    /// Every password-check slot stayed taken (a flood of logins).
    #[error("too many logins at once; retry in a second")]
    Busy {
        /// Who tried.
        who: Attempted,
    },
    /// The client address has as many logins in flight as allowed.
    #[error("too many logins from this address at once; retry in a second")]
    AddressBusy {
        /// Who tried.
        who: Attempted,
    },
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl LoginError {
    /// Who tried, and the reason the audit record gives; `None` when the
    /// attempt broke off on a database failure.
    pub fn attempt(&self) -> Option<(&Attempted, &'static str)> {
        match self {
            Self::AddressThrottled { who, .. } => Some((who, "address throttled")),
            Self::Locked { who, .. } => Some((who, "locked")),
            Self::UnknownUser { who } => Some((who, "unknown user")),
            Self::WrongPassword { who } => Some((who, "wrong password")),
            Self::Inactive { who } => Some((who, "inactive user")),
            Self::MfaRequired { who } => Some((who, "second factor required")),
            Self::WrongSecondFactor { who } | Self::SecondFactorUnchecked { who, .. } => {
                Some((who, "second factor wrong"))
            }
            Self::Busy { who } => Some((who, "password checks busy")),
            Self::AddressBusy { who } => Some((who, "too many logins in flight from the address")),
            Self::Db(_) => None,
        }
    }

    /// Seconds the client should wait before trying again, when throttled.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::AddressThrottled { retry_after, .. } | Self::Locked { retry_after, .. } => {
                Some(*retry_after)
            }
            Self::Busy { .. } | Self::AddressBusy { .. } => Some(1),
            _ => None,
        }
    }
}

/// Logs in: checks throttling, the password and the second factor, resets
/// the failure count and starts a session.
pub async fn login(core: &Core, attempt: Attempt) -> Result<LoggedIn, LoginError> {
    let name = attempt.username.trim().to_lowercase();
    let addr = attempt.addr;
    if let Some(wait) = core.throttle.address_blocked(addr) {
        return Err(LoginError::AddressThrottled {
            who: Attempted::unknown(&name),
            retry_after: wait,
        });
    }
    let Some(_in_flight) = core.verifier.enter(addr) else {
        return Err(LoginError::AddressBusy {
            who: Attempted::unknown(&name),
        });
    };
    let busy = |who: Attempted| move |_: password::Busy| LoginError::Busy { who };
    let found = user::Entity::find()
        .filter(user::Column::Username.eq(&name))
        .one(core.db())
        .await?;
    let pw = attempt.password;
    let Some(u) = found else {
        // Same work as for a real user: one Argon2 verification.
        core.verifier
            .verify(pw, core.dummy_hash.to_string())
            .await
            .map_err(busy(Attempted::unknown(&name)))?;
        core.throttle.address_failed(addr);
        if let Some(wait) = core.throttle.unknown_locked(&name) {
            return Err(LoginError::Locked {
                who: Attempted::unknown(&name),
                retry_after: wait,
            });
        }
        let failures = core.throttle.unknown_failed(&name);
        tokio::time::sleep(throttle::slowdown(failures)).await;
        return Err(LoginError::UnknownUser {
            who: Attempted::unknown(&name),
        });
    };
    let now = Utc::now();
    if let Some(until) = u.locked_until.filter(|t| t.to_utc() > now) {
        core.verifier
            .verify(pw, core.dummy_hash.to_string())
            .await
            .map_err(busy(Attempted::user(&name, u.id)))?;
        let wait = u64::try_from((until.to_utc() - now).num_seconds())
            .unwrap_or(1)
            .max(1);
        return Err(LoginError::Locked {
            who: Attempted::user(&name, u.id),
            retry_after: wait,
        });
    }
    let right = core
        .verifier
        .verify(pw, u.password_hash.clone())
        .await
        .map_err(busy(Attempted::user(&name, u.id)))?;
    if !right || !u.active {
        failed(core, addr, &u).await?;
        let who = Attempted::user(&u.username, u.id);
        return Err(if u.active {
            LoginError::WrongPassword { who }
        } else {
            LoginError::Inactive { who }
        });
    }
    let mut mfa = false;
    if u.mfa_enabled {
        let factor = Factor {
            code: attempt.totp_code.as_deref(),
            recovery: attempt.recovery_code.as_deref(),
            now,
        };
        match second_factor(core, &u, factor).await {
            Ok(()) => mfa = true,
            Err(SecondFactor::Missing) => {
                return Err(LoginError::MfaRequired {
                    who: Attempted::user(&name, u.id),
                });
            }
            Err(SecondFactor::Wrong) => {
                failed(core, addr, &u).await?;
                return Err(LoginError::WrongSecondFactor {
                    who: Attempted::user(&u.username, u.id),
                });
            }
            Err(SecondFactor::Db(source)) => {
                failed(core, addr, &u).await?;
                return Err(LoginError::SecondFactorUnchecked {
                    who: Attempted::user(&u.username, u.id),
                    source,
                });
            }
        }
    }
    user::Entity::update_many()
        .col_expr(user::Column::FailedLogins, Expr::value(0))
        .col_expr(
            user::Column::LockedUntil,
            Expr::value(Option::<chrono::DateTime<chrono::FixedOffset>>::None),
        )
        .filter(user::Column::Id.eq(u.id))
        .exec(core.db())
        .await?;
    let pair = sessions::issue(core, &u, Uuid::now_v7(), mfa, Some(addr.to_string())).await?;
    Ok(LoggedIn {
        pair,
        who: Attempted::user(&name, u.id),
    })
}

/// Counts a failed login atomically (concurrent guesses all count), locks
/// the account at the threshold, and slows the answer down.
async fn failed(core: &Core, addr: IpAddr, u: &user::Model) -> Result<(), DbErr> {
    core.throttle.address_failed(addr);
    let limits = core.throttle.limits();
    let db = core.db();
    let counted = db
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins",
            [u.id.into()],
        ))
        .await
        .ok()
        .flatten()
        .and_then(|row| row.try_get::<i32>("", "failed_logins").ok())
        .unwrap_or(1);
    let failures = u32::try_from(counted).unwrap_or(1);
    if failures >= limits.lockout_threshold {
        let until = Utc::now()
            + chrono::Duration::seconds(i64::try_from(limits.lockout.as_secs()).unwrap_or(900));
        user::Entity::update_many()
            .col_expr(user::Column::FailedLogins, Expr::value(0))
            .col_expr(user::Column::LockedUntil, Expr::value(until.fixed_offset()))
            .filter(user::Column::Id.eq(u.id))
            .exec(db)
            .await?;
        tracing::warn!(user_id = %u.id, "Account locked after repeated failed logins.");
    }
    tokio::time::sleep(throttle::slowdown(failures)).await;
    Ok(())
}

/// The second factor a login sent.
#[derive(Debug, Clone, Copy)]
struct Factor<'a> {
    code: Option<&'a str>,
    recovery: Option<&'a str>,
    now: chrono::DateTime<Utc>,
}

/// Why the second factor did not pass.
#[derive(Debug)]
enum SecondFactor {
    /// None was sent: ask for it (not a failure).
    Missing,
    /// A wrong, reused or unknown code (a failure).
    Wrong,
    /// The database failed while checking it (counted as a failure).
    Db(DbErr),
}

impl From<DbErr> for SecondFactor {
    fn from(e: DbErr) -> Self {
        Self::Db(e)
    }
}

/// Checks a recovery code (used once) or a TOTP code (its step claimed,
/// so no code works twice, even in concurrent logins).
async fn second_factor(core: &Core, u: &user::Model, f: Factor<'_>) -> Result<(), SecondFactor> {
    let db = core.db();
    if let Some(rc) = f.recovery {
        let hash = secret::hash(&rc.trim().to_lowercase());
        let used = recovery_code::Entity::update_many()
            .col_expr(
                recovery_code::Column::UsedAt,
                Expr::value(f.now.fixed_offset()),
            )
            .filter(recovery_code::Column::UserId.eq(u.id))
            .filter(recovery_code::Column::CodeHash.eq(hash))
            .filter(recovery_code::Column::UsedAt.is_null())
            .exec(db)
            .await?;
        return if used.rows_affected == 1 {
            Ok(())
        } else {
            Err(SecondFactor::Wrong)
        };
    }
    let Some(code) = f.code else {
        return Err(SecondFactor::Missing);
    };
    let secret = u
        .mfa_secret
        .as_deref()
        .and_then(|sealed| totp::open(&core.keys.mfa, u.id, sealed))
        .ok_or(SecondFactor::Wrong)?;
    let step = totp::check(&secret, code.trim(), f.now.timestamp(), u.mfa_last_step)
        .ok_or(SecondFactor::Wrong)?;
    // Record the step only if no concurrent login used it first.
    let claimed = user::Entity::update_many()
        .col_expr(user::Column::MfaLastStep, Expr::value(step))
        .filter(user::Column::Id.eq(u.id))
        .filter(
            user::Column::MfaLastStep
                .is_null()
                .or(user::Column::MfaLastStep.lt(step)),
        )
        .exec(db)
        .await?;
    if claimed.rows_affected == 1 {
        Ok(())
    } else {
        Err(SecondFactor::Wrong)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who() -> Attempted {
        Attempted::user("ann", Uuid::nil())
    }

    #[test]
    fn audit_reasons_and_waits_are_the_answered_ones() {
        let cases = [
            (
                LoginError::AddressThrottled {
                    who: Attempted::unknown("ann"),
                    retry_after: 7,
                },
                Some("address throttled"),
                Some(7),
            ),
            (
                LoginError::Locked {
                    who: who(),
                    retry_after: 3,
                },
                Some("locked"),
                Some(3),
            ),
            (
                LoginError::UnknownUser {
                    who: Attempted::unknown("ann"),
                },
                Some("unknown user"),
                None,
            ),
            (
                LoginError::WrongPassword { who: who() },
                Some("wrong password"),
                None,
            ),
            (
                LoginError::Inactive { who: who() },
                Some("inactive user"),
                None,
            ),
            (
                LoginError::MfaRequired { who: who() },
                Some("second factor required"),
                None,
            ),
            (
                LoginError::WrongSecondFactor { who: who() },
                Some("second factor wrong"),
                None,
            ),
            (
                LoginError::SecondFactorUnchecked {
                    who: who(),
                    source: DbErr::Custom("down".into()),
                },
                Some("second factor wrong"),
                None,
            ),
            (LoginError::Db(DbErr::Custom("down".into())), None, None),
        ];
        for (e, reason, wait) in cases {
            assert_eq!(e.attempt().map(|(_, r)| r), reason, "{e}");
            assert_eq!(e.retry_after(), wait, "{e}");
        }
    }
}
