//! The api's intake key: how a producer on the bus (the scheduler, an
//! integration) hands the api a secret it alone can read — a run intent's
//! `sealed_parameters`.
//!
//! It is asymmetric: producers get the public half
//! (`opsconductor keys seal-key --intake`) and can seal, but not open, so
//! one producer cannot read what another sealed, even off the bus or a
//! dead letter. Only the api, which holds the master key, derives the
//! private half. A sealed value is X25519 from a fresh ephemeral key to the
//! intake key, HKDF-SHA256 over the shared secret (salted with both public
//! keys), and AES-256-GCM with the context as associated data:
//! `base64(2 ‖ ephemeral public key (32) ‖ nonce (12) ‖ ciphertext+tag)`.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine as _;
use hkdf::Hkdf;
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};

use super::{MasterKey, SealError, key_bytes};

const VERSION: u8 = 2;
const NONCE_LEN: usize = 12;
const INFO: &[u8] = b"opsconductor intake v1";

/// The private intake key (the api's).
pub struct IntakeKey {
    secret: StaticSecret,
}

impl std::fmt::Debug for IntakeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IntakeKey(<redacted>)")
    }
}

/// The public intake key: what producers seal with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntakePublicKey(PublicKey);

fn aead_key(shared: &[u8; 32], ephemeral: &PublicKey, recipient: &PublicKey) -> [u8; 32] {
    let mut salt = [0_u8; 64];
    salt[..32].copy_from_slice(ephemeral.as_bytes());
    salt[32..].copy_from_slice(recipient.as_bytes());
    let hk = Hkdf::<Sha256>::new(Some(&salt), shared);
    let mut key = [0_u8; 32];
    // 32 bytes is far below HKDF-SHA256's output limit.
    let _ = hk.expand(INFO, &mut key);
    key
}

impl IntakeKey {
    /// The intake key of the installation with this master key.
    pub fn derive(master: &MasterKey) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(b"opsconductor-intake"), master.expose());
        let mut bytes = [0_u8; 32];
        let _ = hk.expand(b"opsconductor intake x25519 v1", &mut bytes);
        Self {
            secret: StaticSecret::from(bytes),
        }
    }

    /// Its public half.
    pub fn public(&self) -> IntakePublicKey {
        IntakePublicKey(PublicKey::from(&self.secret))
    }

    /// Opens a value sealed for this key and `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, SealError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed.trim())
            .map_err(|_| SealError::Malformed)?;
        if bytes.len() < 1 + 32 + NONCE_LEN + 16 || bytes[0] != VERSION {
            return Err(SealError::Malformed);
        }
        let mut eph = [0_u8; 32];
        eph.copy_from_slice(&bytes[1..33]);
        let ephemeral = PublicKey::from(eph);
        let (nonce, body) = bytes[33..].split_at(NONCE_LEN);
        let shared = self.secret.diffie_hellman(&ephemeral);
        let key = aead_key(shared.as_bytes(), &ephemeral, &self.public().0);
        Aes256Gcm::new((&key).into())
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealError::WrongKey)
    }
}

impl IntakePublicKey {
    /// The key from its base64 form.
    pub fn from_base64(text: &str) -> Option<Self> {
        key_bytes(text).ok().map(|b| Self(PublicKey::from(b)))
    }

    /// The base64 form, for `opsconductor keys seal-key --intake`.
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0.as_bytes())
    }

    /// Seals `plaintext` for the api, bound to `context`.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> String {
        // A fresh key for every seal (used once, then dropped).
        let ephemeral = StaticSecret::from(rand::random::<[u8; 32]>());
        let eph_public = PublicKey::from(&ephemeral);
        let shared = ephemeral.diffie_hellman(&self.0);
        let key = aead_key(shared.as_bytes(), &eph_public, &self.0);
        let nonce: [u8; NONCE_LEN] = rand::random();
        let sealed = Aes256Gcm::new((&key).into())
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + 32 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(eph_public.as_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        base64::engine::general_purpose::STANDARD.encode(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master(b: u8) -> MasterKey {
        MasterKey::from_bytes([b; 32])
    }

    #[test]
    fn producers_seal_and_only_the_private_key_opens() {
        let key = IntakeKey::derive(&master(4));
        let public = IntakePublicKey::from_base64(&key.public().to_base64()).unwrap();
        let sealed = public.seal(br#"{"token":"t"}"#, "run-intent/job:x");
        assert_eq!(
            key.open(&sealed, "run-intent/job:x").unwrap(),
            br#"{"token":"t"}"#
        );
        assert!(
            key.open(&sealed, "run-intent/job:y").is_err(),
            "bound to its context"
        );
        assert!(
            IntakeKey::derive(&master(5))
                .open(&sealed, "run-intent/job:x")
                .is_err()
        );
        assert_ne!(
            public.seal(b"a", "c"),
            public.seal(b"a", "c"),
            "fresh each time"
        );
        assert!(matches!(key.open("nope", "c"), Err(SealError::Malformed)));
    }
}
