use std::collections::BTreeMap;

use super::*;

fn outgoing() -> Outgoing {
    Outgoing {
        notification_id: uuid::Uuid::from_u128(7),
        to: None,
        subject: "Run failed".into(),
        text: "backup failed".into(),
        html: None,
        data: json!({"job": {"name": "backup"}}),
        tone: "failure",
        link: Some("https://console/runs/1".into()),
    }
}

#[test]
fn the_payload_has_the_documented_fields() {
    let p = payload(&outgoing());
    assert_eq!(p["id"], json!(uuid::Uuid::from_u128(7)));
    assert_eq!(p["subject"], "Run failed");
    assert_eq!(p["text"], "backup failed");
    assert_eq!(p["data"]["job"]["name"], "backup");
    assert_eq!(p["link"], "https://console/runs/1");
    assert_eq!(p["tone"], "failure");
}

#[test]
fn the_signature_covers_timestamp_and_body_and_ours_win() {
    let secrets = ChannelSecrets {
        signing_secret: Some("s3cret".into()),
        headers: BTreeMap::from([("Authorization".into(), "Bearer tok".into())]),
        ..ChannelSecrets::default()
    };
    let public = BTreeMap::from([
        ("X-Team".to_owned(), "ops".to_owned()),
        (DELIVERY_HEADER.to_owned(), "forged".to_owned()),
    ]);
    let body = br#"{"a":1}"#;
    let h = headers(&public, &secrets, &outgoing(), "1700000000", body).unwrap();
    assert_eq!(h["x-team"], "ops");
    assert_eq!(h["authorization"], "Bearer tok");
    assert!(h["authorization"].is_sensitive());
    assert_eq!(h[DELIVERY_HEADER], uuid::Uuid::from_u128(7).to_string());
    assert_eq!(h[TIMESTAMP_HEADER], "1700000000");
    let expected = signature("s3cret", b"1700000000.{\"a\":1}");
    assert_eq!(h[SIGNATURE_HEADER], expected.as_str());

    let unsigned = headers(&public, &ChannelSecrets::default(), &outgoing(), "1", body).unwrap();
    assert!(unsigned.get(SIGNATURE_HEADER).is_none());
}

#[test]
fn a_bad_secret_header_never_shows_its_value() {
    let secrets = ChannelSecrets {
        headers: BTreeMap::from([("Authorization".into(), "tok\nen".into())]),
        ..ChannelSecrets::default()
    };
    let e = headers(&BTreeMap::new(), &secrets, &outgoing(), "1", b"{}").unwrap_err();
    assert!(!e.transient);
    assert!(!e.message.contains("tok"), "{e}");
}
