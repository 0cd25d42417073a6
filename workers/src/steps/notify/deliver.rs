//! Asks the notifier for one notification and waits for its result.
//!
//! The worker subscribes (core NATS) to the notification's events before it
//! publishes the command, so no result is missed; a result recorded before
//! (a redelivered run whose notification the notifier already sent, and
//! will not send again) is read from the event stream.

use std::time::Duration;

use futures::StreamExt as _;
use opsc_proto::CloudEvent;
use opsc_proto::notify::{DeliveryStatus, NotificationRecorded, NotifyCommand};
use opsc_runtime::bus::Bus;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Whether `status` ends the wait.
pub fn is_final(status: DeliveryStatus) -> bool {
    matches!(
        status,
        DeliveryStatus::Delivered | DeliveryStatus::DeadLettered | DeliveryStatus::Dropped
    )
}

/// A final result of `id` already in the event stream, when any.
async fn recorded_before(bus: &Bus, id: Uuid) -> Option<NotificationRecorded> {
    let stream = bus.js.get_stream_no_info(&bus.streams.events).await.ok()?;
    for status in [DeliveryStatus::Delivered, DeliveryStatus::DeadLettered] {
        let subject = bus
            .subjects
            .area_event("notification", &id.to_string(), status.as_str());
        if let Ok(m) = stream.get_last_raw_message_by_subject(&subject).await
            && let Ok(e) = CloudEvent::<NotificationRecorded>::decode(&m.payload)
            && e.data.notification_id == id
        {
            return Some(e.data);
        }
    }
    None
}

/// Publishes `command` (notification `id`) and waits up to `timeout` for
/// its final result; `Err` says why there is none.
pub async fn deliver(
    bus: &Bus,
    command: NotifyCommand,
    id: Uuid,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<NotificationRecorded, String> {
    let mut events = bus
        .client
        .subscribe(bus.subjects.notification_events(&id.to_string()))
        .await
        .map_err(|e| format!("could not subscribe to the notification's events: {e}"))?;
    if let Some(r) = recorded_before(bus, id).await {
        return Ok(r);
    }
    // The envelope id is the notification id: a repeat within the
    // deduplication window is dropped by JetStream, and after it by the
    // notifier.
    let envelope = CloudEvent::new(bus.source.clone(), command).with_id(id.to_string());
    bus.publish(&envelope)
        .await
        .map_err(|e| format!("could not ask the notifier: {e}"))?;
    let wait = async {
        while let Some(m) = events.next().await {
            let Ok(e) = CloudEvent::<NotificationRecorded>::decode(&m.payload) else {
                continue;
            };
            if e.data.notification_id == id && is_final(e.data.status) {
                return Some(e.data);
            }
        }
        None
    };
    tokio::select! {
        r = tokio::time::timeout(timeout, wait) => match r {
            Ok(Some(r)) => Ok(r),
            Ok(None) => Err("the connection to the bus closed before the notifier answered".to_owned()),
            Err(_) => Err(format!(
                "the notifier did not confirm the delivery within {} s (is a notifier running?)",
                timeout.as_secs()
            )),
        },
        () = cancel.cancelled() => Err("interrupted before the notifier answered".to_owned()),
    }
}
