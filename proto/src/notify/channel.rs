//! Channels: where notifications go. The public settings travel in the
//! clear; the secrets (an SMTP password, a Slack bot token, a webhook URL
//! that embeds its token, a signing secret, secret header values) are
//! encrypted at rest by the api and cross the bus only sealed for the
//! notifier (context `channel:<id>`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The kinds of channel, one folder each under `notifier/src/channels/`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// SMTP, with `lettre`.
    Email,
    /// Slack: a bot token (`chat.postMessage`, Block Kit) or an incoming webhook.
    Slack,
    /// Microsoft Teams: an incoming webhook carrying an Adaptive Card.
    Teams,
    /// A JSON payload, signed with HMAC-SHA256 over timestamp and body.
    Webhook,
}

impl ChannelKind {
    /// Every kind, in documentation order.
    pub const ALL: [Self; 4] = [Self::Email, Self::Slack, Self::Teams, Self::Webhook];

    /// The wire name (`email` …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Slack => "slack",
            Self::Teams => "teams",
            Self::Webhook => "webhook",
        }
    }

    /// Whether a delivery goes to a person or address given per message
    /// (email addresses, Slack channels or users); Teams and webhook
    /// channels have one fixed endpoint.
    pub fn addressed(self) -> bool {
        matches!(self, Self::Email | Self::Slack)
    }
}

/// `<p>_notify_config` `channel.<id>`: one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChannelDoc {
    /// The channel.
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// Whether deliveries go out (a disabled channel's deliveries are dropped and recorded as such).
    pub enabled: bool,
    /// Kind and public settings.
    pub settings: ChannelSettings,
    /// [`ChannelSecrets`] as JSON, sealed for the notifier with context
    /// `channel:<id>`; absent when the channel has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_secrets: Option<String>,
    /// Deliveries per minute at most; more wait their turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// Attempts before a delivery is dead-lettered (1 to 10).
    pub max_attempts: u32,
    /// Whether `notify.*` steps of jobs may send through it (off by
    /// default: an admin opens a channel to the jobs operators run).
    #[serde(default)]
    pub allow_steps: bool,
    /// The api's row revision, increasing with every change.
    pub revision: u64,
}

impl ChannelDoc {
    /// The kind of the channel.
    pub fn kind(&self) -> ChannelKind {
        self.settings.kind()
    }

    /// The seal context of this channel's secrets.
    pub fn seal_context(id: Uuid) -> String {
        format!("channel:{id}")
    }
}

/// A delivery rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RateLimit {
    /// Deliveries per minute (1 to 10,000).
    pub per_minute: u32,
}

/// Public settings by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChannelSettings {
    /// SMTP.
    Email(EmailSettings),
    /// Slack.
    Slack(SlackSettings),
    /// Teams.
    Teams(TeamsSettings),
    /// A signed webhook.
    Webhook(WebhookSettings),
}

impl ChannelSettings {
    /// The kind.
    pub fn kind(&self) -> ChannelKind {
        match self {
            Self::Email(_) => ChannelKind::Email,
            Self::Slack(_) => ChannelKind::Slack,
            Self::Teams(_) => ChannelKind::Teams,
            Self::Webhook(_) => ChannelKind::Webhook,
        }
    }
}

/// How SMTP is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmailTls {
    /// Plain connection upgraded with STARTTLS (required: refused when the server does not offer it).
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Implicit,
    /// No TLS (only for a relay on a trusted network).
    None,
}

/// SMTP settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct EmailSettings {
    /// SMTP host.
    pub host: String,
    /// SMTP port.
    pub port: u16,
    /// Transport security.
    pub tls: EmailTls,
    /// User name for SMTP authentication (the password is a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The From address, e.g. `OpsConductor <ops@example.com>`.
    pub from: String,
    /// Addresses used when a rule names the channel without recipients.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default_to: Vec<String>,
    /// A PEM CA certificate to trust besides the system's (a private relay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
    /// Seconds per SMTP conversation (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
}

/// How a Slack channel posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlackMode {
    /// A bot token (`xoxb-…`, a secret) and `chat.postMessage` to channels or users.
    Bot,
    /// An incoming-webhook URL (a secret); posts to the webhook's channel.
    Webhook,
}

/// Slack settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SlackSettings {
    /// Bot or webhook.
    pub mode: SlackMode,
    /// Channel (`#ops` or an id) used when a rule gives none (bot mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_channel: Option<String>,
    /// Slack's Web API base URL; default `https://slack.com/api/` (set for
    /// Slack-compatible gateways and tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
}

/// Teams settings (the webhook URL is a secret).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct TeamsSettings {}

/// Webhook settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Where the payload is POSTed (`http` or `https`).
    pub url: String,
    /// Headers sent with every delivery (values in the clear; secret
    /// header values go in the secrets).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// The secrets of a channel, as JSON inside the seal. Never returned by
/// the api, logged, or put in an event.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ChannelSecrets {
    /// SMTP password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Slack bot token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Slack or Teams incoming-webhook URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// HMAC-SHA256 signing secret of a webhook channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
    /// Secret header values of a webhook channel (e.g. `Authorization`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

impl std::fmt::Debug for ChannelSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChannelSecrets(<redacted>)")
    }
}

impl ChannelSecrets {
    /// Every secret value, for redaction of error texts.
    pub fn values(&self) -> Vec<&str> {
        let mut v: Vec<&str> = [
            &self.password,
            &self.token,
            &self.webhook_url,
            &self.signing_secret,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
        v.extend(self.headers.values().map(String::as_str));
        v.retain(|s| !s.is_empty());
        v
    }
}
