//! A channel's secrets: sealed by the vault at rest (bound to the
//! channel's id), sealed for the notifier in the KV document, and merged
//! on writes: a body without `secrets` keeps the stored ones, a secret
//! given a value replaces it, a secret given `null` is cleared.

use opsc_proto::notify::ChannelSecrets;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::NotifyConfigError;
use crate::core::Core;
use crate::store::notification_channel as channel;
use crate::vault;

/// Vault record kind of a channel's secrets.
const KIND: &str = "notification-channel-secrets";

/// The names a `secrets` object may hold.
pub(crate) const NAMES: [&str; 5] = [
    "password",
    "token",
    "webhook_url",
    "signing_secret",
    "headers",
];

/// The sealed columns of a row.
#[derive(Debug, Clone, Default)]
pub(crate) struct Columns {
    pub sealed: Option<Vec<u8>>,
    pub dek: Option<Vec<u8>>,
    pub kek_id: Option<String>,
}

/// Whether no secret is set.
pub(crate) fn is_empty(s: &ChannelSecrets) -> bool {
    s.password.is_none()
        && s.token.is_none()
        && s.webhook_url.is_none()
        && s.signing_secret.is_none()
        && s.headers.is_empty()
}

/// The names of the secrets set (`headers.<name>` per secret header).
pub(crate) fn names_set(s: &ChannelSecrets) -> Vec<String> {
    let mut v = Vec::new();
    for (name, set) in [
        ("password", s.password.is_some()),
        ("token", s.token.is_some()),
        ("webhook_url", s.webhook_url.is_some()),
        ("signing_secret", s.signing_secret.is_some()),
    ] {
        if set {
            v.push(name.to_owned());
        }
    }
    v.extend(s.headers.keys().map(|h| format!("headers.{h}")));
    v
}

/// Seals `s` for the row `id` (nothing when empty).
pub(crate) fn seal(
    core: &Core,
    id: Uuid,
    s: &ChannelSecrets,
) -> Result<Columns, NotifyConfigError> {
    if is_empty(s) {
        return Ok(Columns::default());
    }
    let bytes = serde_json::to_vec(s).map_err(|e| NotifyConfigError::broken(&e))?;
    let sealed = vault::seal(&core.vault, id, KIND, &bytes);
    Ok(Columns {
        sealed: Some(sealed.sealed),
        dek: Some(sealed.wrapped_dek),
        kek_id: Some(sealed.kek_id),
    })
}

/// The secrets a row holds (none when it holds none).
pub(crate) fn open(core: &Core, row: &channel::Model) -> Result<ChannelSecrets, NotifyConfigError> {
    let (Some(sealed), Some(dek), Some(kek)) =
        (&row.secrets, &row.secrets_dek, &row.secrets_kek_id)
    else {
        return Ok(ChannelSecrets::default());
    };
    let envelope = vault::Sealed {
        sealed: sealed.clone(),
        wrapped_dek: dek.clone(),
        kek_id: kek.clone(),
    };
    let bytes = vault::open(&core.vault, row.id, KIND, &envelope).map_err(|e| {
        NotifyConfigError::Broken(format!(
            "the secrets of channel {} do not open: {e}",
            row.id
        ))
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        NotifyConfigError::Broken(format!(
            "the secrets of channel {} are unreadable: {e}",
            row.id
        ))
    })
}

/// `stored` changed by `given` (see the module's rules); unknown names
/// are refused at `/secrets/<name>`.
pub(crate) fn merge(
    stored: &ChannelSecrets,
    given: Option<&Map<String, Value>>,
) -> Result<ChannelSecrets, NotifyConfigError> {
    let Some(given) = given else {
        return Ok(stored.clone());
    };
    let Value::Object(mut merged) =
        serde_json::to_value(stored).map_err(|e| NotifyConfigError::broken(&e))?
    else {
        return Err(NotifyConfigError::Broken(
            "secrets are an object".to_owned(),
        ));
    };
    let mut errors = Vec::new();
    for (name, value) in given {
        if !NAMES.contains(&name.as_str()) {
            errors.push(opsc_proto::job_check::PathError::new(
                format!("/secrets/{name}"),
                format!("unknown secret; one of {}", NAMES.join(", ")),
            ));
        } else if value.is_null() {
            merged.remove(name);
        } else {
            merged.insert(name.clone(), value.clone());
        }
    }
    super::refuse(errors)?;
    serde_json::from_value(Value::Object(merged)).map_err(|e| {
        // serde's message may quote the value: say the shape only.
        let what = if e.to_string().contains("unknown field") {
            "names a secret this channel kind does not have"
        } else {
            "each secret must be text, and `headers` an object of header names to text"
        };
        NotifyConfigError::invalid("/secrets", what)
    })
}
