//! What the notifier is asked (`<p>.cmd.notify`) and what it says of every
//! attempt (`<p>.evt.notification.<id>.<status>`).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{ChannelKind, NotifyTrigger, Recipient};
use crate::envelope::Routed;
use crate::{EventType, Subjects};

/// `<p>.cmd.notify`: a request to the notifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum NotifyCommand {
    /// Send a test message through a channel now.
    Test(TestSend),
    /// A notification step of a run.
    Step(StepSend),
    /// Send a dead-lettered notification again.
    Resend(ResendRequest),
    /// Someone acknowledged an alert: stop its escalation.
    Ack(AckRequest),
}

/// A channel test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TestSend {
    /// The notification id its result is recorded under.
    pub notification_id: Uuid,
    /// The channel.
    pub channel_id: Uuid,
    /// Recipients; empty: the channel's default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<Recipient>,
    /// Who asked (a user name).
    pub requested_by: String,
}

/// A `notify.*` step: the message, rendered by the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StepSend {
    /// The notification id (the step's delivery id, the same on every
    /// attempt of the same step on the same run).
    pub notification_id: Uuid,
    /// The run.
    pub run_id: Uuid,
    /// Its job.
    pub job_id: Uuid,
    /// The step.
    pub step_id: String,
    /// The channel, by id or name (the worker has no catalogue; the
    /// notifier resolves it and refuses a channel that does not allow steps).
    pub channel: String,
    /// The kind the step type expects (`notify.email` → `email`); a
    /// channel of another kind is refused.
    pub kind: ChannelKind,
    /// Recipients; empty: the channel's default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<Recipient>,
    /// Subject or title.
    pub subject: String,
    /// Plain text.
    pub text: String,
    /// HTML (email).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// Extra fields of a webhook payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

/// A resend of a dead-lettered notification, as the api recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResendRequest {
    /// The notification.
    pub notification_id: Uuid,
    /// A new attempt series gets a fresh delivery id.
    pub resend_id: Uuid,
    /// The channel.
    pub channel_id: Uuid,
    /// The recipient address as recorded.
    pub recipient: String,
    /// The rendered subject.
    pub subject: String,
    /// The rendered text.
    pub text: String,
    /// The rendered HTML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// Who asked.
    pub requested_by: String,
}

/// An acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AckRequest {
    /// The notification acknowledged.
    pub notification_id: Uuid,
    /// Its job, when it was about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<Uuid>,
    /// Who acknowledged (a user name).
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

impl EventType for NotifyCommand {
    const TYPE: &'static str = "io.opsconductor.cmd.notify.v1";
    const SCHEMA: &'static str = "commands/notify.v1.json";
}

impl Routed for NotifyCommand {
    fn subject(&self, subjects: &Subjects) -> String {
        subjects.notify()
    }
}

/// What became of one attempt (or of a notification that was not sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// The channel took it.
    Delivered,
    /// This attempt failed; another follows.
    Failed,
    /// Every attempt failed: in the dead-letter list.
    DeadLettered,
    /// Held for a digest (quiet hours, a throttle).
    Held,
    /// Dropped by quiet hours, a throttle, a disabled channel or a preference.
    Dropped,
    /// Acknowledged by someone.
    Acknowledged,
}

impl DeliveryStatus {
    /// The subject token and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::DeadLettered => "dead_lettered",
            Self::Held => "held",
            Self::Dropped => "dropped",
            Self::Acknowledged => "acknowledged",
        }
    }
}

/// `<p>.evt.notification.<notification_id>.<status>`: one attempt, or a
/// decision not to send. The api records them all (history, dead-letter
/// list). Never carries a channel secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NotificationRecorded {
    /// The notification (one per notice, rule or step, channel and recipient).
    pub notification_id: Uuid,
    /// What became of it.
    pub status: DeliveryStatus,
    /// Attempt number from 1 (0 for held and dropped).
    pub attempt: u32,
    /// Attempts allowed.
    pub max_attempts: u32,
    /// The notice it is about (absent for tests and steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_id: Option<String>,
    /// `rule`, `subscription`, `started_by`, `escalation`, `recovery`,
    /// `digest`, `step`, `test` or `resend`.
    pub origin: String,
    /// The rule, when one decided it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<Uuid>,
    /// The trigger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<NotifyTrigger>,
    /// The channel.
    pub channel_id: Uuid,
    /// Its kind.
    pub channel_kind: ChannelKind,
    /// The recipient (an address, a Slack channel or member, `endpoint`
    /// for Teams and webhooks); never a secret URL.
    pub recipient: String,
    /// The user it was for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    /// The job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<Uuid>,
    /// The run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<Uuid>,
    /// The rendered subject.
    pub subject: String,
    /// The rendered text (for a resend; redacted like output).
    pub text: String,
    /// The rendered HTML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// What went wrong or why it was not sent (secrets redacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When the attempt began.
    pub started_at: DateTime<Utc>,
    /// How long it took, in ms.
    pub duration_ms: u64,
    /// The id the channel gave it (a Slack `ts`, an SMTP queue id), when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    /// The notifier replica.
    pub replica: String,
}

impl EventType for NotificationRecorded {
    const TYPE: &'static str = "io.opsconductor.notification.recorded.v1";
    const SCHEMA: &'static str = "events/notification.recorded.v1.json";
}

impl Routed for NotificationRecorded {
    fn subject(&self, subjects: &Subjects) -> String {
        subjects.area_event(
            "notification",
            &self.notification_id.to_string(),
            self.status.as_str(),
        )
    }
}

/// The delivery id of `parts` (notice id, rule id, channel, recipient …):
/// the same parts always give the same id, so a redelivered notice finds
/// what it already sent.
pub fn delivery_id(parts: &[&str]) -> Uuid {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    let mut b = [0_u8; 16];
    b.copy_from_slice(&d[..16]);
    // A version-8 (custom) UUID with the RFC 4122 variant.
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    Uuid::from_bytes(b)
}
