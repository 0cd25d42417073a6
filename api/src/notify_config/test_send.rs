//! A channel test: `NotifyCommand::Test` on `<p>.cmd.notify` (envelope id
//! = the notification id), answered by the notifier's
//! `NotificationRecorded` events on `<p>.evt.notification.<id>.*`, which
//! the api listens to on core NATS from before it publishes.

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use opsc_proto::CloudEvent;
use opsc_proto::notify::{
    DeliveryStatus, NotificationRecorded, NotifyCommand, Recipient, TestSend,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{NotifyConfigError, channels};
use crate::core::Core;

/// How long the api waits for the notifier's answer.
pub const WAIT: Duration = Duration::from_secs(30);

/// A test request; without recipients the channel's defaults are used.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestBody {
    /// Recipients (email addresses on email channels, Slack channels or
    /// users on Slack channels).
    #[serde(default)]
    pub to: Vec<Recipient>,
}

/// The outcome of a test.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TestOutcome {
    /// The test notification.
    pub notification_id: Uuid,
    /// `delivered`, `failed`, `dead_lettered`; absent when the notifier did not answer.
    pub status: Option<DeliveryStatus>,
    /// The notifier's error (redacted by the notifier).
    pub error: Option<String>,
    /// How long the delivery took, per the notifier.
    pub duration_ms: Option<u64>,
    /// Whether the notifier answered in time (false: 202, is it running?).
    pub answered: bool,
    /// A word for a person.
    pub message: String,
}

/// Whether `r` ends the wait.
fn is_final(r: &NotificationRecorded) -> bool {
    match r.status {
        DeliveryStatus::Delivered | DeliveryStatus::DeadLettered | DeliveryStatus::Dropped => true,
        DeliveryStatus::Failed => r.attempt >= r.max_attempts,
        DeliveryStatus::Held | DeliveryStatus::Acknowledged => false,
    }
}

/// Sends a test through channel `id` and waits for the outcome.
pub async fn run(
    core: &Core,
    id: Uuid,
    by: &str,
    body: TestBody,
) -> Result<TestOutcome, NotifyConfigError> {
    let ch = channels::get(core, id).await?;
    let notification_id = Uuid::now_v7();
    let subject = core
        .bus
        .subjects
        .notification_events(&notification_id.to_string());
    let mut sub = core.bus.client.subscribe(subject).await.map_err(|e| {
        NotifyConfigError::Unavailable(format!("listening for the test's outcome: {e}"))
    })?;
    let cmd = NotifyCommand::Test(TestSend {
        notification_id,
        channel_id: ch.id,
        to: body.to,
        requested_by: by.to_owned(),
    });
    let event = CloudEvent::new(core.bus.source.clone(), cmd).with_id(notification_id.to_string());
    core.bus
        .publish(&event)
        .await
        .map_err(|e| NotifyConfigError::Unavailable(e.to_string()))?;
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut last: Option<NotificationRecorded> = None;
    while let Ok(Some(m)) = tokio::time::timeout_at(deadline, sub.next()).await {
        let Ok(ev) = CloudEvent::<NotificationRecorded>::decode(&m.payload) else {
            continue;
        };
        let done = is_final(&ev.data);
        last = Some(ev.data);
        if done {
            break;
        }
    }
    let _ = sub.unsubscribe().await;
    Ok(match last.filter(is_final) {
        Some(r) => TestOutcome {
            notification_id,
            status: Some(r.status),
            message: format!("{} after {} attempt(s)", r.status.as_str(), r.attempt),
            error: r.error,
            duration_ms: Some(r.duration_ms),
            answered: true,
        },
        None => TestOutcome {
            notification_id,
            status: None,
            error: None,
            duration_ms: Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)),
            answered: false,
            message: format!(
                "the notifier did not answer within {} seconds (is it running?); the test stays queued",
                WAIT.as_secs()
            ),
        },
    })
}
