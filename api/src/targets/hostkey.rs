//! The SSH host-key trust record of a target (`targets.host_key`): the
//! pinned key, and a key waiting for an admin's approval.

use chrono::{DateTime, Utc};
use opsc_proto::probe::{FailureStage, HostKey, HostKeyPolicy, ProbeReply};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A pinned key and how it came to be trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PinnedKey {
    /// The key.
    #[serde(flatten)]
    pub key: HostKey,
    /// When it was pinned.
    pub pinned_at: DateTime<Utc>,
    /// `accept-new` (first contact) or the approving admin's user id.
    pub pinned_by: String,
}

/// What is known about a target's SSH host key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HostKeyState {
    /// The trusted key; connections presenting another key fail.
    #[serde(default)]
    pub pinned: Option<PinnedKey>,
    /// A key a server presented that is not trusted (unknown under `strict`,
    /// or changed): an admin may approve it.
    #[serde(default)]
    pub pending: Option<HostKey>,
}

impl HostKeyState {
    /// Reads the stored record (absent or unreadable: nothing known).
    pub fn from_column(value: Option<&serde_json::Value>) -> Self {
        value
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }

    /// The stored form; `None` when nothing is known.
    pub fn to_column(&self) -> Option<serde_json::Value> {
        (self.pinned.is_some() || self.pending.is_some())
            .then(|| serde_json::to_value(self).unwrap_or_default())
    }

    /// The pinned key, as sent to a worker.
    pub fn pinned_key(&self) -> Option<HostKey> {
        self.pinned.as_ref().map(|p| p.key.clone())
    }

    /// The record after a connection test's reply. Returns whether a key
    /// was newly pinned.
    pub fn after_test(
        &mut self,
        policy: HostKeyPolicy,
        reply: &ProbeReply,
        now: DateTime<Utc>,
    ) -> bool {
        let Some(presented) = &reply.host_key else {
            return false;
        };
        let is_pinned = self
            .pinned
            .as_ref()
            .is_some_and(|p| p.key.fingerprint == presented.fingerprint);
        if is_pinned {
            self.pending = None;
            return false;
        }
        if self.pinned.is_none()
            && policy == HostKeyPolicy::AcceptNew
            && reply.stage != Some(FailureStage::HostKey)
        {
            self.pinned = Some(PinnedKey {
                key: presented.clone(),
                pinned_at: now,
                pinned_by: "accept-new".to_owned(),
            });
            self.pending = None;
            return true;
        }
        if reply.stage == Some(FailureStage::HostKey) {
            self.pending = Some(presented.clone());
        }
        false
    }

    /// Approves `key` as the pinned key.
    pub fn approve(&mut self, key: HostKey, by: String, now: DateTime<Utc>) {
        self.pinned = Some(PinnedKey {
            key,
            pinned_at: now,
            pinned_by: by,
        });
        self.pending = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(fp: &str) -> HostKey {
        HostKey {
            algorithm: "ssh-ed25519".into(),
            fingerprint: fp.into(),
            public_key: format!("ssh-ed25519 {fp}"),
        }
    }

    fn reply(stage: Option<FailureStage>, k: &str) -> ProbeReply {
        ProbeReply {
            ok: stage.is_none(),
            stage,
            host_key: Some(key(k)),
            ..ProbeReply::failed(uuid::Uuid::nil(), FailureStage::Worker, "")
        }
    }

    #[test]
    fn accept_new_pins_the_first_key_and_strict_leaves_it_pending() {
        let now = Utc::now();
        let mut s = HostKeyState::default();
        assert!(s.after_test(HostKeyPolicy::AcceptNew, &reply(None, "A"), now));
        assert_eq!(s.pinned_key(), Some(key("A")));
        // Authentication failing does not stop pinning: the key was verified.
        let mut s = HostKeyState::default();
        assert!(s.after_test(
            HostKeyPolicy::AcceptNew,
            &reply(Some(FailureStage::Auth), "A"),
            now
        ));
        let mut s = HostKeyState::default();
        assert!(!s.after_test(
            HostKeyPolicy::Strict,
            &reply(Some(FailureStage::HostKey), "A"),
            now
        ));
        assert_eq!(s.pinned, None);
        assert_eq!(s.pending, Some(key("A")));
    }

    #[test]
    fn a_changed_key_is_pending_until_approved() {
        let now = Utc::now();
        let mut s = HostKeyState::default();
        s.approve(key("A"), "admin".into(), now);
        assert!(!s.after_test(
            HostKeyPolicy::AcceptNew,
            &reply(Some(FailureStage::HostKey), "B"),
            now
        ));
        assert_eq!(s.pinned_key(), Some(key("A")));
        assert_eq!(s.pending, Some(key("B")));
        s.approve(key("B"), "admin".into(), now);
        assert_eq!(s.pinned_key(), Some(key("B")));
        assert_eq!(s.pending, None);
        assert_eq!(HostKeyState::from_column(s.to_column().as_ref()), s);
        assert_eq!(HostKeyState::default().to_column(), None);
    }
}
