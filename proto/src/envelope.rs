//! The CloudEvents 1.0 envelope (structured JSON mode) every command and event travels in.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use uuid::Uuid;

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

/// A CloudEvents 1.0 event in structured JSON mode.
///
/// Besides the required attributes it carries two extensions: `sequence`, the
/// per-run sequence number of run events (consumers order by it and drop
/// repeats), and `traceparent` (W3C Trace Context) when the producer traced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
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
        let event: Self = serde_json::from_slice(bytes).map_err(DecodeError::Json)?;
        if event.specversion != "1.0" {
            return Err(DecodeError::SpecVersion(event.specversion));
        }
        if event.event_type != T::TYPE {
            return Err(DecodeError::WrongType {
                expected: T::TYPE,
                found: event.event_type,
            });
        }
        Ok(event)
    }

    /// Serializes the envelope to JSON bytes.
    pub fn encode(&self) -> Vec<u8> {
        // Serializing these plain data types cannot fail: no maps with non-string keys.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Why bytes on the bus are not a valid envelope of the expected type.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON, or not the shape of the type.
    #[error("malformed event: {0}")]
    Json(serde_json::Error),
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

    fn finished() -> RunFinished {
        RunFinished {
            run_id: Uuid::nil(),
            status: RunStatus::Succeeded,
            reason: None,
            duration_ms: 12,
        }
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
    }
}
