//! The api's side of notifications through the real bus: notices with the
//! run's digest (streak, previous status, baseline, last lines, retries),
//! the history recorded from `NotificationRecorded` events, its filters,
//! paging and visibility, acknowledgement, dead letters and their resend,
//! and the notifier's status.

mod history;
mod notices;
