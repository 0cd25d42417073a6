//! Sealing secrets for one worker pool.
//!
//! A secret crosses the bus only inside a seal: AES-256-GCM under the pool's
//! key, with the request it belongs to bound in as associated data, so a
//! sealed value copied into another request or read by another pool does not
//! open. Each pool key is derived from the master key with HKDF-SHA256
//! (info `opsconductor seal v1 pool:<name>`): the api derives it for any pool,
//! a worker holds only its own pool's key (`worker.seal_key`, printed by
//! `opsconductor keys seal-key --pool <name>`).

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine as _;
use hkdf::Hkdf;
use sha2::Sha256;

use super::{MasterKey, key_bytes};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// The key that seals secrets for one pool.
#[derive(Clone)]
pub struct SealKey {
    key: [u8; 32],
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(<redacted>)")
    }
}

/// Sealing or opening failed; never says more than that.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// Not produced by [`SealKey::seal`] (bad base64, version or length).
    #[error("the sealed value is malformed")]
    Malformed,
    /// Wrong pool key, wrong context, or tampered.
    #[error("the sealed value does not open with this worker's seal key (wrong pool or key?)")]
    WrongKey,
}

impl SealKey {
    /// The key of `pool`, derived from the master key.
    pub fn for_pool(master: &MasterKey, pool: &str) -> Self {
        Self::derive(master, &format!("pool:{pool}"))
    }

    /// The notifier's key (channel secrets are sealed for it), derived from
    /// the master key with info `opsconductor seal v1 notifier`; no pool's
    /// key opens what is sealed with it.
    pub fn for_notifier(master: &MasterKey) -> Self {
        Self::derive(master, "notifier")
    }

    pub(super) fn derive(master: &MasterKey, purpose: &str) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(b"opsconductor-seal"), master.expose());
        let mut key = [0_u8; 32];
        // 32 bytes is far below HKDF-SHA256's output limit.
        let _ = hk.expand(
            format!("opsconductor seal v1 {purpose}").as_bytes(),
            &mut key,
        );
        Self { key }
    }

    /// A key from its base64 form (`worker.seal_key`).
    pub fn from_base64(text: &str) -> Option<Self> {
        key_bytes(text).ok().map(|key| Self { key })
    }

    /// The base64 form, for `opsconductor keys seal-key`.
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.key)
    }

    /// Seals `plaintext` bound to `context` (e.g. the request id).
    pub fn seal(&self, plaintext: &[u8], context: &str) -> String {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let cipher = Aes256Gcm::new((&self.key).into());
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        base64::engine::general_purpose::STANDARD.encode(out)
    }

    /// Opens a value sealed for this pool and `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, SealError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| SealError::Malformed)?;
        if bytes.len() < 1 + NONCE_LEN + 16 || bytes[0] != VERSION {
            return Err(SealError::Malformed);
        }
        let (nonce, body) = bytes[1..].split_at(NONCE_LEN);
        Aes256Gcm::new((&self.key).into())
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

/// Derives the seal key of any pool: held by the api (which has the master key).
pub struct PoolSealer {
    master: MasterKey,
}

impl std::fmt::Debug for PoolSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PoolSealer(<redacted>)")
    }
}

impl PoolSealer {
    /// A sealer from the master key.
    pub fn new(master: MasterKey) -> Self {
        Self { master }
    }

    /// Seals `plaintext` for the workers of `pool`, bound to `context`.
    pub fn seal_for(&self, pool: &str, plaintext: &[u8], context: &str) -> String {
        SealKey::for_pool(&self.master, pool).seal(plaintext, context)
    }

    /// Opens what a producer sealed for the api with the intake's public key.
    pub fn open_intake(&self, sealed: &str, context: &str) -> Result<Vec<u8>, SealError> {
        super::intake::IntakeKey::derive(&self.master).open(sealed, context)
    }

    /// The notifier's seal key: what the api seals channel secrets with in
    /// `<p>_notify_config`.
    pub fn notifier(&self) -> SealKey {
        SealKey::for_notifier(&self.master)
    }

    /// Seals `plaintext` for the api's own intake, bound to `context`: what
    /// the api gives a producer to pass back in a run intent (a schedule's
    /// secret parameters, which the scheduler carries and cannot open).
    pub fn seal_intake(&self, plaintext: &[u8], context: &str) -> String {
        super::intake::IntakeKey::derive(&self.master)
            .public()
            .seal(plaintext, context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master(byte: u8) -> MasterKey {
        MasterKey::from_bytes([byte; 32])
    }

    #[test]
    fn a_seal_opens_only_for_its_pool_and_context() {
        let dmz = SealKey::for_pool(&master(7), "dmz");
        let sealed = dmz.seal(b"s3cret", "probe-1");
        assert_eq!(dmz.open(&sealed, "probe-1").unwrap(), b"s3cret");
        assert!(!sealed.contains("s3cret"));
        assert!(matches!(
            dmz.open(&sealed, "probe-2"),
            Err(SealError::WrongKey)
        ));
        let default = SealKey::for_pool(&master(7), "default");
        assert!(matches!(
            default.open(&sealed, "probe-1"),
            Err(SealError::WrongKey)
        ));
        let other_master = SealKey::for_pool(&master(8), "dmz");
        assert!(other_master.open(&sealed, "probe-1").is_err());
        assert!(matches!(
            dmz.open("not base64!", "probe-1"),
            Err(SealError::Malformed)
        ));
    }

    #[test]
    fn the_base64_form_round_trips() {
        let key = SealKey::for_pool(&master(1), "default");
        let again = SealKey::from_base64(&key.to_base64()).unwrap();
        let sealed = key.seal(b"x", "c");
        assert_eq!(again.open(&sealed, "c").unwrap(), b"x");
        assert!(SealKey::from_base64("c2hvcnQ=").is_none());
    }
}
