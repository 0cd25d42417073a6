//! Sealing against MS-NLMP 4.2.4.4 and against winrm-rs's own sealing.

use super::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Windows framing around a signature and ciphertext.
fn framed(length: usize, signature_and_cipher: &[u8], closing: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(BOUNDARY);
    out.extend_from_slice(PROTOCOL_PART);
    out.extend_from_slice(LENGTH_PREFIX);
    out.extend_from_slice(format!("{length}\r\n").as_bytes());
    out.extend_from_slice(BOUNDARY);
    out.extend_from_slice(OCTET_PART);
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(signature_and_cipher);
    out.extend_from_slice(closing);
    out
}

#[test]
fn the_specification_message_unseals() {
    let mut sec = SessionSecurity::new(&[0x55; 16]);
    let sealed = [
        hex("010000007fb38ec5c55d497600000000"),
        hex("54e50165bf1936dc996020c1811b0f06fb5f"),
    ]
    .concat();
    let plain = open(&framed(18, &sealed, CLOSING), &mut sec).unwrap();
    assert_eq!(plain, crate::ntlm::utf16le("Plaintext"));
}

#[test]
fn messages_sealed_by_winrm_rs_open_and_answers_unseal_there() {
    let key = [0x42; 16];
    let mut client = winrm_rs::NtlmSession::from_auth(&key);
    let mut server = SessionSecurity::new(&key);
    for round in 0..3 {
        let request = format!("<s:Envelope>request {round}</s:Envelope>");
        let body = framed(request.len(), &client.seal(request.as_bytes()), CLOSING);
        assert_eq!(open(&body, &mut server).unwrap(), request.as_bytes());

        let answer = format!("<s:Envelope>answer {round}</s:Envelope>");
        let wrapped = wrap(answer.as_bytes(), &mut server);
        let start = wrapped
            .windows(OCTET_PART.len())
            .position(|w| w == OCTET_PART)
            .unwrap()
            + OCTET_PART.len()
            + 4;
        let end = wrapped.len() - CLOSING.len();
        assert_eq!(
            client.unseal(&wrapped[start..end]).unwrap(),
            answer.as_bytes()
        );
    }
}

#[test]
fn a_crlf_before_the_closing_boundary_breaks_the_signature() {
    // winrm-rs 1.1 frames its requests this way; Windows answers HTTP 400.
    let key = [0x42; 16];
    let mut client = winrm_rs::NtlmSession::from_auth(&key);
    let mut server = SessionSecurity::new(&key);
    let body = framed(5, &client.seal(b"hello"), b"\r\n--Encrypted Boundary--\r\n");
    assert_eq!(
        open(&body, &mut server).unwrap_err(),
        SealError("signature mismatch")
    );
}

#[test]
fn tampering_and_replays_are_refused() {
    let key = [0x42; 16];
    let mut client = winrm_rs::NtlmSession::from_auth(&key);
    let mut server = SessionSecurity::new(&key);
    let sealed = client.seal(b"hello");
    let mut tampered = sealed.clone();
    *tampered.last_mut().unwrap() ^= 1;
    assert!(
        open(
            &framed(5, &tampered, CLOSING),
            &mut SessionSecurity::new(&key)
        )
        .is_err()
    );
    assert!(open(&framed(5, &sealed, CLOSING), &mut server).is_ok());
    assert_eq!(
        open(&framed(5, &sealed, CLOSING), &mut server).unwrap_err(),
        SealError("sequence number mismatch")
    );
}
