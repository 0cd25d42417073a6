//! The acceptor side of NTLM (MS-NLMP) as a Windows host runs it behind
//! `WWW-Authenticate: Negotiate`: a CHALLENGE for the client's NEGOTIATE, then
//! an NTLMv2 check of its AUTHENTICATE.
//!
//! NTLMv1 answers (a 24-byte NT response) are refused: the client under test
//! (winrm-rs) never sends them, and hosts at LmCompatibilityLevel 5 refuse
//! them too.

use md4::Md4;
use md5::{Digest as _, Md5};

use crate::PeerUser;
use crate::seal::Rc4;

const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";
const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
const REQUEST_TARGET: u32 = 0x0000_0004;
const NEGOTIATE_SIGN: u32 = 0x0000_0010;
const NEGOTIATE_SEAL: u32 = 0x0000_0020;
const NEGOTIATE_NTLM: u32 = 0x0000_0200;
const NEGOTIATE_ALWAYS_SIGN: u32 = 0x0000_8000;
const TARGET_TYPE_SERVER: u32 = 0x0002_0000;
const TARGET_TYPE_DOMAIN: u32 = 0x0001_0000;
const EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
const NEGOTIATE_TARGET_INFO: u32 = 0x0080_0000;
const NEGOTIATE_VERSION: u32 = 0x0200_0000;
const NEGOTIATE_128: u32 = 0x2000_0000;
const NEGOTIATE_KEY_EXCH: u32 = 0x4000_0000;
const NEGOTIATE_56: u32 = 0x8000_0000;
/// Flags a Windows acceptor grants when the client asks for them.
const GRANTABLE: u32 = NEGOTIATE_UNICODE
    | REQUEST_TARGET
    | NEGOTIATE_SIGN
    | NEGOTIATE_SEAL
    | NEGOTIATE_ALWAYS_SIGN
    | EXTENDED_SESSIONSECURITY
    | NEGOTIATE_VERSION
    | NEGOTIATE_128
    | NEGOTIATE_KEY_EXCH
    | NEGOTIATE_56;
/// Windows Server 2022 (10.0 build 20348), NTLM revision 15.
const VERSION: [u8; 8] = [10, 0, 0x7c, 0x4f, 0, 0, 0, 15];
const AV_EOL: u16 = 0;
const AV_NB_COMPUTER: u16 = 1;
const AV_NB_DOMAIN: u16 = 2;
const AV_DNS_COMPUTER: u16 = 3;
const AV_DNS_DOMAIN: u16 = 4;
const AV_FLAGS: u16 = 6;
const AV_TIMESTAMP: u16 = 7;
const AV_FLAG_MIC: u32 = 0x2;

/// The host identity an acceptor advertises in its CHALLENGE.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    /// NetBIOS computer name, e.g. `WIN-TEST01`.
    pub computer: String,
    /// NetBIOS domain name; the computer name on a workgroup host.
    pub domain: Option<String>,
}

/// A CHALLENGE sent and what checking the AUTHENTICATE needs of it.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    negotiate: Vec<u8>,
    challenge: Vec<u8>,
    server_challenge: [u8; 8],
}

impl Pending {
    /// The CHALLENGE message to send.
    pub(crate) fn message(&self) -> &[u8] {
        &self.challenge
    }
}

/// A successful NTLMv2 logon.
#[derive(Debug)]
pub(crate) struct Logon {
    /// The account name as configured.
    pub user: String,
    /// Key material for message sealing.
    pub exported_session_key: [u8; 16],
}

/// Why an NTLM token was refused (for logs; the client only sees HTTP 401).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refused(pub &'static str);

/// The message type (1, 2 or 3) of an NTLMSSP token, if it is one.
pub(crate) fn message_type(token: &[u8]) -> Option<u32> {
    if token.get(..8)? != SIGNATURE {
        return None;
    }
    u32_at(token, 8)
}

/// Answers a NEGOTIATE with a CHALLENGE.
pub(crate) fn challenge(negotiate: &[u8], id: &Identity) -> Result<Pending, Refused> {
    if message_type(negotiate) != Some(1) {
        return Err(Refused("not a NEGOTIATE message"));
    }
    let asked = u32_at(negotiate, 12).ok_or(Refused("truncated NEGOTIATE"))?;
    if asked & NEGOTIATE_UNICODE == 0 {
        return Err(Refused("the client does not offer Unicode"));
    }
    let target_type = if id.domain.is_some() {
        TARGET_TYPE_DOMAIN
    } else {
        TARGET_TYPE_SERVER
    };
    let flags = (asked & GRANTABLE) | NEGOTIATE_NTLM | NEGOTIATE_TARGET_INFO | target_type;
    let nb_domain = id.domain.clone().unwrap_or_else(|| id.computer.clone());
    let dns_domain = id
        .domain
        .as_ref()
        .map_or_else(|| id.computer.clone(), |d| d.to_lowercase());
    let mut info = Vec::new();
    av(&mut info, AV_NB_DOMAIN, &utf16le(&nb_domain));
    av(&mut info, AV_NB_COMPUTER, &utf16le(&id.computer));
    av(&mut info, AV_DNS_DOMAIN, &utf16le(&dns_domain));
    av(&mut info, AV_DNS_COMPUTER, &utf16le(&id.computer));
    av(&mut info, AV_TIMESTAMP, &filetime_now());
    av(&mut info, AV_EOL, &[]);
    let target = utf16le(&nb_domain);
    let server_challenge: [u8; 8] = rand::random();

    let mut msg = Vec::with_capacity(56 + target.len() + info.len());
    msg.extend_from_slice(SIGNATURE);
    msg.extend_from_slice(&2u32.to_le_bytes());
    security_buffer(&mut msg, target.len(), 56);
    msg.extend_from_slice(&flags.to_le_bytes());
    msg.extend_from_slice(&server_challenge);
    msg.extend_from_slice(&[0; 8]);
    security_buffer(&mut msg, info.len(), 56 + target.len());
    msg.extend_from_slice(&VERSION);
    msg.extend_from_slice(&target);
    msg.extend_from_slice(&info);
    Ok(Pending {
        negotiate: negotiate.to_vec(),
        challenge: msg,
        server_challenge,
    })
}

/// Checks an AUTHENTICATE against the pending CHALLENGE and the accounts.
pub(crate) fn authenticate(
    msg: &[u8],
    pending: &Pending,
    users: &[PeerUser],
    id: &Identity,
) -> Result<Logon, Refused> {
    if message_type(msg) != Some(3) {
        return Err(Refused("not an AUTHENTICATE message"));
    }
    let field = |at: usize| field(msg, at).ok_or(Refused("bad security buffer"));
    let nt = field(20)?;
    let domain = from_utf16le(field(28)?);
    let user = from_utf16le(field(36)?);
    let encrypted_key = field(52)?;
    let flags = u32_at(msg, 60).ok_or(Refused("truncated AUTHENTICATE"))?;
    if nt.len() == 24 {
        return Err(Refused("NTLMv1 response refused"));
    }
    if nt.len() < 16 + 28 {
        return Err(Refused("NT response too short"));
    }
    let (proof, blob) = nt.split_at(16);
    if blob.get(..2) != Some(&[1, 1][..]) {
        return Err(Refused("unknown NTLMv2 blob version"));
    }
    let account = users
        .iter()
        .find(|u| u.username.eq_ignore_ascii_case(&user) && domain_matches(u, &domain, id))
        .ok_or(Refused("unknown account"))?;
    let key = ntowfv2(&account.password, &user, &domain);
    let expected = hmac_md5(&key, &[&pending.server_challenge, blob]);
    if !constant_time_eq(&expected, proof) {
        return Err(Refused("wrong password"));
    }
    let session_base_key = hmac_md5(&key, &[proof]);
    let exported_session_key = if flags & NEGOTIATE_KEY_EXCH != 0 && encrypted_key.len() == 16 {
        let mut k = [0u8; 16];
        k.copy_from_slice(encrypted_key);
        Rc4::new(&session_base_key).apply(&mut k);
        k
    } else {
        session_base_key
    };
    if mic_present(blob.get(28..).unwrap_or_default()) {
        check_mic(msg, flags, pending, &exported_session_key)?;
    }
    Ok(Logon {
        user: account.username.clone(),
        exported_session_key,
    })
}

/// A local account logs on with an empty domain, `.` or the computer name;
/// a domain account with its NetBIOS domain.
fn domain_matches(user: &PeerUser, sent: &str, id: &Identity) -> bool {
    match &user.domain {
        Some(d) => d.eq_ignore_ascii_case(sent),
        None => sent.is_empty() || sent == "." || sent.eq_ignore_ascii_case(&id.computer),
    }
}

fn mic_present(av_pairs: &[u8]) -> bool {
    let mut rest = av_pairs;
    while let (Some(id), Some(len)) = (u16_at(rest, 0), u16_at(rest, 2)) {
        let len = usize::from(len);
        let Some(value) = rest.get(4..4 + len) else {
            return false;
        };
        match id {
            AV_EOL => return false,
            AV_FLAGS => return u32_at(value, 0).is_some_and(|f| f & AV_FLAG_MIC != 0),
            _ => rest = rest.get(4 + len..).unwrap_or_default(),
        }
    }
    false
}

fn check_mic(msg: &[u8], flags: u32, pending: &Pending, key: &[u8; 16]) -> Result<(), Refused> {
    if flags & NEGOTIATE_VERSION == 0 {
        return Err(Refused("MIC announced without a version field"));
    }
    let sent = msg.get(72..88).ok_or(Refused("truncated MIC"))?;
    let mut zeroed = msg.to_vec();
    zeroed[72..88].fill(0);
    let mic = hmac_md5(key, &[&pending.negotiate, &pending.challenge, &zeroed]);
    if constant_time_eq(&mic, sent) {
        Ok(())
    } else {
        Err(Refused("MIC mismatch"))
    }
}

/// NTOWFv2 = HMAC-MD5(MD4(UTF-16LE(password)), UTF-16LE(UPPER(user) + domain)).
pub(crate) fn ntowfv2(password: &str, user: &str, domain: &str) -> [u8; 16] {
    let nt_hash: [u8; 16] = Md4::digest(utf16le(password)).into();
    let identity = format!("{}{domain}", user.to_uppercase());
    hmac_md5(&nt_hash, &[&utf16le(&identity)])
}

/// HMAC-MD5 (RFC 2104) over the concatenated parts, for 16-byte keys.
pub(crate) fn hmac_md5(key: &[u8; 16], parts: &[&[u8]]) -> [u8; 16] {
    let mut ipad = [0x36u8; 64];
    let mut opad = [0x5cu8; 64];
    for (i, k) in key.iter().enumerate() {
        ipad[i] ^= k;
        opad[i] ^= k;
    }
    let mut inner = Md5::new();
    inner.update(ipad);
    for part in parts {
        inner.update(part);
    }
    let mut outer = Md5::new();
    outer.update(opad);
    outer.update(inner.finalize());
    outer.finalize().into()
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn field(msg: &[u8], at: usize) -> Option<&[u8]> {
    let len = usize::from(u16_at(msg, at)?);
    let offset = usize::try_from(u32_at(msg, at + 4)?).ok()?;
    msg.get(offset..offset.checked_add(len)?)
}

fn security_buffer(out: &mut Vec<u8>, len: usize, offset: usize) {
    let len = u16::try_from(len).unwrap_or(u16::MAX).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&len);
    out.extend_from_slice(&u32::try_from(offset).unwrap_or(u32::MAX).to_le_bytes());
}

fn av(out: &mut Vec<u8>, id: u16, value: &[u8]) {
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&u16::try_from(value.len()).unwrap_or(u16::MAX).to_le_bytes());
    out.extend_from_slice(value);
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

pub(crate) fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

pub(crate) fn from_utf16le(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// Now as a Windows FILETIME (100 ns ticks since 1601-01-01), little-endian.
fn filetime_now() -> [u8; 8] {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let ticks =
        (unix.as_secs() + 11_644_473_600) * 10_000_000 + u64::from(unix.subsec_nanos() / 100);
    ticks.to_le_bytes()
}

#[cfg(test)]
#[path = "ntlm_tests.rs"]
mod tests;
