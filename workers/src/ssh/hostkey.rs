//! Host-key trust: the presented key must be the pinned one; a key not yet
//! pinned is refused (`strict`) or accepted and reported so the api pins it
//! (`accept-new`). Keys of weak algorithms or sizes are refused outright.

use opsc_proto::probe::{HostKey, HostKeyPolicy};
use russh::keys::{Algorithm, HashAlg, PublicKey};

/// The smallest RSA host key accepted, in bits.
const MIN_RSA_BITS: usize = 2048;

/// What the worker knows about a target's host key.
#[derive(Debug, Clone)]
pub struct HostKeyCheck {
    /// Policy for a key that is not pinned.
    pub policy: HostKeyPolicy,
    /// The pinned key.
    pub pinned: Option<HostKey>,
}

/// The decision about one presented key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyVerdict {
    /// The pinned key was presented.
    Pinned,
    /// No key was pinned and the policy accepts a new one.
    AcceptedNew,
    /// Refused, with the reason to report.
    Refused(String),
}

impl HostKeyVerdict {
    /// Whether the connection may go on.
    pub fn accepted(&self) -> bool {
        !matches!(self, Self::Refused(_))
    }
}

/// The pinnable description of a key.
pub fn describe(key: &PublicKey) -> HostKey {
    HostKey {
        algorithm: key.algorithm().as_str().to_owned(),
        fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
        public_key: key
            .to_openssh()
            .unwrap_or_else(|_| key.algorithm().as_str().to_owned()),
    }
}

fn weakness(key: &PublicKey) -> Option<String> {
    match key.algorithm() {
        Algorithm::Dsa => Some("ssh-dss host keys are refused as weak".to_owned()),
        Algorithm::Rsa { .. } => {
            let bits = key
                .key_data()
                .rsa()
                .map_or(0, |rsa| rsa.key_size() as usize);
            (bits < MIN_RSA_BITS).then(|| {
                format!("RSA host key of {bits} bits refused as weak (at least {MIN_RSA_BITS})")
            })
        }
        _ => None,
    }
}

impl HostKeyCheck {
    /// Judges the key a server presented.
    pub fn judge(&self, key: &PublicKey) -> HostKeyVerdict {
        if let Some(reason) = weakness(key) {
            return HostKeyVerdict::Refused(reason);
        }
        let presented = describe(key);
        match (&self.pinned, self.policy) {
            (Some(pinned), _) if pinned.fingerprint == presented.fingerprint => {
                HostKeyVerdict::Pinned
            }
            (Some(pinned), _) => HostKeyVerdict::Refused(format!(
                "the host key changed: pinned {} {}, presented {} {}; if the change is expected, an admin approves the new key (POST /api/v1/targets/{{id}}/host-key/approve)",
                pinned.algorithm, pinned.fingerprint, presented.algorithm, presented.fingerprint
            )),
            (None, HostKeyPolicy::AcceptNew) => HostKeyVerdict::AcceptedNew,
            (None, HostKeyPolicy::Strict) => HostKeyVerdict::Refused(format!(
                "unknown host key {} {} (policy strict): an admin must approve it (POST /api/v1/targets/{{id}}/host-key/approve)",
                presented.algorithm, presented.fingerprint
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> PublicKey {
        let private = russh::keys::PrivateKey::from(
            russh::keys::ssh_key::private::Ed25519Keypair::from_seed(&[seed; 32]),
        );
        private.public_key().clone()
    }

    #[test]
    fn pinned_unknown_and_changed_keys_are_judged_by_policy() {
        let a = key(1);
        let b = key(2);
        let strict = HostKeyCheck {
            policy: HostKeyPolicy::Strict,
            pinned: None,
        };
        assert!(
            matches!(strict.judge(&a), HostKeyVerdict::Refused(m) if m.contains("unknown host key") && m.contains(&describe(&a).fingerprint))
        );
        let new = HostKeyCheck {
            policy: HostKeyPolicy::AcceptNew,
            pinned: None,
        };
        assert_eq!(new.judge(&a), HostKeyVerdict::AcceptedNew);
        let pinned = HostKeyCheck {
            policy: HostKeyPolicy::AcceptNew,
            pinned: Some(describe(&a)),
        };
        assert_eq!(pinned.judge(&a), HostKeyVerdict::Pinned);
        let HostKeyVerdict::Refused(m) = pinned.judge(&b) else {
            panic!("a changed key must be refused even under accept-new");
        };
        assert!(m.contains(&describe(&a).fingerprint) && m.contains(&describe(&b).fingerprint));
    }
}
