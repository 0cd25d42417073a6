//! `notify.email`, `notify.slack`, `notify.teams`, `notify.webhook`: send a
//! message through a notification channel and wait for its result.
//!
//! The worker holds no channel secret and no channel catalogue: it renders
//! the message (secrets known to the run redacted, as in output), publishes
//! a [`NotifyCommand::Step`] on `<p>.cmd.notify`, and waits for the
//! notifier's [`NotificationRecorded`] of that notification. The notifier
//! resolves the channel and refuses one an admin did not open to steps.
//!
//! The notification id is derived from the run, the step and the target
//! (not the attempt), so a redelivered run asks for the same notification
//! and the notifier never sends it twice: the step is idempotent.
//!
//! The `send` setting (`always`, `on_success`, `on_failure`) makes the
//! step run after an earlier failure (see [`StepType::runs_after`]).

mod deliver;
mod settings;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;

use opsc_proto::notify::{ChannelKind, NotificationRecorded, NotifyCommand, StepSend, delivery_id};
use serde_json::Value;

use super::{Registry, SendWhen, StepCall, StepOutcome, StepType};
use crate::template::Quoting;
pub use settings::Settings;

/// The `with` keys the notify steps read (`notify.email`, which takes
/// them all; the other kinds refuse `to`, `html` or `data`).
#[cfg(test)]
pub const WITH_KEYS: &[&str] = &[
    "channel",
    "to",
    "subject",
    "text",
    "body",
    "html",
    "data",
    "send",
    "timeout_secs",
];

/// A notify step delivering through channels of one kind.
#[derive(Debug)]
pub struct Notify {
    kind: ChannelKind,
}

/// Registers the four notify step types.
pub fn register(r: &mut Registry) {
    for kind in ChannelKind::ALL {
        r.insert(step_type(kind), Arc::new(Notify { kind }));
    }
}

/// The step type of a channel kind (`email` → `notify.email`).
pub fn step_type(kind: ChannelKind) -> &'static str {
    match kind {
        ChannelKind::Email => "notify.email",
        ChannelKind::Slack => "notify.slack",
        ChannelKind::Teams => "notify.teams",
        ChannelKind::Webhook => "notify.webhook",
    }
}

/// The notification id of a step on a target (`None`: a run without
/// targets): the same on every attempt and redelivery.
pub fn notification_id(
    run_id: uuid::Uuid,
    step_id: &str,
    target: Option<uuid::Uuid>,
) -> uuid::Uuid {
    let target = target.map_or_else(|| "-".to_owned(), |t| t.to_string());
    delivery_id(&[&run_id.to_string(), step_id, &target, "step"])
}

/// `value` with every string redacted by `redact`.
fn redact_json(value: &Value, redact: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::String(s) => Value::String(redact(s)),
        Value::Array(a) => Value::Array(a.iter().map(|v| redact_json(v, redact)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (redact(k), redact_json(v, redact)))
                .collect(),
        ),
        other => other.clone(),
    }
}

impl Notify {
    /// The command for the call's rendered settings, redacted.
    fn command(&self, call: &StepCall<'_>, s: Settings) -> StepSend {
        let redact = |t: &str| call.output.redact(t);
        let run = call.run;
        let subject = s
            .subject
            .unwrap_or_else(|| format!("{}: step {}", run.job_name, run.step_id));
        StepSend {
            notification_id: notification_id(run.run_id, &run.step_id, call.target.map(|t| t.id)),
            run_id: run.run_id,
            job_id: run.job_id,
            step_id: run.step_id.clone(),
            channel: s.channel,
            kind: self.kind,
            to: s.to,
            // Redacted before it is cut, so no part of a secret survives the cut.
            subject: redact(&subject)
                .chars()
                .take(settings::MAX_SUBJECT_CHARS)
                .collect(),
            text: redact(&s.text),
            html: s.html.as_deref().map(redact),
            data: s.data.as_ref().map(|d| redact_json(d, &redact)),
        }
    }
}

#[async_trait::async_trait]
impl StepType for Notify {
    fn quoting(&self, key: &str) -> Quoting {
        // Values interpolated into an HTML body are escaped; the author's
        // own markup stays.
        if key == "html" {
            Quoting::Html
        } else {
            Quoting::None
        }
    }

    fn needs_target(&self) -> bool {
        false
    }

    fn idempotent(&self) -> bool {
        true
    }

    fn runs_after(&self, with: &BTreeMap<String, Value>) -> SendWhen {
        SendWhen::of(with)
    }

    async fn run(&self, call: StepCall<'_>) -> StepOutcome {
        let settings = match Settings::parse(self.kind, call.with) {
            Ok(s) => s,
            Err(e) => return StepOutcome::failed(e, None),
        };
        let Some(bus) = call.run.bus.as_ref() else {
            return StepOutcome::failed(
                "this step needs the bus (it runs only in a dispatch)",
                None,
            );
        };
        let timeout = settings.timeout;
        let command = self.command(&call, settings);
        let id = command.notification_id;
        let result =
            deliver::deliver(bus, NotifyCommand::Step(command), id, timeout, call.cancel).await;
        outcome_of(id, result, call.output).await
    }
}

/// The step's outcome and output line for what became of notification `id`.
async fn outcome_of(
    id: uuid::Uuid,
    result: Result<NotificationRecorded, String>,
    output: &crate::exec::output::OutputSink,
) -> StepOutcome {
    use opsc_proto::events::OutputStream;
    use opsc_proto::notify::DeliveryStatus;
    let (line, outcome) = match result {
        Ok(r) if r.status == DeliveryStatus::Delivered => (
            format!(
                "notification {id}: delivered via {} to {}",
                r.channel_kind.as_str(),
                r.recipient
            ),
            StepOutcome::ok(None),
        ),
        Ok(r) => {
            let why = format!(
                "notification {id}: {} via {} to {}: {}",
                r.status.as_str(),
                r.channel_kind.as_str(),
                r.recipient,
                r.error.as_deref().unwrap_or("no reason given")
            );
            (why.clone(), StepOutcome::failed(why, None))
        }
        Err(e) => {
            let why = format!("notification {id}: {e}");
            (why.clone(), StepOutcome::failed(why, None))
        }
    };
    let stream = if outcome.error.is_none() {
        OutputStream::Stdout
    } else {
        OutputStream::Stderr
    };
    output.line(stream, &line).await;
    outcome
}
