//! The configuration the api keeps in `<p>_notify_config`, followed into
//! one snapshot: channels (their secrets opened with the notifier's seal
//! key), rules, preferences, defaults, templates and the pause switch. A
//! document that does not parse is logged and left out, never a crash.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use opsc_proto::notify::{
    ChannelDoc, ChannelSecrets, DefaultsDoc, NotifyControl, PreferencesDoc, RuleDoc, TemplateDoc,
    keys,
};
use opsc_runtime::keys::SealKey;
use uuid::Uuid;

use crate::follow::Seen;

/// A channel with its secrets opened, or why they could not be.
#[derive(Debug, Clone)]
pub struct Chan {
    /// The document.
    pub doc: ChannelDoc,
    /// The opened secrets, or why the seal did not open.
    pub secrets: Result<ChannelSecrets, String>,
}

/// Everything the notifier knows of its configuration.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Channels by id.
    pub channels: HashMap<Uuid, Chan>,
    /// Rules by id.
    pub rules: HashMap<Uuid, RuleDoc>,
    /// Preferences by user.
    pub prefs: HashMap<Uuid, PreferencesDoc>,
    /// The admins' defaults.
    pub defaults: DefaultsDoc,
    /// Template overrides by id.
    pub templates: HashMap<Uuid, TemplateDoc>,
    /// The pause switch.
    pub control: NotifyControl,
    /// Whether the initial load is complete.
    pub loaded: bool,
}

/// The snapshot, shared.
pub type Shared = Arc<RwLock<Snapshot>>;

impl Snapshot {
    /// A channel by id or by name.
    pub fn channel_by(&self, id_or_name: &str) -> Option<&Chan> {
        if let Ok(id) = id_or_name.parse::<Uuid>()
            && let Some(c) = self.channels.get(&id)
        {
            return Some(c);
        }
        self.channels.values().find(|c| c.doc.name == id_or_name)
    }

    /// Applies one thing seen in the bucket.
    pub fn apply(&mut self, seal: &SealKey, seen: Seen) {
        match seen {
            Seen::Loaded => self.loaded = true,
            Seen::Reopened => {}
            Seen::Gone { key } => self.remove(&key),
            Seen::Put { key, value, .. } => {
                if let Err(e) = self.put(seal, &key, &value) {
                    tracing::warn!(key = %key, error = %e, "A notification config document could not be used; ignored.");
                    self.remove(&key);
                }
            }
        }
    }

    fn remove(&mut self, key: &str) {
        let id = |p: &str| key.strip_prefix(p).and_then(|s| s.parse::<Uuid>().ok());
        if let Some(id) = id(keys::CHANNEL_PREFIX) {
            self.channels.remove(&id);
        } else if let Some(id) = id(keys::RULE_PREFIX) {
            self.rules.remove(&id);
        } else if let Some(id) = id(keys::PREFERENCES_PREFIX) {
            self.prefs.remove(&id);
        } else if let Some(id) = id(keys::TEMPLATE_PREFIX) {
            self.templates.remove(&id);
        } else if key == keys::DEFAULTS {
            self.defaults = DefaultsDoc::default();
        } else if key == keys::CONTROL {
            self.control = NotifyControl::default();
        }
    }

    fn put(&mut self, seal: &SealKey, key: &str, value: &[u8]) -> Result<(), String> {
        let err = |e: serde_json::Error| e.to_string();
        if key.starts_with(keys::CHANNEL_PREFIX) {
            let doc: ChannelDoc = serde_json::from_slice(value).map_err(err)?;
            let secrets = open_secrets(seal, &doc);
            if let Err(e) = &secrets {
                tracing::warn!(channel_id = %doc.id, error = %e, "A channel's secrets do not open; its deliveries will fail.");
            }
            self.channels.insert(doc.id, Chan { doc, secrets });
        } else if key.starts_with(keys::RULE_PREFIX) {
            let doc: RuleDoc = serde_json::from_slice(value).map_err(err)?;
            self.rules.insert(doc.id, doc);
        } else if key.starts_with(keys::PREFERENCES_PREFIX) {
            let doc: PreferencesDoc = serde_json::from_slice(value).map_err(err)?;
            self.prefs.insert(doc.user_id, doc);
        } else if key.starts_with(keys::TEMPLATE_PREFIX) {
            let doc: TemplateDoc = serde_json::from_slice(value).map_err(err)?;
            self.templates.insert(doc.id, doc);
        } else if key == keys::DEFAULTS {
            self.defaults = serde_json::from_slice(value).map_err(err)?;
        } else if key == keys::CONTROL {
            self.control = serde_json::from_slice(value).map_err(err)?;
        }
        Ok(())
    }
}

/// Opens a channel's sealed secrets (none sealed: empty secrets).
pub fn open_secrets(seal: &SealKey, doc: &ChannelDoc) -> Result<ChannelSecrets, String> {
    let Some(sealed) = &doc.sealed_secrets else {
        return Ok(ChannelSecrets::default());
    };
    let plain = seal
        .open(sealed, &ChannelDoc::seal_context(doc.id))
        .map_err(|_| "the channel's secrets do not open with this notifier's seal key (is notifier.seal_key current?)".to_owned())?;
    serde_json::from_slice(&plain)
        .map_err(|_| "the channel's opened secrets are not valid".to_owned())
}
