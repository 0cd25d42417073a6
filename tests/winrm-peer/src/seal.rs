//! Sealed SOAP bodies: NTLM session security (MS-NLMP 3.4.4 with extended
//! session security, key exchange and 128-bit keys) inside the
//! `multipart/encrypted` framing of MS-WSMV 2.2.9.1, laid out as Windows
//! sends it: the closing boundary follows the ciphertext directly.

use md5::{Digest as _, Md5};

use crate::ntlm::{constant_time_eq, hmac_md5};

/// `Content-Type` of a sealed body.
pub(crate) const CONTENT_TYPE: &str = "multipart/encrypted;\
    protocol=\"application/HTTP-SPNEGO-session-encrypted\";boundary=\"Encrypted Boundary\"";
const BOUNDARY: &[u8] = b"--Encrypted Boundary\r\n";
const CLOSING: &[u8] = b"--Encrypted Boundary--\r\n";
const PROTOCOL_PART: &[u8] = b"\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n";
const LENGTH_PREFIX: &[u8] = b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=";
const OCTET_PART: &[u8] = b"\tContent-Type: application/octet-stream\r\n";

/// Why a sealed body was refused (the client sees HTTP 400).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SealError(pub &'static str);

/// RC4, the NTLM sealing cipher.
pub(crate) struct Rc4 {
    s: [u8; 256],
    i: u8,
    j: u8,
}

impl Rc4 {
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut s = [0u8; 256];
        for (i, v) in (0u8..=255).zip(s.iter_mut()) {
            *v = i;
        }
        let mut j = 0u8;
        for i in 0..256 {
            j = j.wrapping_add(s[i]).wrapping_add(key[i % key.len()]);
            s.swap(i, usize::from(j));
        }
        Self { s, i: 0, j: 0 }
    }

    pub(crate) fn apply(&mut self, data: &mut [u8]) {
        for byte in data {
            self.i = self.i.wrapping_add(1);
            self.j = self.j.wrapping_add(self.s[usize::from(self.i)]);
            self.s.swap(usize::from(self.i), usize::from(self.j));
            let k = self.s[usize::from(
                self.s[usize::from(self.i)].wrapping_add(self.s[usize::from(self.j)]),
            )];
            *byte ^= k;
        }
    }
}

impl std::fmt::Debug for Rc4 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rc4(..)")
    }
}

/// One direction of an NTLM security context.
#[derive(Debug)]
struct Direction {
    sign_key: [u8; 16],
    seal: Rc4,
    seq: u32,
}

impl Direction {
    fn new(session_key: &[u8; 16], sign_magic: &[u8], seal_magic: &[u8]) -> Self {
        Self {
            sign_key: derive(session_key, sign_magic),
            seal: Rc4::new(&derive(session_key, seal_magic)),
            seq: 0,
        }
    }

    /// The 8-byte checksum, already encrypted with the sealing stream.
    fn checksum(&mut self, plain: &[u8]) -> [u8; 8] {
        let mac = hmac_md5(&self.sign_key, &[&self.seq.to_le_bytes(), plain]);
        let mut checksum = [0u8; 8];
        checksum.copy_from_slice(&mac[..8]);
        self.seal.apply(&mut checksum);
        checksum
    }
}

/// The acceptor's view of an established NTLM context.
#[derive(Debug)]
pub(crate) struct SessionSecurity {
    from_client: Direction,
    to_client: Direction,
}

impl SessionSecurity {
    pub(crate) fn new(exported_session_key: &[u8; 16]) -> Self {
        Self {
            from_client: Direction::new(
                exported_session_key,
                b"session key to client-to-server signing key magic constant\0",
                b"session key to client-to-server sealing key magic constant\0",
            ),
            to_client: Direction::new(
                exported_session_key,
                b"session key to server-to-client signing key magic constant\0",
                b"session key to server-to-client sealing key magic constant\0",
            ),
        }
    }

    fn unseal(&mut self, signature: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, SealError> {
        let d = &mut self.from_client;
        if signature.get(..4) != Some(&1u32.to_le_bytes()[..]) {
            return Err(SealError("bad signature version"));
        }
        if signature.get(12..16) != Some(&d.seq.to_le_bytes()[..]) {
            return Err(SealError("sequence number mismatch"));
        }
        let mut plain = ciphertext.to_vec();
        d.seal.apply(&mut plain);
        let expected = d.checksum(&plain);
        d.seq = d.seq.wrapping_add(1);
        if !constant_time_eq(&expected, signature.get(4..12).unwrap_or_default()) {
            return Err(SealError("signature mismatch"));
        }
        Ok(plain)
    }

    fn seal(&mut self, plain: &[u8]) -> ([u8; 16], Vec<u8>) {
        let d = &mut self.to_client;
        let mut cipher = plain.to_vec();
        d.seal.apply(&mut cipher);
        let checksum = d.checksum(plain);
        let mut signature = [0u8; 16];
        signature[..4].copy_from_slice(&1u32.to_le_bytes());
        signature[4..12].copy_from_slice(&checksum);
        signature[12..].copy_from_slice(&d.seq.to_le_bytes());
        d.seq = d.seq.wrapping_add(1);
        (signature, cipher)
    }
}

fn derive(session_key: &[u8; 16], magic: &[u8]) -> [u8; 16] {
    let mut h = Md5::new();
    h.update(session_key);
    h.update(magic);
    h.finalize().into()
}

/// Whether a request's `Content-Type` announces a sealed body.
pub(crate) fn is_sealed(content_type: &str) -> bool {
    content_type.starts_with("multipart/encrypted")
}

/// Opens a sealed request body.
pub(crate) fn open(body: &[u8], sec: &mut SessionSecurity) -> Result<Vec<u8>, SealError> {
    let rest = body
        .strip_prefix(BOUNDARY)
        .ok_or(SealError("missing opening boundary"))?;
    let rest = rest
        .strip_prefix(PROTOCOL_PART)
        .ok_or(SealError("unknown protocol part"))?;
    let rest = rest
        .strip_prefix(LENGTH_PREFIX)
        .ok_or(SealError("missing OriginalContent"))?;
    let eol = rest
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or(SealError("bad header"))?;
    let length: usize = std::str::from_utf8(&rest[..eol])
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or(SealError("bad Length"))?;
    let rest = rest[eol + 2..]
        .strip_prefix(BOUNDARY)
        .ok_or(SealError("missing data part"))?;
    let rest = rest
        .strip_prefix(OCTET_PART)
        .ok_or(SealError("missing octet-stream part"))?;
    let payload = rest
        .strip_suffix(CLOSING)
        .or_else(|| rest.strip_suffix(BOUNDARY))
        .ok_or(SealError("missing closing boundary"))?;
    let (len, payload) = payload
        .split_at_checked(4)
        .ok_or(SealError("truncated payload"))?;
    if len != 16u32.to_le_bytes() {
        return Err(SealError("signature length is not 16"));
    }
    let (signature, ciphertext) = payload
        .split_at_checked(16)
        .ok_or(SealError("truncated signature"))?;
    let plain = sec.unseal(signature, ciphertext)?;
    if plain.len() != length {
        return Err(SealError("length differs from OriginalContent"));
    }
    Ok(plain)
}

/// Seals a response body.
pub(crate) fn wrap(plain: &[u8], sec: &mut SessionSecurity) -> Vec<u8> {
    let (signature, cipher) = sec.seal(plain);
    let mut out = Vec::with_capacity(plain.len() + 256);
    out.extend_from_slice(BOUNDARY);
    out.extend_from_slice(PROTOCOL_PART);
    out.extend_from_slice(LENGTH_PREFIX);
    out.extend_from_slice(format!("{}\r\n", plain.len()).as_bytes());
    out.extend_from_slice(BOUNDARY);
    out.extend_from_slice(OCTET_PART);
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&signature);
    out.extend_from_slice(&cipher);
    out.extend_from_slice(CLOSING);
    out
}

#[cfg(test)]
#[path = "seal_tests.rs"]
mod tests;
