//! The CloudEvents 1.0 envelope (structured JSON mode) every command and event travels in.
//!
//! Producers are strict: they publish only the typed payloads of this crate.
//! Consumers are lenient: an attribute or a payload field they do not know
//! is ignored, so a producer one version ahead never breaks an older
//! consumer. An incompatible change gets a new versioned `type` instead.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::Subjects;

/// A payload type with a fixed, versioned CloudEvents `type`.
///
/// The version is part of the type (`…v1`): an incompatible change gets a new
/// type, and consumers match on it.
pub trait EventType: Serialize + DeserializeOwned + JsonSchema {
    /// The CloudEvents `type`, e.g. `io.opsconductor.run.finished.v1`.
    const TYPE: &'static str;
    /// The schema file under `schemas/`, e.g. `events/run.finished.v1.json`.
    const SCHEMA: &'static str;
}

/// A payload that names the subject it is published on, so producers never
/// assemble subject tokens by hand.
pub trait Routed: EventType {
    /// The subject of this payload in the installation of `subjects`.
    fn subject(&self, subjects: &Subjects) -> String;
}

/// A CloudEvents 1.0 event in structured JSON mode.
///
/// Besides the required attributes it carries two extensions: `sequence`, the
/// per-run sequence number of run events (consumers order by it and drop
/// repeats), and `traceparent` (W3C Trace Context) when the producer traced.
/// Attributes this version does not know are ignored when decoding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CloudEvent<T> {
    /// Always `1.0`.
    pub specversion: String,
    /// Unique id of this event; consumers deduplicate on it.
    pub id: String,
    /// Producer: `/opsconductor/<prefix>/<role>`.
    pub source: String,
    /// Versioned event type, e.g. `io.opsconductor.run.finished.v1`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// What the event is about (a run id, a worker id …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// When it happened (RFC 3339, UTC).
    pub time: DateTime<Utc>,
    /// Always `application/json`.
    pub datacontenttype: String,
    /// The schema of `data`, as a path under the published `schemas/` folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataschema: Option<String>,
    /// Extension: per-run sequence number, starting at 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// Extension: W3C trace context of the producing span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// The payload.
    pub data: T,
}

/// An envelope whose payload is not decoded yet: read the `type`, then
/// decode `data` into the type it names.
pub type RawEvent = CloudEvent<Box<RawValue>>;

impl<T: EventType> CloudEvent<T> {
    /// Wraps `data` in a new envelope with a fresh time-ordered id.
    pub fn new(source: impl Into<String>, data: T) -> Self {
        Self {
            specversion: "1.0".to_owned(),
            id: Uuid::now_v7().to_string(),
            source: source.into(),
            event_type: T::TYPE.to_owned(),
            subject: None,
            time: Utc::now(),
            datacontenttype: "application/json".to_owned(),
            dataschema: Some(T::SCHEMA.to_owned()),
            sequence: None,
            traceparent: None,
            data,
        }
    }

    /// Sets the envelope id (a deterministic id makes a repeat of the same
    /// fact deduplicate).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Sets the CloudEvents `subject`.
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Sets the per-run sequence number.
    pub fn with_sequence(mut self, sequence: u64) -> Self {
        self.sequence = Some(sequence);
        self
    }

    /// Parses an envelope and checks that it carries this payload type.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let raw = RawEvent::decode_raw(bytes)?;
        if raw.event_type != T::TYPE {
            return Err(DecodeError::WrongType {
                expected: T::TYPE,
                found: raw.event_type,
            });
        }
        raw.map_data(|data| serde_json::from_str(data.get()).map_err(DecodeError::Data))
    }

    /// Serializes the envelope to JSON bytes.
    pub fn encode(&self) -> Vec<u8> {
        // Serializing these plain data types cannot fail: no maps with non-string keys.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// [`CloudEvent::encode`], with `traceparent` set to the given one
    /// when the envelope has none (the publisher's span, stamped at send).
    pub fn encode_traced(&self, traceparent: Option<&str>) -> Vec<u8> {
        #[derive(Serialize)]
        struct Traced<'a, T> {
            #[serde(flatten)]
            event: &'a CloudEvent<T>,
            traceparent: &'a str,
        }
        match (traceparent, &self.traceparent) {
            (Some(traceparent), None) => serde_json::to_vec(&Traced {
                event: self,
                traceparent,
            })
            .unwrap_or_default(),
            _ => self.encode(),
        }
    }
}

impl RawEvent {
    /// Parses the envelope only; `data` stays undecoded.
    pub fn decode_raw(bytes: &[u8]) -> Result<Self, DecodeError> {
        let event: Self = serde_json::from_slice(bytes).map_err(DecodeError::Json)?;
        if event.specversion != "1.0" {
            return Err(DecodeError::SpecVersion(event.specversion));
        }
        Ok(event)
    }
}

impl<T> CloudEvent<T> {
    /// The same envelope around another payload.
    pub fn map_data<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<CloudEvent<U>, E> {
        Ok(CloudEvent {
            data: f(self.data)?,
            specversion: self.specversion,
            id: self.id,
            source: self.source,
            event_type: self.event_type,
            subject: self.subject,
            time: self.time,
            datacontenttype: self.datacontenttype,
            dataschema: self.dataschema,
            sequence: self.sequence,
            traceparent: self.traceparent,
        })
    }
}

/// A message body a consumer can decode (what the consumer runtime needs).
pub trait Decode: Sized + Send + Sync + 'static {
    /// The message as this type; `Ok(None)` when it is valid but not for
    /// this consumer (skipped and acknowledged); `Err` when it is malformed
    /// (dead-lettered with the reason).
    fn decode(payload: &[u8]) -> Result<Option<Self>, String>;
}

impl<T: EventType + Send + Sync + 'static> Decode for CloudEvent<T> {
    fn decode(payload: &[u8]) -> Result<Option<Self>, String> {
        CloudEvent::<T>::decode(payload)
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

/// Why bytes on the bus are not a valid envelope of the expected type.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON, or not the shape of an envelope.
    #[error("malformed event: {0}")]
    Json(serde_json::Error),
    /// A valid envelope whose `data` does not fit its `type`.
    #[error("malformed event data: {0}")]
    Data(serde_json::Error),
    /// Not CloudEvents 1.0.
    #[error("unsupported CloudEvents specversion {0:?}")]
    SpecVersion(String),
    /// Valid envelope, other type.
    #[error("expected event type {expected}, found {found}")]
    WrongType {
        /// The type the consumer handles.
        expected: &'static str,
        /// The type the message carries.
        found: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::RunFinished;
    use crate::events::RunStatus;

    #[test]
    fn encode_traced_stamps_a_traceparent_only_where_none_is() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let ev = CloudEvent::new("/x", finished());
        let back = CloudEvent::<RunFinished>::decode(&ev.encode_traced(Some(tp))).unwrap();
        assert_eq!(back.traceparent.as_deref(), Some(tp));
        assert_eq!(back.data, ev.data);
        assert_eq!(ev.encode_traced(None), ev.encode());
        let mut own = ev;
        own.traceparent = Some("00-own".to_owned());
        let back = CloudEvent::<RunFinished>::decode(&own.encode_traced(Some(tp))).unwrap();
        assert_eq!(back.traceparent.as_deref(), Some("00-own"));
    }

    fn finished() -> RunFinished {
        RunFinished::new(Uuid::nil(), RunStatus::Succeeded, None, 12)
    }

    #[test]
    fn round_trips_and_checks_type() {
        let ev = CloudEvent::new("/opsconductor/opsc/api", finished()).with_sequence(3);
        let bytes = ev.encode();
        let back = CloudEvent::<RunFinished>::decode(&bytes).unwrap();
        assert_eq!(back, ev);
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["type"], "io.opsconductor.run.finished.v1");
        assert_eq!(v["specversion"], "1.0");
    }

    #[test]
    fn rejects_garbage_and_other_types() {
        assert!(matches!(
            CloudEvent::<RunFinished>::decode(b"{nope"),
            Err(DecodeError::Json(_))
        ));
        let mut ev = CloudEvent::new("/x", finished());
        ev.event_type = "io.opsconductor.run.started.v1".into();
        assert!(matches!(
            CloudEvent::<RunFinished>::decode(&ev.encode()),
            Err(DecodeError::WrongType { .. })
        ));
        let mut v: serde_json::Value = serde_json::from_slice(&ev.encode()).unwrap();
        v["type"] = "io.opsconductor.run.finished.v1".into();
        v["data"]["status"] = "exploded".into();
        assert!(matches!(
            CloudEvent::<RunFinished>::decode(&serde_json::to_vec(&v).unwrap()),
            Err(DecodeError::Data(_))
        ));
    }

    #[test]
    fn a_newer_producer_does_not_break_this_consumer() {
        let mut v: serde_json::Value =
            serde_json::from_slice(&CloudEvent::new("/x", finished()).encode()).unwrap();
        v["newextension"] = "from a later version".into();
        v["data"]["new_field"] = serde_json::json!({"nested": [1, 2]});
        let back = CloudEvent::<RunFinished>::decode(&serde_json::to_vec(&v).unwrap()).unwrap();
        assert_eq!(back.data, finished());
    }
}
