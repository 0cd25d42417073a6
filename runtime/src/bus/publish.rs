//! Publishing commands and events, and dead-lettering.
//!
//! Every JetStream message carries `Nats-Msg-Id` (the envelope id, so a
//! retried publish inside the stream's duplicate window is stored once),
//! `Content-Type: application/cloudevents+json` and `Ce-Type` (the
//! CloudEvents type, so a consumer can route without parsing the body).
//! The subject comes from the payload ([`Routed`]): no producer assembles
//! subject tokens by hand. When tracing is on, an envelope without a
//! `traceparent` gets the one of the span that sends it.

use async_nats::HeaderMap;
use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::{self, AckKind};
use base64::Engine as _;
use opsc_proto::events::DeadLetter;
use opsc_proto::{CloudEvent, Routed};

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

/// The headers of every message OpsConductor publishes.
fn headers<T>(event: &CloudEvent<T>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("Nats-Msg-Id", event.id.as_str());
    headers.insert("Content-Type", "application/cloudevents+json");
    headers.insert("Ce-Type", event.event_type.as_str());
    headers
}

/// The envelope's bytes, with the current span's `traceparent` when
/// tracing and the envelope carries none.
fn encode<T: opsc_proto::EventType>(event: &CloudEvent<T>) -> Vec<u8> {
    match event.traceparent {
        None if crate::telemetry::enabled() => {
            event.encode_traced(crate::telemetry::current().as_deref())
        }
        _ => event.encode(),
    }
}

/// An envelope ready to send: its subject, id, type and bytes.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// The subject.
    pub subject: String,
    /// The envelope id (`Nats-Msg-Id`).
    pub id: String,
    /// The CloudEvents type.
    pub event_type: &'static str,
    /// The JSON body.
    pub body: bytes::Bytes,
}

impl Encoded {
    /// Encodes `event` for the installation of `subjects`, stamped with
    /// the current span's `traceparent` when tracing.
    pub fn of<T: Routed>(subjects: &opsc_proto::Subjects, event: &CloudEvent<T>) -> Self {
        Self {
            subject: event.data.subject(subjects),
            id: event.id.clone(),
            event_type: T::TYPE,
            body: encode(event).into(),
        }
    }
}

/// A publish sent and not yet acknowledged; await it with [`Pending::ack`].
/// Publishes on one connection are stored in the order they were sent, so
/// a producer may send several and then wait for all of them.
#[derive(Debug)]
pub struct Pending {
    subject: String,
    ack: PublishAckFuture,
}

impl Pending {
    /// Waits for JetStream's acknowledgement.
    pub async fn ack(self) -> Result<jetstream::publish::PublishAck, PublishError> {
        let subject = self.subject;
        self.ack.await.map_err(|e| PublishError {
            subject,
            reason: e.to_string(),
        })
    }
}

impl Bus {
    /// Publishes an envelope on its payload's subject and waits for
    /// JetStream's acknowledgement.
    pub async fn publish<T: Routed>(
        &self,
        event: &CloudEvent<T>,
    ) -> Result<jetstream::publish::PublishAck, PublishError> {
        self.send(event).await?.ack().await
    }

    /// Sends an envelope without waiting for the acknowledgement.
    pub async fn send<T: Routed>(&self, event: &CloudEvent<T>) -> Result<Pending, PublishError> {
        self.send_encoded(Encoded::of(&self.subjects, event)).await
    }

    /// Sends an envelope encoded before (to send it again after a failed
    /// acknowledgement).
    pub async fn send_encoded(&self, e: Encoded) -> Result<Pending, PublishError> {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", e.id.as_str());
        headers.insert("Content-Type", "application/cloudevents+json");
        headers.insert("Ce-Type", e.event_type);
        let ack = self
            .js
            .publish_with_headers(e.subject.clone(), headers, e.body)
            .await
            .map_err(|err| PublishError {
                subject: e.subject.clone(),
                reason: err.to_string(),
            })?;
        Ok(Pending {
            subject: e.subject,
            ack,
        })
    }

    /// Publishes on core NATS (not stored): cancel requests, heartbeats.
    pub async fn publish_core<T: opsc_proto::EventType>(
        &self,
        subject: String,
        event: &CloudEvent<T>,
    ) -> Result<(), PublishError> {
        self.client
            .publish_with_headers(subject.clone(), headers(event), encode(event).into())
            .await
            .map_err(|e| PublishError {
                subject,
                reason: e.to_string(),
            })
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

    /// As [`Bus::dead_letter`], keeping `payload` instead of the original.
    pub async fn dead_letter_as(
        &self,
        origin: &str,
        msg: &jetstream::Message,
        payload: &[u8],
        reason: &str,
    ) -> Result<(), PublishError> {
        let deliveries = msg.info().map(|i| i.delivered).unwrap_or(1);
        self.store_dead_letter(
            origin,
            &msg.subject,
            payload,
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
        self.publish(&event).await?;
        self.metrics
            .dead_letters
            .get_or_create(&vec![("origin".to_owned(), origin.to_owned())])
            .inc();
        tracing::warn!(origin, subject, reason, "Message dead-lettered.");
        Ok(())
    }
}
