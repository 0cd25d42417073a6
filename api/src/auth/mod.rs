//! Who is calling, and what each route lets them do.
//!
//! Every route declares an [`Access`] when it is registered (see
//! `http::routes`); the guard middleware wrapped around each route
//! (`http::guard`) authenticates the caller ([`authenticate()`]) and
//! enforces it, so a handler cannot forget.
//!
//! How one becomes a caller lives here too: logging in ([`login`]), ending
//! sessions and registering ([`account`]), and the second factor ([`mfa`],
//! on [`totp`]). None of it knows HTTP.

pub mod account;
mod authenticate;
mod cache;
pub mod jwt;
pub mod keys;
pub mod login;
pub mod mfa;
pub mod reconfirm;
pub mod secret;
pub mod throttle;
pub mod totp;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::store::user::Role;

pub use authenticate::{AuthError, authenticate, forget_user, listen_forget};
pub use cache::PrincipalCache;

/// What a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, authenticated or not (login, refresh, register).
    Public,
    /// Any authenticated caller; exempt from the "admins must enrol MFA"
    /// rule, so an admin can enrol, read itself and log out.
    SelfService,
    /// A caller whose role is at least this one.
    Role(Role),
}

impl Access {
    /// The least role allowed, if any is needed.
    pub fn min_role(self) -> Option<Role> {
        match self {
            Self::Public => None,
            Self::SelfService => Some(Role::Viewer),
            Self::Role(r) => Some(r),
        }
    }
}

/// A route's rule: the access it needs, and whether an API token may call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The least access.
    pub access: Access,
    /// Only a login session, never an API token: routes that mint
    /// credentials or change the second factor or password.
    pub session_only: bool,
    /// A WebSocket route: the token may also come as the subprotocol
    /// `opsconductor.bearer.<token>` (browsers cannot set headers there).
    pub protocol_token: bool,
}

/// How the caller authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credential {
    /// An access token of a login session.
    Session {
        /// The session (refresh-token family).
        session_id: Uuid,
        /// Whether the session passed a second factor.
        mfa: bool,
        /// When the access token expires.
        expires_at: DateTime<Utc>,
    },
    /// An API token (automation).
    ApiToken {
        /// The token's id.
        token_id: Uuid,
        /// Whether it was minted from a session that passed a second factor.
        mfa: bool,
    },
}

impl Credential {
    /// Whether it stands on a second factor (a session that passed one, or
    /// a token minted from such a session).
    pub fn has_mfa(&self) -> bool {
        match self {
            Self::Session { mfa, .. } | Self::ApiToken { mfa, .. } => *mfa,
        }
    }
}

/// The authenticated caller, put into request extensions by the guard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The user (for an API token: its owner).
    pub user_id: Uuid,
    /// The user name.
    pub username: String,
    /// The effective role (for an API token: the lesser of its role and its owner's).
    pub role: Role,
    /// How the caller authenticated.
    pub credential: Credential,
}

impl Principal {
    /// Whether this principal holds at least `role`.
    pub fn has(&self, role: Role) -> bool {
        self.role.rank() >= role.rank()
    }

    /// `user` or `api_token`, for audit records.
    pub fn kind(&self) -> &'static str {
        match self.credential {
            Credential::Session { .. } => "user",
            Credential::ApiToken { .. } => "api_token",
        }
    }
}
