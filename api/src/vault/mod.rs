//! The vault: envelope encryption of credential secrets.
//!
//! Each record's secret fields are sealed with a fresh 256-bit data key
//! (AES-256-GCM); the data key is wrapped by a key-encryption key (KEK)
//! derived from the master key, and the record stores the KEK's id. Both
//! ciphertexts carry associated data naming the record (and its type), so a
//! ciphertext moved to another record fails to decrypt. Rotating the master
//! key re-wraps only the data keys ([`rewrap`]).

mod keyring;

pub use keyring::{Kek, Keyring};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore as _;
use uuid::Uuid;

/// Why a record could not be opened or sealed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The record's KEK is neither the current nor a retired key.
    #[error(
        "the key-encryption key {0} is not configured (security.master_key / security.retired_master_keys)"
    )]
    UnknownKek(String),
    /// Authentication failed: wrong key, or the ciphertext belongs elsewhere.
    #[error("the sealed data does not belong to this record or was altered")]
    Tampered,
}

/// A sealed secret as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// nonce ‖ AES-256-GCM(data key, secret, aad = record).
    pub sealed: Vec<u8>,
    /// nonce ‖ AES-256-GCM(KEK, data key, aad = record).
    pub wrapped_dek: Vec<u8>,
    /// Which KEK wrapped the data key.
    pub kek_id: String,
}

fn data_aad(record: Uuid, kind: &str) -> Vec<u8> {
    format!("opsconductor credential {record} {kind}").into_bytes()
}

fn dek_aad(record: Uuid) -> Vec<u8> {
    format!("opsconductor data-key {record}").into_bytes()
}

fn encrypt(key: &[u8; 32], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let ct = Aes256Gcm::new(key.into())
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .unwrap_or_default();
    [nonce.as_slice(), &ct].concat()
}

fn decrypt(key: &[u8; 32], sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, VaultError> {
    if sealed.len() < 12 + 16 {
        return Err(VaultError::Tampered);
    }
    let (nonce, ct) = sealed.split_at(12);
    Aes256Gcm::new(key.into())
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
        .map_err(|_| VaultError::Tampered)
}

/// Seals `secret` for record `record` of type `kind` under the current KEK.
pub fn seal(keys: &Keyring, record: Uuid, kind: &str, secret: &[u8]) -> Sealed {
    let mut dek = [0u8; 32];
    rand::rng().fill_bytes(&mut dek);
    let sealed = encrypt(&dek, secret, &data_aad(record, kind));
    let kek = keys.current();
    let wrapped_dek = encrypt(&kek.key, &dek, &dek_aad(record));
    dek.fill(0);
    Sealed {
        sealed,
        wrapped_dek,
        kek_id: kek.id.clone(),
    }
}

fn unwrap_dek(keys: &Keyring, record: Uuid, s: &Sealed) -> Result<[u8; 32], VaultError> {
    let kek = keys
        .find(&s.kek_id)
        .ok_or_else(|| VaultError::UnknownKek(s.kek_id.clone()))?;
    let dek = decrypt(&kek.key, &s.wrapped_dek, &dek_aad(record))?;
    dek.try_into().map_err(|_| VaultError::Tampered)
}

/// Opens a record's secret.
pub fn open(keys: &Keyring, record: Uuid, kind: &str, s: &Sealed) -> Result<Vec<u8>, VaultError> {
    let mut dek = unwrap_dek(keys, record, s)?;
    let out = decrypt(&dek, &s.sealed, &data_aad(record, kind));
    dek.fill(0);
    out
}

/// Re-wraps a record's data key under the current KEK; the sealed data stays.
pub fn rewrap(keys: &Keyring, record: Uuid, s: &Sealed) -> Result<Sealed, VaultError> {
    let mut dek = unwrap_dek(keys, record, s)?;
    let kek = keys.current();
    let wrapped_dek = encrypt(&kek.key, &dek, &dek_aad(record));
    dek.fill(0);
    Ok(Sealed {
        sealed: s.sealed.clone(),
        wrapped_dek,
        kek_id: kek.id.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(current: u8, retired: &[u8]) -> Keyring {
        Keyring::new(
            &[current; 32],
            &retired.iter().map(|b| [*b; 32]).collect::<Vec<_>>(),
        )
    }

    #[test]
    fn seals_and_opens() {
        let k = ring(1, &[]);
        let id = Uuid::now_v7();
        let s = seal(&k, id, "ssh_password", b"{\"password\":\"hunter2hunter2\"}");
        assert!(!s.sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(
            open(&k, id, "ssh_password", &s).unwrap(),
            b"{\"password\":\"hunter2hunter2\"}"
        );
    }

    #[test]
    fn a_ciphertext_moved_to_another_record_or_type_fails() {
        let k = ring(1, &[]);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let sa = seal(&k, a, "ssh_password", b"secret-a");
        assert_eq!(open(&k, b, "ssh_password", &sa), Err(VaultError::Tampered));
        assert_eq!(open(&k, a, "winrm", &sa), Err(VaultError::Tampered));
        let sb = seal(&k, b, "ssh_password", b"secret-b");
        let mixed = Sealed {
            sealed: sb.sealed,
            ..sa
        };
        assert_eq!(
            open(&k, a, "ssh_password", &mixed),
            Err(VaultError::Tampered)
        );
    }

    #[test]
    fn rotation_rewraps_under_the_new_key_and_old_keys_are_needed_until_then() {
        let old = ring(1, &[]);
        let id = Uuid::now_v7();
        let s = seal(&old, id, "winrm", b"pw");
        let new_only = ring(2, &[]);
        assert!(matches!(
            open(&new_only, id, "winrm", &s),
            Err(VaultError::UnknownKek(_))
        ));
        let both = ring(2, &[1]);
        let re = rewrap(&both, id, &s).unwrap();
        assert_ne!(re.kek_id, s.kek_id);
        assert_eq!(re.sealed, s.sealed);
        assert_eq!(open(&new_only, id, "winrm", &re).unwrap(), b"pw");
    }
}
