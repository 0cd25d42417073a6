//! Publishing commands and events with deduplication, and dead-lettering.

use async_nats::HeaderMap;
use async_nats::jetstream::{self, AckKind};
use base64::Engine as _;
use opsc_proto::events::DeadLetter;
use opsc_proto::{CloudEvent, EventType};

use super::Bus;

/// Why a publish was not acknowledged by JetStream.
#[derive(Debug, thiserror::Error)]
#[error("publishing to {subject} failed: {reason}")]
pub struct PublishError {
    /// The subject.
    pub subject: String,
    /// The client's or server's reason.
    pub reason: String,
}

impl Bus {
    /// Publishes an envelope and waits for JetStream's acknowledgement.
    ///
    /// `Nats-Msg-Id` is the envelope id, so a retried publish within the
    /// stream's duplicate window is stored once.
    pub async fn publish<T: EventType>(
        &self,
        subject: String,
        event: &CloudEvent<T>,
    ) -> Result<jetstream::publish::PublishAck, PublishError> {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", event.id.as_str());
        headers.insert("Content-Type", "application/cloudevents+json");
        let fail = |reason: String| PublishError {
            subject: subject.clone(),
            reason,
        };
        let ack = self
            .js
            .publish_with_headers(subject.clone(), headers, event.encode().into())
            .await
            .map_err(|e| fail(e.to_string()))?;
        ack.await.map_err(|e| fail(e.to_string()))
    }

    /// Stores `msg` as a dead letter with `reason`, then terminates it.
    ///
    /// The original is acknowledged only after the dead letter is stored, so
    /// a failure here leaves it for redelivery rather than losing it.
    pub async fn dead_letter(
        &self,
        origin: &str,
        msg: &jetstream::Message,
        reason: &str,
    ) -> Result<(), PublishError> {
        let deliveries = msg.info().map(|i| i.delivered).unwrap_or(1);
        self.store_dead_letter(
            origin,
            &msg.subject,
            &msg.payload,
            u64::try_from(deliveries).unwrap_or(1),
            reason,
        )
        .await?;
        msg.ack_with(AckKind::Term).await.map_err(|e| PublishError {
            subject: msg.subject.to_string(),
            reason: e.to_string(),
        })
    }

    /// Stores a message that arrived outside JetStream (core NATS request)
    /// as a dead letter with `reason`.
    pub async fn dead_letter_core(
        &self,
        origin: &str,
        subject: &str,
        payload: &[u8],
        reason: &str,
    ) -> Result<(), PublishError> {
        self.store_dead_letter(origin, subject, payload, 1, reason)
            .await
    }

    async fn store_dead_letter(
        &self,
        origin: &str,
        subject: &str,
        payload: &[u8],
        deliveries: u64,
        reason: &str,
    ) -> Result<(), PublishError> {
        let (payload, payload_encoding) = match std::str::from_utf8(payload) {
            Ok(text) => (text.to_owned(), "utf8"),
            Err(_) => (
                base64::engine::general_purpose::STANDARD.encode(payload),
                "base64",
            ),
        };
        let letter = DeadLetter {
            origin: origin.to_owned(),
            subject: subject.to_owned(),
            reason: reason.to_owned(),
            deliveries,
            payload,
            payload_encoding: payload_encoding.to_owned(),
        };
        let event = CloudEvent::new(self.source.clone(), letter).with_subject(origin);
        self.publish(self.subjects.dead_letter(origin), &event)
            .await?;
        tracing::warn!(origin, subject, reason, "Message dead-lettered.");
        Ok(())
    }
}
