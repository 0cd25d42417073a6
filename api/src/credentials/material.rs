//! Credential material for a worker: the public and secret parts of a stored
//! credential joined, ready to be sealed for the target's pool.

use opsc_proto::material::CredentialMaterial;
use serde_json::Value;

use crate::store::credential;
use crate::vault::{self, Keyring};

/// Opens `row` and joins its parts, or says why it cannot be used.
pub fn material(keys: &Keyring, row: &credential::Model) -> Result<CredentialMaterial, String> {
    let secret = vault::open(keys, row.id, &row.kind, &row.envelope())
        .map_err(|e| format!("credential {:?} cannot be opened: {e}", row.name))?;
    let secret: Value = serde_json::from_slice(&secret)
        .map_err(|_| format!("credential {:?} holds no JSON document", row.name))?;
    let mut doc = row.public.as_object().cloned().unwrap_or_default();
    if let Value::Object(fields) = secret {
        doc.extend(fields);
    }
    doc.insert("type".to_owned(), Value::String(row.kind.clone()));
    serde_json::from_value(Value::Object(doc))
        .map_err(|_| format!("a {} credential cannot be used by a worker", row.kind))
}
