//! The audit trail: every state-changing request, login, API-token use and
//! permission denial — and every run admitted from the bus — becomes a
//! record in PostgreSQL and an event on the bus.
//!
//! For the API, recording happens in one layer around every route
//! (`http::audit_layer`), so no handler can skip it; handlers add the
//! domain detail (entity, a summary of the change) as an [`AuditDetail`]
//! response extension.
//!
//! Reading the trail back — search, page, export — is [`query`].

pub mod query;

use opsc_proto::CloudEvent;
use opsc_proto::events::AuditRecorded;
use serde_json::Value;
use uuid::Uuid;

use crate::core::Core;

/// What a handler says about the request, for the record.
#[derive(Debug, Clone, Default)]
pub struct AuditDetail {
    /// Domain action, e.g. `user.create`; defaults to `METHOD /route`.
    pub action: Option<String>,
    /// The kind of entity.
    pub entity_type: Option<&'static str>,
    /// Its id.
    pub entity_id: Option<String>,
    /// The change; keys that look secret are redacted again before storing.
    pub summary: Value,
    /// Actor name when no principal exists (the name tried at login).
    pub actor_name: Option<String>,
    /// Actor id when no principal exists (a successful login).
    pub actor_id: Option<Uuid>,
}

impl AuditDetail {
    /// Detail for `action` on an entity.
    pub fn new(action: &str, entity_type: &'static str, entity_id: impl std::fmt::Display) -> Self {
        Self {
            action: Some(action.to_owned()),
            entity_type: Some(entity_type),
            entity_id: Some(entity_id.to_string()),
            ..Default::default()
        }
    }

    /// Adds the change summary.
    pub fn summary(mut self, summary: Value) -> Self {
        self.summary = summary;
        self
    }
}

/// Words that mark a summary key as secret.
const SECRET_WORDS: [&str; 6] = ["password", "secret", "token", "code", "key", "hash"];

/// Replaces the values of secret-looking keys, at any depth.
pub fn redact(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                let lower = k.to_lowercase();
                if SECRET_WORDS.iter().any(|w| lower.contains(w)) {
                    *val = Value::String("[redacted]".into());
                } else {
                    redact(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// One record to write.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Actor id.
    pub actor_id: Option<Uuid>,
    /// Actor name.
    pub actor_name: Option<String>,
    /// `user`, `api_token`, `anonymous`, `system`.
    pub actor_kind: String,
    /// Action.
    pub action: String,
    /// Entity type.
    pub entity_type: Option<String>,
    /// Entity id.
    pub entity_id: Option<String>,
    /// `success`, `failure`, `denied`.
    pub outcome: &'static str,
    /// Redacted summary.
    pub summary: Value,
    /// Client address.
    pub client_addr: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
}

impl Entry {
    /// A record of something the system did on its own (a run admitted
    /// from the bus), with no request behind it.
    pub fn system(action: &str, entity: Option<(&str, String)>, summary: Value) -> Self {
        Self {
            actor_id: None,
            actor_name: None,
            actor_kind: "system".to_owned(),
            action: action.to_owned(),
            entity_type: entity.as_ref().map(|(t, _)| (*t).to_owned()),
            entity_id: entity.map(|(_, id)| id),
            outcome: "success",
            summary,
            client_addr: None,
            request_id: None,
        }
    }
}

/// The group insert of audit records (see [`crate::store::batch`]): a busy
/// API writes the records of many requests in one statement and commit.
pub fn writer(db: sea_orm::DatabaseConnection) -> crate::store::batch::Batcher {
    crate::store::batch::Batcher::start(
        db,
        "INSERT INTO audit_log (id, at, actor_id, actor_name, actor_kind, action, entity_type, entity_id,
           outcome, summary, client_addr, request_id)
         SELECT x.id, x.at, x.actor_id, x.actor_name, x.actor_kind, x.action, x.entity_type, x.entity_id,
           x.outcome, x.summary, x.client_addr, x.request_id
         FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, at timestamptz, actor_id uuid, actor_name text,
           actor_kind text, action text, entity_type text, entity_id text, outcome text, summary jsonb,
           client_addr text, request_id text)
         RETURNING id::text AS id",
        "id",
    )
}

/// Writes the record, then publishes it as `<p>.evt.audit.<id>.recorded`.
/// The database row is the record of truth; a failed publish is logged.
pub async fn write(core: &Core, mut entry: Entry) {
    redact(&mut entry.summary);
    let id = Uuid::now_v7();
    let at = chrono::Utc::now();
    let row = serde_json::json!({
        "id": id,
        "at": at,
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "actor_kind": entry.actor_kind,
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "outcome": entry.outcome,
        "summary": entry.summary,
        "client_addr": entry.client_addr,
        "request_id": entry.request_id,
    });
    if let Err(e) = core.audit_writer.insert(row, id.to_string()).await {
        tracing::error!(error = %e, action = %entry.action, "Audit record not stored.");
        return;
    }
    let event = CloudEvent::new(
        core.bus.source.clone(),
        AuditRecorded {
            audit_id: id,
            at,
            actor_id: entry.actor_id,
            actor_name: entry.actor_name,
            actor_kind: entry.actor_kind,
            action: entry.action,
            entity_type: entry.entity_type,
            entity_id: entry.entity_id,
            outcome: entry.outcome.to_owned(),
            summary: entry.summary,
            client_addr: entry.client_addr,
            request_id: entry.request_id,
        },
    )
    .with_subject(id.to_string());
    // The record is stored: the answer does not wait for the bus (which may
    // be reconnecting) to take the event.
    let bus = core.bus.clone();
    tokio::spawn(async move {
        if let Err(e) = bus.publish(&event).await {
            tracing::warn!(error = %e, "Audit event not published; the record is stored.");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_secret_keys_at_any_depth() {
        let mut v = serde_json::json!({
            "username": "ann", "password": "hunter2hunter2",
            "nested": {"api_token": "opst_x", "list": [{"totp_code": "123456"}]},
        });
        redact(&mut v);
        let text = v.to_string();
        assert!(text.contains("ann"));
        for secret in ["hunter2hunter2", "opst_x", "123456"] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}
