//! The rendered `with` of a notify step, read into what the notifier is
//! asked. The settings were checked when the job was saved
//! (`opsc_proto::job_check::notify`); what templates rendered to is checked
//! here.

use std::collections::BTreeMap;
use std::time::Duration;

use opsc_proto::job_check::notify::{
    DEFAULT_TIMEOUT_SECS, MAX_RECIPIENTS, MAX_TIMEOUT_SECS, recipient_problem,
};
use opsc_proto::notify::{ChannelKind, Recipient};
use serde_json::Value;

/// Longest subject, in characters (longer ones are cut).
pub(super) const MAX_SUBJECT_CHARS: usize = 500;
/// Longest text or HTML, in bytes.
const MAX_TEXT_BYTES: usize = 256 * 1024;

/// What a notify step sends.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The channel, by id or name.
    pub channel: String,
    /// Recipients (empty: the channel's default).
    pub to: Vec<Recipient>,
    /// The subject (empty: the step type makes one).
    pub subject: Option<String>,
    /// Plain text.
    pub text: String,
    /// HTML (email).
    pub html: Option<String>,
    /// Extra webhook fields.
    pub data: Option<Value>,
    /// How long to wait for the delivery result.
    pub timeout: Duration,
}

fn string(with: &BTreeMap<String, Value>, key: &str) -> Result<Option<String>, String> {
    match with.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("with.{key} must be a string")),
    }
}

/// The recipient `to` names on a channel of `kind`.
pub fn recipient(kind: ChannelKind, to: &str) -> Result<Recipient, String> {
    if let Some(p) = recipient_problem(kind, to) {
        return Err(format!("with.to: {p}"));
    }
    // A rendered template may still not be a recipient.
    if to.contains("{{") || to.contains("{%") {
        return Err(format!("with.to: '{to}' is not a recipient"));
    }
    let to = to.trim().to_owned();
    Ok(match kind {
        ChannelKind::Email => Recipient::Email { address: to },
        _ if to.starts_with('U') || to.starts_with('W') => Recipient::SlackUser { user: to },
        _ => Recipient::SlackChannel { channel: to },
    })
}

impl Settings {
    /// Reads the rendered settings of a step delivering through `kind`.
    pub fn parse(kind: ChannelKind, with: &BTreeMap<String, Value>) -> Result<Self, String> {
        let channel = string(with, "channel")?
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .ok_or("with.channel (a channel id or name) is required")?;
        let to = match with.get("to") {
            None | Some(Value::Null) => Vec::new(),
            Some(_) if matches!(kind, ChannelKind::Teams | ChannelKind::Webhook) => {
                return Err(format!(
                    "with.to: a {} channel takes no recipients",
                    kind.as_str()
                ));
            }
            Some(Value::Array(list)) if list.len() <= MAX_RECIPIENTS => list
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| "with.to must be a list of strings".to_owned())
                        .and_then(|s| recipient(kind, s))
                })
                .collect::<Result<_, _>>()?,
            Some(Value::Array(_)) => {
                return Err(format!("with.to: at most {MAX_RECIPIENTS} recipients"));
            }
            Some(_) => return Err("with.to must be a list of strings".to_owned()),
        };
        let text = match (string(with, "text")?, string(with, "body")?) {
            (Some(_), Some(_)) => return Err("give with.text or with.body, not both".to_owned()),
            (Some(t), None) | (None, Some(t)) => t,
            (None, None) => String::new(),
        };
        let html = string(with, "html")?;
        if html.is_some() && kind != ChannelKind::Email {
            return Err("with.html: only notify.email takes html".to_owned());
        }
        let data = match with.get("data") {
            None | Some(Value::Null) => None,
            Some(_) if kind != ChannelKind::Webhook => {
                return Err("with.data: only notify.webhook takes data".to_owned());
            }
            Some(v @ Value::Object(_)) => Some(v.clone()),
            Some(_) => return Err("with.data must be a JSON object".to_owned()),
        };
        if text.is_empty() && html.is_none() && data.is_none() {
            return Err("with.text (the message) is required".to_owned());
        }
        if text.len() > MAX_TEXT_BYTES || html.as_ref().is_some_and(|h| h.len() > MAX_TEXT_BYTES) {
            return Err(format!("the message is longer than {MAX_TEXT_BYTES} bytes"));
        }
        let timeout = match with.get("timeout_secs") {
            None | Some(Value::Null) => DEFAULT_TIMEOUT_SECS,
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|n| (1..=MAX_TIMEOUT_SECS).contains(n))
                .ok_or_else(|| {
                    format!("with.timeout_secs must be a whole number from 1 to {MAX_TIMEOUT_SECS}")
                })?,
        };
        let subject = string(with, "subject")?
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        Ok(Self {
            channel,
            to,
            subject,
            text,
            html,
            data,
            timeout: Duration::from_secs(timeout),
        })
    }
}
