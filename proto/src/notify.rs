//! Notifications: what the notifier reads, hears and says.
//!
//! - **Config** the api keeps in `<p>_notify_config` in step with
//!   PostgreSQL ([`keys`]): channels ([`ChannelDoc`], their secrets sealed
//!   for the notifier), rules ([`RuleDoc`]), per-user preferences
//!   ([`PreferencesDoc`]) and the admins' defaults ([`DefaultsDoc`]),
//!   template overrides ([`TemplateDoc`]) and the pause switch
//!   ([`NotifyControl`]).
//! - **Notices** ([`Notice`], on `<p>.evt.notice.<id>.<kind>`): the facts a
//!   notification can be about, published by the api from its recorded
//!   state (a run's final status with its job, history and baseline; a
//!   schedule's skip or misfire; a failed connection test; a dead letter),
//!   so every decision is made from the run's final, recorded state.
//! - **Commands** ([`NotifyCommand`], on `<p>.cmd.notify`): channel tests,
//!   notification steps, resends and acknowledgements.
//! - **History** ([`NotificationRecorded`], on
//!   `<p>.evt.notification.<id>.<status>`): every attempt and its outcome.
//! - **Templates** ([`template`]): minijinja, bounded, with defaults for
//!   every channel.

mod channel;
mod docs;
pub mod matching;
mod notice;
mod rule;
pub mod template;
#[cfg(test)]
mod tests;
mod wire;

pub use channel::{
    ChannelDoc, ChannelKind, ChannelSecrets, ChannelSettings, EmailSettings, EmailTls, RateLimit,
    SlackMode, SlackSettings, TeamsSettings, WebhookSettings,
};
pub use docs::{
    DefaultsDoc, Level, NotifyControl, PreferencesDoc, QuietHours, QuietMode, Subscriptions,
    TemplateDoc, keys,
};
pub use notice::{
    Baseline, DEFAULT_SLOW_MARGIN_PCT, DeadLetterNotice, FailedStepDigest, JobRef, Notice,
    NoticeKind, NotifyTrigger, Polarity, RunDigest, ScheduleLink, ScheduleNotice, TargetDigest,
    TargetNotice,
};
pub use rule::{
    Escalation, Recipient, RuleConditions, RuleDoc, RuleTarget, Throttle, ThrottleMode, TimeOfDay,
};
pub use wire::{
    AckRequest, DeliveryStatus, NotificationRecorded, NotifyCommand, ResendRequest, StepSend,
    TestSend, delivery_id,
};
