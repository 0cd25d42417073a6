//! Channels, one folder each, registered by name in [`registry`].
//!
//! A channel sends one rendered [`Outgoing`] message to one recipient with
//! the channel's public settings and its opened secrets, and says whether
//! a failure is worth retrying.

use std::collections::HashMap;
use std::sync::Arc;

use opsc_proto::notify::{ChannelDoc, ChannelKind, ChannelSecrets};

/// One message for one recipient, rendered.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The notification id (also the webhook's delivery header and the
    /// email's Message-ID local part), the same on every attempt.
    pub notification_id: uuid::Uuid,
    /// Where it goes: an email address, a Slack channel or member id; `None`
    /// for Teams and webhooks (their endpoint) or the channel's default.
    pub to: Option<String>,
    /// Subject or title.
    pub subject: String,
    /// Plain text.
    pub text: String,
    /// HTML (email).
    pub html: Option<String>,
    /// The structured facts (a webhook's payload `data`; the Slack blocks'
    /// and Teams card's facts): the template context.
    pub data: serde_json::Value,
    /// `failure`, `success` or `neutral`, for colours and icons.
    pub tone: &'static str,
    /// A link to the console page, when known.
    pub link: Option<String>,
}

/// What a channel reports of a message it took.
#[derive(Debug, Clone, Default)]
pub struct Sent {
    /// The provider's id (a Slack `ts`, the SMTP server's answer).
    pub provider_id: Option<String>,
}

/// Why a send failed. The text never holds a secret (channels redact with
/// [`ChannelSecrets::values`] before returning).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// Whether another attempt may succeed (a timeout, a 5xx, a 429, a
    /// refused connection) or not (a 4xx, a bad address, a missing secret).
    pub transient: bool,
    /// What went wrong, for people.
    pub message: String,
}

/// A channel kind.
#[async_trait::async_trait]
pub trait Channel: Send + Sync {
    /// Sends `msg` through the channel `doc`, with its opened `secrets`.
    async fn send(
        &self,
        doc: &ChannelDoc,
        secrets: &ChannelSecrets,
        msg: &Outgoing,
    ) -> Result<Sent, SendError>;
}

/// Channels by kind.
pub type Registry = HashMap<ChannelKind, Arc<dyn Channel>>;

/// Every channel kind this notifier delivers through.
pub fn registry() -> Registry {
    // Filled in as the channel folders land (email, slack, teams, webhook).
    HashMap::new()
}
