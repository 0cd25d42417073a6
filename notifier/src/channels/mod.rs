//! Channels, one folder each, registered by name in [`registry`].
//!
//! A channel sends one rendered [`Outgoing`] message to one recipient with
//! the channel's public settings and its opened secrets, and says whether
//! a failure is worth retrying.

use std::collections::HashMap;
use std::sync::Arc;

use opsc_proto::notify::{ChannelDoc, ChannelKind, ChannelSecrets};

pub mod email;
mod http;
pub mod slack;
pub mod teams;
pub mod webhook;

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

impl SendError {
    /// A failure another attempt may cure; `message` is redacted with `secrets`.
    pub fn transient(message: impl AsRef<str>, secrets: &ChannelSecrets) -> Self {
        Self {
            transient: true,
            message: redact(message.as_ref(), secrets),
        }
    }

    /// A failure no retry cures; `message` is redacted with `secrets`.
    pub fn permanent(message: impl AsRef<str>, secrets: &ChannelSecrets) -> Self {
        Self {
            transient: false,
            message: redact(message.as_ref(), secrets),
        }
    }
}

/// `text` with every secret value of `secrets` replaced by `[redacted]`
/// (longest first, so a secret containing another goes whole).
pub fn redact(text: &str, secrets: &ChannelSecrets) -> String {
    let mut values = secrets.values();
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    let mut out = text.to_owned();
    for v in values {
        if out.contains(v) {
            out = out.replace(v, "[redacted]");
        }
    }
    out
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
    let mut r: Registry = HashMap::new();
    r.insert(ChannelKind::Email, Arc::new(email::EmailChannel));
    r.insert(ChannelKind::Slack, Arc::new(slack::SlackChannel::default()));
    r.insert(ChannelKind::Teams, Arc::new(teams::TeamsChannel));
    r.insert(ChannelKind::Webhook, Arc::new(webhook::WebhookChannel));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_registered() {
        let r = registry();
        for kind in ChannelKind::ALL {
            assert!(r.contains_key(&kind), "{kind:?}");
        }
    }

    #[test]
    fn redaction_replaces_every_secret_longest_first() {
        let secrets = ChannelSecrets {
            token: Some("abc".into()),
            webhook_url: Some("https://h/abc/def".into()),
            ..ChannelSecrets::default()
        };
        assert_eq!(
            redact("posting to https://h/abc/def failed; token abc", &secrets),
            "posting to [redacted] failed; token [redacted]"
        );
    }
}
