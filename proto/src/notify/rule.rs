//! Rules: which notices go to whom, and how a job's state over time shapes
//! them (after N failures, at most K per period, escalation, recovery).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::NotifyTrigger;
use crate::events::RunStatus;

/// `<p>_notify_config` `rule.<id>`: one rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuleDoc {
    /// The rule.
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// Whether it applies.
    pub enabled: bool,
    /// What it listens for (at least one).
    pub triggers: Vec<NotifyTrigger>,
    /// Conditions; all given ones must hold.
    #[serde(default)]
    pub conditions: RuleConditions,
    /// Where it sends (at least one).
    pub send_to: Vec<RuleTarget>,
    /// Fire only once the job failed this many times in a row (run triggers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_failures: Option<u32>,
    /// At most so many notifications per period per job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<Throttle>,
    /// Who hears when failures go on or nobody acknowledges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<Escalation>,
    /// Whether everyone this rule alerted hears when the job succeeds again.
    #[serde(default = "yes")]
    pub recovery: bool,
    /// Revision.
    pub revision: u64,
}

fn yes() -> bool {
    true
}

/// Conditions of a rule. Empty lists match anything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RuleConditions {
    /// Jobs by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub job_ids: Vec<Uuid>,
    /// Jobs carrying any of these tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub job_tags: Vec<String>,
    /// Jobs owned by any of these users.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub job_owner_ids: Vec<Uuid>,
    /// Runs ending in any of these statuses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<RunStatus>,
    /// Runs that took at least this long, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_duration_ms: Option<u64>,
    /// Runs that took at most this long, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration_ms: Option<u64>,
    /// Runs (or tests) on targets in any of these groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_group_ids: Vec<Uuid>,
    /// Runs started by, or occurrences of, any of these schedules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule_ids: Vec<Uuid>,
    /// Only at these times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_of_day: Option<TimeOfDay>,
    /// `run_slow` margin above the baseline's p95, in percent (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_margin_pct: Option<u32>,
}

/// A daily time range in a zone; `from` > `to` spans midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct TimeOfDay {
    /// Start, `HH:MM`.
    pub from: String,
    /// End, `HH:MM` (exclusive).
    pub to: String,
    /// IANA zone (default `UTC`).
    #[serde(default = "utc")]
    pub zone: String,
    /// Weekdays (`mon` … `sun`); empty: every day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<String>,
}

fn utc() -> String {
    "UTC".to_owned()
}

/// A channel and who on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RuleTarget {
    /// The channel.
    pub channel_id: Uuid,
    /// Recipients on it; empty: the channel's own default (its default
    /// addresses or Slack channel; the endpoint of Teams and webhooks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<Recipient>,
}

/// One recipient.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Recipient {
    /// A user, reached by their address on the channel and filtered by their preferences.
    User {
        /// The user.
        user_id: Uuid,
    },
    /// The user who started the run.
    StartedBy,
    /// The job's owner.
    JobOwner,
    /// An email address.
    Email {
        /// The address.
        address: String,
    },
    /// A Slack channel (`#ops` or `C…`).
    SlackChannel {
        /// The channel.
        channel: String,
    },
    /// A Slack member (`U…`), as a direct message.
    SlackUser {
        /// The member id.
        user: String,
    },
}

/// How a rule holds back repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Throttle {
    /// At most this many per period per job (1 to 1000).
    pub max: u32,
    /// The period, in minutes (1 to 10,080).
    pub per_minutes: u32,
    /// What happens to the ones over the limit.
    #[serde(default)]
    pub then: ThrottleMode,
}

/// What a throttle does once the limit is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ThrottleMode {
    /// Nothing more until the job succeeds again.
    #[default]
    SilenceUntilSuccess,
    /// Repeats fold into one digest sent when the period ends.
    Digest,
}

/// Escalation: who else hears, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Escalation {
    /// After this many consecutive failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_failures: Option<u32>,
    /// When a failure notification is not acknowledged within this many minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unacked_minutes: Option<u32>,
    /// The escalation list (preferences do not filter it; quiet hours do not hold it).
    pub send_to: Vec<RuleTarget>,
}
