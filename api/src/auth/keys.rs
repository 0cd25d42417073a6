//! Keys derived from the master key, one per purpose (HKDF-SHA256), so a
//! leak of one derived key exposes nothing else.

use hkdf::Hkdf;
use sha2::{Digest, Sha256};

/// Keys the api derives at start.
#[derive(Clone)]
pub struct DerivedKeys {
    /// HMAC key for access tokens.
    pub jwt: [u8; 32],
    /// Key id of `jwt`, carried in each token's `kid` header.
    pub jwt_kid: String,
    /// AES-256-GCM key for MFA secrets at rest.
    pub mfa: [u8; 32],
}

impl std::fmt::Debug for DerivedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DerivedKeys")
            .field("jwt_kid", &self.jwt_kid)
            .finish_non_exhaustive()
    }
}

fn derive(master: &[u8; 32], info: &str) -> [u8; 32] {
    let hk = Hkdf::<Sha256>::new(Some(b"opsconductor"), master);
    let mut out = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's output limit.
    let _ = hk.expand(info.as_bytes(), &mut out);
    out
}

impl DerivedKeys {
    /// Derives every purpose key from the master key.
    pub fn from_master(master: &[u8; 32]) -> Self {
        let jwt = derive(master, "access-token v1");
        let digest = Sha256::digest(jwt);
        let jwt_kid = format!("k1-{}", data_encoding::HEXLOWER.encode(&digest[..6]));
        Self {
            jwt,
            jwt_kid,
            mfa: derive(master, "mfa-secret v1"),
        }
    }
}
