//! Key-encryption keys derived from the configured master keys.

use hkdf::Hkdf;
use sha2::{Digest, Sha256};

/// One key-encryption key and its public id.
#[derive(Clone)]
pub struct Kek {
    /// Stable id stored with each record (derived, reveals nothing of the key).
    pub id: String,
    /// The key.
    pub key: [u8; 32],
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kek")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Kek {
    /// Derives the KEK of a master key.
    pub fn from_master(master: &[u8; 32]) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(b"opsconductor"), master);
        let mut key = [0u8; 32];
        let _ = hk.expand(b"key-encryption-key v1", &mut key);
        let mut idk = [0u8; 32];
        let _ = hk.expand(b"key-encryption-key id v1", &mut idk);
        let id = format!(
            "kek-{}",
            data_encoding::HEXLOWER.encode(&Sha256::digest(idk)[..8])
        );
        Self { id, key }
    }
}

/// The current KEK (wraps new data keys) and retired ones (only unwrap).
#[derive(Debug, Clone)]
pub struct Keyring {
    current: Kek,
    retired: Vec<Kek>,
}

impl Keyring {
    /// A keyring from the current master key and retired ones.
    pub fn new(current: &[u8; 32], retired: &[[u8; 32]]) -> Self {
        Self {
            current: Kek::from_master(current),
            retired: retired.iter().map(Kek::from_master).collect(),
        }
    }

    /// The key new records are wrapped with.
    pub fn current(&self) -> &Kek {
        &self.current
    }

    /// The key with this id, current or retired.
    pub fn find(&self, id: &str) -> Option<&Kek> {
        std::iter::once(&self.current)
            .chain(&self.retired)
            .find(|k| k.id == id)
    }
}
