//! Notification configuration: channels (their secrets sealed by the
//! vault at rest), rules, per-user preferences, the admins' defaults,
//! template overrides and the delivery pause. PostgreSQL is their record;
//! the notifier, which has no database, reads them from the
//! `<p>_notify_config` KV bucket that [`mirror`] keeps equal to the tables.
//!
//! - [`channels`]: the channels, validated per kind, secrets write-only;
//! - [`rules`]: the rules (`RuleDoc::check` plus references) and their
//!   preview against recent notices ([`preview`]);
//! - [`preferences`]: one user's choices (own, or any for admins);
//! - [`defaults`]: the admins' defaults and the pause switch;
//! - [`templates`]: template overrides and their preview;
//! - [`test_send`]: a channel test through the notifier.
//!
//! Who may is the route's business, except for preferences (own or admin)
//! and run-based previews (runs the caller may see). Nothing here knows HTTP.

pub mod channels;
pub mod defaults;
pub mod mirror;
pub mod preferences;
pub mod preview;
pub mod rules;
mod secrets;
pub mod templates;
pub mod test_send;
mod validate;

use opsc_proto::job_check::PathError;
use tokio_util::sync::CancellationToken;

use crate::core::Core;

/// Why a notification-configuration request failed.
#[derive(Debug, thiserror::Error)]
pub enum NotifyConfigError {
    /// No such entity (its name).
    #[error("no such {0}")]
    NotFound(&'static str),
    /// The request is invalid; each problem names its field.
    #[error("the request is invalid: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<PathError>),
    /// The name is taken.
    #[error("{0}")]
    Taken(String),
    /// The row changed meanwhile.
    #[error("it was changed meanwhile; read it again and retry")]
    Changed,
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The bus is unavailable.
    #[error("{0}")]
    Unavailable(String),
    /// Stored data is unreadable.
    #[error("{0}")]
    Broken(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl NotifyConfigError {
    /// One problem at `path`.
    pub fn invalid(path: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![PathError::new(path, message)])
    }

    /// Unreadable stored data.
    pub(crate) fn broken(e: &dyn std::fmt::Display) -> Self {
        Self::Broken(e.to_string())
    }
}

/// `Err(Invalid)` unless `errors` is empty.
pub(crate) fn refuse(errors: Vec<PathError>) -> Result<(), NotifyConfigError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(NotifyConfigError::Invalid(errors))
    }
}

/// Keeps `<p>_notify_config` in step with PostgreSQL until shutdown.
pub async fn background(core: Core, shutdown: CancellationToken) {
    mirror::run(core, shutdown).await;
}
