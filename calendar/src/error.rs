//! Why a calendar cannot be built or would never fire.

/// Why a cron expression and time zone do not make a usable calendar.
///
/// Each variant names the request field it blames ([`CalendarError::field`]),
/// so the api can point a user at the right input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The cron expression does not parse.
    #[error("invalid cron expression: {reason}")]
    Cron {
        /// What is wrong, naming the cron field, e.g. `minute field: 61 is out of range 0-59`.
        reason: String,
    },
    /// The time zone is not an IANA zone name that this build knows.
    #[error("unknown time zone `{name}`: expected an IANA name such as `Europe/Berlin` or `UTC`")]
    TimeZone {
        /// The name as given.
        name: String,
    },
    /// The expression parses but no occurrence fires within the horizon.
    #[error("the schedule never fires: {reason}")]
    NeverFires {
        /// Over which period nothing fires, and why when it is known.
        reason: String,
    },
    /// A maintenance window's timing does not fit (see
    /// [`crate::check_timing`]).
    #[error("{reason}")]
    Window {
        /// The timing field blamed: `days`, `start_time`, `duration_mins`,
        /// `time_zone`, `start` or `end`.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl CalendarError {
    /// The request field the error is about: `"cron"` or `"time_zone"`
    /// (for a window's timing, the timing field).
    #[must_use]
    pub fn field(&self) -> &'static str {
        match self {
            Self::Cron { .. } | Self::NeverFires { .. } => "cron",
            Self::TimeZone { .. } => "time_zone",
            Self::Window { field, .. } => field,
        }
    }
}
