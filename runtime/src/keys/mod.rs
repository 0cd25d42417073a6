//! Key material, side by side: the master key (the vault's key-encryption
//! key, held only by the api), the seal keys derived from it that let a
//! secret cross the bus for one worker pool only ([`seal`]), and the api's
//! intake key, whose public half producers seal for the api with
//! ([`intake`]).
//!
//! This module parses and derives keys; where their text comes from (a
//! setting or a file) is the configuration's business (`config::secret`).

pub mod intake;
pub mod seal;

use base64::Engine as _;
use secrecy::ExposeSecret;

pub use intake::{IntakeKey, IntakePublicKey};
pub use seal::{PoolSealer, SealError, SealKey};

/// The key-encryption key; its bytes never leave this wrapper by accident.
pub struct MasterKey(secrecy::SecretBox<[u8; 32]>);

/// Why a key's text is not a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not standard base64.
    #[error("is not valid base64")]
    NotBase64,
    /// Decodes to the wrong number of bytes.
    #[error("must decode to 32 bytes, got {0}")]
    Length(usize),
}

/// 32 bytes from their base64 text (surrounding white space ignored).
pub fn key_bytes(text: &str) -> Result<[u8; 32], KeyError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| KeyError::NotBase64)?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| KeyError::Length(b.len()))
}

impl MasterKey {
    /// A key from raw bytes (tests and tools).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(secrecy::SecretBox::new(Box::new(bytes)))
    }

    /// A key from its base64 text.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        key_bytes(text).map(Self::from_bytes)
    }

    /// The raw key bytes, for the vault and key derivation.
    pub fn expose(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_text_is_checked() {
        let text = base64::engine::general_purpose::STANDARD.encode([9_u8; 32]);
        assert_eq!(
            MasterKey::from_base64(&format!(" {text}\n"))
                .unwrap()
                .expose(),
            &[9; 32]
        );
        assert_eq!(key_bytes("***").unwrap_err(), KeyError::NotBase64);
        assert_eq!(key_bytes("c2hvcnQ=").unwrap_err(), KeyError::Length(5));
    }
}
