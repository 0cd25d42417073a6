//! The HMAC-SHA256 signature of webhook deliveries, shared by the
//! `webhook.call` step and the notifier's webhook channel so that a
//! receiver verifies both the same way: header
//! `x-opsconductor-signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`
//! with the Unix time in `x-opsconductor-timestamp`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Header carrying `sha256=<hex>` of the signed message.
pub const SIGNATURE_HEADER: &str = "x-opsconductor-signature";
/// Header carrying the Unix time of the attempt.
pub const TIMESTAMP_HEADER: &str = "x-opsconductor-timestamp";
/// Header carrying one id per delivery, the same on every attempt.
pub const DELIVERY_HEADER: &str = "x-opsconductor-delivery";

/// What is signed: `<timestamp>.<raw body>`, so a captured delivery cannot
/// be replayed later with a fresh timestamp.
pub fn signed_message(timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(timestamp.len() + 1 + body.len());
    m.extend_from_slice(timestamp.as_bytes());
    m.push(b'.');
    m.extend_from_slice(body);
    m
}

/// `sha256=<hex>` of HMAC-SHA256(`secret`, `message`).
pub fn signature(secret: &str, message: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(message);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_rfc_4231_style_reference() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
        assert_eq!(
            signature("key", b"The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        assert_eq!(signed_message("17", b"{}"), b"17.{}".to_vec());
    }
}
