//! The other documents of `<p>_notify_config`: per-user preferences, the
//! admins' defaults, template overrides and the pause switch; and the key
//! names of the notifier's buckets.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ChannelKind, NotifyTrigger, Polarity};

/// Key names in `<p>_notify_config`, `<p>_notify_state` and `<p>_notify_sent`.
pub mod keys {
    use uuid::Uuid;

    /// config: one channel.
    pub fn channel(id: Uuid) -> String {
        format!("{CHANNEL_PREFIX}{id}")
    }
    /// config: prefix of channel keys.
    pub const CHANNEL_PREFIX: &str = "channel.";

    /// config: one rule.
    pub fn rule(id: Uuid) -> String {
        format!("{RULE_PREFIX}{id}")
    }
    /// config: prefix of rule keys.
    pub const RULE_PREFIX: &str = "rule.";

    /// config: one user's preferences.
    pub fn preferences(user: Uuid) -> String {
        format!("{PREFERENCES_PREFIX}{user}")
    }
    /// config: prefix of preference keys.
    pub const PREFERENCES_PREFIX: &str = "prefs.";

    /// config: one template override.
    pub fn template(id: Uuid) -> String {
        format!("{TEMPLATE_PREFIX}{id}")
    }
    /// config: prefix of template keys.
    pub const TEMPLATE_PREFIX: &str = "template.";

    /// config: the admins' defaults for everyone.
    pub const DEFAULTS: &str = "defaults.global";

    /// config: the pause switch.
    pub const CONTROL: &str = "control.global";

    /// state: what the notifier knows of one job over time (streaks,
    /// throttles, who was alerted, open alerts awaiting acknowledgement).
    pub fn job_state(job: Uuid) -> String {
        format!("job.{job}")
    }

    /// state: messages held for one user's digest after quiet hours.
    pub fn held(user: Uuid) -> String {
        format!("{HELD_PREFIX}{user}")
    }
    /// state: prefix of held-message keys.
    pub const HELD_PREFIX: &str = "held.";

    /// state: the status a notifier replica reports (`replica.<id>`).
    pub fn replica(id: &str) -> String {
        format!("{REPLICA_PREFIX}{id}")
    }
    /// state: prefix of replica status keys.
    pub const REPLICA_PREFIX: &str = "replica.";

    /// sent: one delivery key (a delivery that succeeded or was given up;
    /// kept seven days, the bucket's age limit).
    pub fn sent(delivery_id: Uuid) -> String {
        format!("sent.{delivery_id}")
    }
}

/// How much of a channel a user wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Everything.
    #[default]
    All,
    /// Failures only (see [`Polarity`]).
    FailuresOnly,
    /// Successes only.
    SuccessesOnly,
    /// Nothing.
    None,
}

impl Level {
    /// Whether a notification about `trigger` passes this level.
    pub fn admits(self, trigger: NotifyTrigger) -> bool {
        match self {
            Self::All => true,
            Self::None => false,
            Self::FailuresOnly => trigger.polarity() == Polarity::Failure,
            Self::SuccessesOnly => trigger.polarity() == Polarity::Success,
        }
    }
}

/// What happens to messages during quiet hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuietMode {
    /// Held, then sent as one digest when quiet hours end.
    #[default]
    Digest,
    /// Dropped (recorded as dropped).
    Drop,
}

/// Quiet hours in the user's time zone. `from` > `to` spans midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct QuietHours {
    /// Start, `HH:MM`.
    pub from: String,
    /// End, `HH:MM`.
    pub to: String,
    /// Weekdays it applies on (`mon` … `sun`, of the start); empty: every day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<String>,
    /// Digest or drop.
    #[serde(default)]
    pub mode: QuietMode,
}

/// What a user subscribed to, on the channels named in `channels`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Subscriptions {
    /// Jobs by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub job_ids: Vec<Uuid>,
    /// Jobs carrying any of these tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Runs on targets in any of these groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_ids: Vec<Uuid>,
    /// Channels (email or Slack) the subscriptions deliver through.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<Uuid>,
    /// Whether the user also hears about runs they started.
    #[serde(default)]
    pub own_runs: bool,
}

/// `<p>_notify_config` `prefs.<user_id>`: one user's preferences, with the
/// contact details the notifier needs (it has no database).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PreferencesDoc {
    /// The user.
    pub user_id: Uuid,
    /// Their user name.
    pub username: String,
    /// Their email address, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Their Slack member id (`U…`), for direct messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_user: Option<String>,
    /// IANA time zone of their quiet hours (default `UTC`).
    pub time_zone: String,
    /// Level per channel id; a channel not named uses the defaults'.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub channels: BTreeMap<Uuid, Level>,
    /// Subscriptions.
    #[serde(default)]
    pub subscriptions: Subscriptions,
    /// Quiet hours; absent: the defaults'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<QuietHours>,
    /// Whether the user turned quiet hours off, overriding the defaults.
    #[serde(default)]
    pub quiet_hours_off: bool,
    /// Whether the user account is active (a disabled user gets nothing).
    pub active: bool,
    /// Revision.
    pub revision: u64,
}

/// `<p>_notify_config` `defaults.global`: what applies to every user who
/// did not choose otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct DefaultsDoc {
    /// Level per channel id (a channel not named: `all`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub channels: BTreeMap<Uuid, Level>,
    /// Quiet hours for everyone without their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<QuietHours>,
    /// Channels through which "the user who started the run" and
    /// subscriptions without channels are reached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels_for_users: Vec<Uuid>,
}

/// `<p>_notify_config` `template.<id>`: a template override for a channel
/// kind (or one channel) and a trigger (or every trigger). The most
/// specific one wins: channel and trigger, channel, kind and trigger, kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TemplateDoc {
    /// The template.
    pub id: Uuid,
    /// The kind it applies to.
    pub kind: ChannelKind,
    /// One channel only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<Uuid>,
    /// One trigger only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<NotifyTrigger>,
    /// The subject (email) or title (Slack, Teams) template.
    pub subject: String,
    /// The plain-text body template (the Slack and Teams text, the webhook's `text`).
    pub text: String,
    /// The HTML body template (email); absent: made from the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// Revision.
    pub revision: u64,
}

/// `<p>_notify_config` `control.global`: delivery paused or not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NotifyControl {
    /// Whether delivery is paused (decisions go on; sends wait).
    pub paused: bool,
    /// Who paused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_by: Option<String>,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_at: Option<DateTime<Utc>>,
}
