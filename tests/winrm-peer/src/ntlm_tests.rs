//! Known-answer tests from MS-NLMP 4.2.4 (NTLMv2 authentication).

use super::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn identity() -> Identity {
    Identity {
        computer: "Server".into(),
        domain: Some("Domain".into()),
    }
}

/// An AUTHENTICATE message with the MS-NLMP 4.2.4 inputs (time 0, client
/// challenge 0xaa.., random session key 0x55.. under key exchange).
fn spec_authenticate(proof: &[u8]) -> Vec<u8> {
    let mut blob = hex("0101000000000000" /* header */);
    blob.extend_from_slice(&[0; 8]);
    blob.extend_from_slice(&[0xaa; 8]);
    blob.extend_from_slice(&[0; 4]);
    blob.extend_from_slice(&hex(
        "02000c0044006f006d00610069006e0001000c005300650072007600650072000000000000000000",
    ));
    let nt: Vec<u8> = proof.iter().chain(&blob).copied().collect();
    let domain = utf16le("Domain");
    let user = utf16le("User");
    let key = hex("c5dad2544fc9799094ce1ce90bc9d03e");
    let flags: u32 = 0xe28a_8233;
    let mut msg = SIGNATURE.to_vec();
    msg.extend_from_slice(&3u32.to_le_bytes());
    let mut offset = 72;
    for field in [&[0u8; 24][..], &nt, &domain, &user, &[], &key] {
        security_buffer(&mut msg, field.len(), offset);
        offset += field.len();
    }
    msg.extend_from_slice(&flags.to_le_bytes());
    msg.extend_from_slice(&VERSION);
    for field in [&[0u8; 24][..], &nt, &domain, &user, &[], &key] {
        msg.extend_from_slice(field);
    }
    msg
}

fn spec_pending() -> Pending {
    Pending {
        negotiate: Vec::new(),
        challenge: Vec::new(),
        server_challenge: hex("0123456789abcdef").try_into().unwrap(),
    }
}

fn spec_user(password: &str) -> Vec<PeerUser> {
    vec![PeerUser {
        username: "User".into(),
        password: password.into(),
        domain: Some("Domain".into()),
    }]
}

#[test]
fn ntowfv2_matches_the_specification() {
    assert_eq!(
        ntowfv2("Password", "User", "Domain").to_vec(),
        hex("0c868a403bfd7a93a3001ef22ef02e3f")
    );
}

#[test]
fn hmac_md5_matches_rfc_2202() {
    let mac = hmac_md5(&[0x0b; 16], &[b"Hi ", b"There"]);
    assert_eq!(mac.to_vec(), hex("9294727a3638bb1c13f48ef8158bfc9d"));
}

#[test]
fn the_specification_response_logs_on_and_yields_its_session_key() {
    let msg = spec_authenticate(&hex("68cd0ab851e51c96aabc927bebef6a1c"));
    let logon = authenticate(&msg, &spec_pending(), &spec_user("Password"), &identity()).unwrap();
    assert_eq!(logon.user, "User");
    assert_eq!(logon.exported_session_key, [0x55; 16]);
}

#[test]
fn a_wrong_password_or_domain_or_proof_is_refused() {
    let msg = spec_authenticate(&hex("68cd0ab851e51c96aabc927bebef6a1c"));
    let wrong = authenticate(&msg, &spec_pending(), &spec_user("password"), &identity());
    assert_eq!(wrong.unwrap_err(), Refused("wrong password"));
    let other_domain = vec![PeerUser {
        domain: Some("OTHER".into()),
        ..spec_user("Password")[0].clone()
    }];
    let unknown = authenticate(&msg, &spec_pending(), &other_domain, &identity());
    assert_eq!(unknown.unwrap_err(), Refused("unknown account"));
    let tampered = spec_authenticate(&hex("68cd0ab851e51c96aabc927bebef6a1d"));
    assert!(
        authenticate(
            &tampered,
            &spec_pending(),
            &spec_user("Password"),
            &identity()
        )
        .is_err()
    );
}

#[test]
fn the_challenge_answers_the_negotiate_with_target_info() {
    let negotiate = [
        &SIGNATURE[..],
        &1u32.to_le_bytes(),
        &0xe208_8297u32.to_le_bytes(),
        &[0; 16],
    ]
    .concat();
    let pending = challenge(&negotiate, &identity()).unwrap();
    let msg = pending.message();
    assert_eq!(message_type(msg), Some(2));
    let flags = u32_at(msg, 20).unwrap();
    assert_ne!(flags & NEGOTIATE_TARGET_INFO, 0);
    assert_ne!(flags & NEGOTIATE_KEY_EXCH, 0);
    let info = field(msg, 40).unwrap();
    assert!(info.windows(12).any(|w| w == utf16le("Server").as_slice()));
    assert_eq!(&msg[24..32], &pending.server_challenge);
    assert!(challenge(b"NTLMSSP\0\x03\0\0\0", &identity()).is_err());
}
