//! TOTP (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits) and the encryption
//! of TOTP secrets at rest (AES-256-GCM, bound to the user id).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha1::Sha1;
use uuid::Uuid;

/// Seconds per step.
pub const STEP_SECS: i64 = 30;

/// A new 20-byte secret.
pub fn new_secret() -> [u8; 20] {
    let mut s = [0u8; 20];
    rand::rng().fill_bytes(&mut s);
    s
}

/// The secret as base32 (what authenticator apps take).
pub fn base32(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// The `otpauth://` URI for enrolment (QR code content).
pub fn otpauth_uri(secret: &[u8], username: &str) -> String {
    let label: String = username
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect();
    format!(
        "otpauth://totp/OpsConductor:{label}?secret={}&issuer=OpsConductor&algorithm=SHA1&digits=6&period=30",
        base32(secret)
    )
}

/// The code for one step.
pub fn code_at(secret: &[u8], step: i64) -> String {
    let Ok(mut mac) = <Hmac<Sha1> as Mac>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = usize::from(h[19] & 0x0f);
    let bin = (u32::from(h[offset]) & 0x7f) << 24
        | u32::from(h[offset + 1]) << 16
        | u32::from(h[offset + 2]) << 8
        | u32::from(h[offset + 3]);
    format!("{:06}", bin % 1_000_000)
}

/// The step a code matches, within one step of `now`, if it is newer than
/// `last_used` (a used step can never be replayed).
pub fn check(secret: &[u8], code: &str, now: i64, last_used: Option<i64>) -> Option<i64> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = now.div_euclid(STEP_SECS);
    (current - 1..=current + 1)
        .filter(|step| last_used.is_none_or(|l| *step > l))
        .find(|step| constant_time_eq(code_at(secret, *step).as_bytes(), code.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Encrypts a secret for storage: nonce ‖ ciphertext, bound to `user`.
pub fn seal(key: &[u8; 32], user: Uuid, secret: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.into());
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: secret,
                aad: user.as_bytes(),
            },
        )
        .unwrap_or_default();
    [nonce.as_slice(), &ct].concat()
}

/// Decrypts a stored secret; `None` when it was not sealed for `user` with `key`.
pub fn open(key: &[u8; 32], user: Uuid, sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < 12 + 16 {
        return None;
    }
    let (nonce, ct) = sealed.split_at(12);
    Aes256Gcm::new(key.into())
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ct,
                aad: user.as_bytes(),
            },
        )
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 (8-digit vectors, last 6 digits).
    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        for (t, expected) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code_at(secret, t / STEP_SECS), expected, "t={t}");
        }
    }

    #[test]
    fn a_used_step_cannot_be_replayed() {
        let secret = new_secret();
        let now = 1_800_000_000;
        let code = code_at(&secret, now / STEP_SECS);
        let step = check(&secret, &code, now, None).unwrap();
        assert_eq!(check(&secret, &code, now, Some(step)), None);
        assert_eq!(check(&secret, "000000x", now, None), None);
        assert_eq!(
            check(&secret, &code, now + 120, None),
            None,
            "outside the window"
        );
    }

    #[test]
    fn sealed_secrets_open_only_for_their_user() {
        let key = [3u8; 32];
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let sealed = seal(&key, a, b"secret-bytes");
        assert_eq!(open(&key, a, &sealed).unwrap(), b"secret-bytes");
        assert_eq!(open(&key, b, &sealed), None);
        assert_eq!(open(&[4u8; 32], a, &sealed), None);
    }

    #[test]
    fn uri_names_user_and_secret() {
        let uri = otpauth_uri(b"12345678901234567890", "ops admin");
        assert!(uri.starts_with(
            "otpauth://totp/OpsConductor:ops%20admin?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        ));
    }
}
