//! Notification history: what the notifier did with every notification,
//! recorded from its `NotificationRecorded` events ([`recorder`]), read
//! back with filters and visibility ([`queries`]), acknowledged and
//! re-sent ([`actions`]), and the notifier's status ([`status`]).
//!
//! Who sees what: admins every notification; other users those about a
//! job (every signed-in user reads jobs) or addressed to themselves.
//! Notifications about no job (tests, dead letters, connection tests) are
//! the admins' and their recipient's.

pub mod actions;
pub mod entity;
pub mod queries;
pub mod recorder;
pub mod status;

use uuid::Uuid;

pub use recorder::record;

/// Why a notification request was refused.
#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    /// No such notification (or not one the caller may see).
    #[error("no such notification")]
    NotFound,
    /// The caller may not do this.
    #[error("{0}")]
    Denied(String),
    /// A field is wrong: its JSON pointer and why.
    #[error("{1}")]
    Invalid(&'static str, String),
    /// The notification is not in the dead-letter list.
    #[error("notification {0} is not dead-lettered")]
    NotDeadLettered(Uuid),
    /// The bus did not take the command.
    #[error("the bus did not take the command: {0}")]
    Unavailable(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}
