//! Notifications: `notify.email`, `notify.slack`, `notify.teams`,
//! `notify.webhook` (further rules in [`crate::job_check::notify`]).

use serde_json::{Value, json};

use super::StepTypeSpec;
use super::shapes::{required_text, settings, text};
use crate::job_check::notify::{MAX_RECIPIENTS, MAX_TIMEOUT_SECS, SendWhen};
use crate::notify::ChannelKind;

fn schema(kind: ChannelKind) -> Value {
    let mut p: Vec<(&str, Value)> = vec![(
        "channel",
        required_text("The channel, by id or name (an admin opens it to steps)."),
    )];
    if matches!(kind, ChannelKind::Email | ChannelKind::Slack) {
        p.push((
            "to",
            json!({
                "type": "array",
                "maxItems": MAX_RECIPIENTS,
                "items": {"type": "string", "minLength": 1},
                "description": "Recipients (default: the channel's).",
            }),
        ));
    }
    p.push((
        "subject",
        text("The subject (default: one made by the step type)."),
    ));
    p.push(("text", text("The message.")));
    p.push(("body", text("The message (another name for text).")));
    if kind == ChannelKind::Email {
        p.push(("html", text("An HTML version of the message.")));
    }
    if kind == ChannelKind::Webhook {
        p.push((
            "data",
            json!({"type": "object", "description": "Extra fields of the webhook's JSON."}),
        ));
    }
    p.push((
        "send",
        json!({"type": "string", "enum": SendWhen::NAMES, "default": "always",
               "description": "When it runs given earlier steps."}),
    ));
    p.push((
        "timeout_secs",
        json!({"type": "integer", "minimum": 1, "maximum": MAX_TIMEOUT_SECS, "default": 60,
               "description": "How long to wait for the delivery result."}),
    ));
    settings(
        p,
        &["channel"],
        vec![json!({"channel": "ops", "text": "{{ job.name }} finished", "send": "on_failure"})],
    )
}

/// The notify steps.
pub fn specs() -> Vec<StepTypeSpec> {
    ChannelKind::ALL
        .into_iter()
        .map(|kind| StepTypeSpec {
            name: match kind {
                ChannelKind::Email => "notify.email",
                ChannelKind::Slack => "notify.slack",
                ChannelKind::Teams => "notify.teams",
                ChannelKind::Webhook => "notify.webhook",
            },
            family: "notify",
            description: match kind {
                ChannelKind::Email => "Sends an email through a notification channel and waits for the result.",
                ChannelKind::Slack => "Posts to Slack through a notification channel and waits for the result.",
                ChannelKind::Teams => "Posts to Microsoft Teams through a notification channel and waits for the result.",
                ChannelKind::Webhook => "Posts JSON through a webhook notification channel and waits for the result.",
            }
            .into(),
            idempotent: true,
            needs_target: false,
            with_schema: schema(kind),
        })
        .collect()
}
