use super::*;

fn settings() -> EmailSettings {
    EmailSettings {
        host: "127.0.0.1".into(),
        port: 25,
        tls: EmailTls::Starttls,
        username: None,
        from: "OpsConductor <ops@example.com>".into(),
        default_to: vec!["oncall@example.com".into(), "lead@example.com".into()],
        ca_pem: None,
        timeout_secs: None,
    }
}

fn outgoing(to: Option<&str>) -> Outgoing {
    Outgoing {
        notification_id: uuid::Uuid::nil(),
        to: to.map(str::to_owned),
        subject: "Run failed: backup".into(),
        text: "plain body".into(),
        html: Some("<p>html body</p>".into()),
        data: serde_json::json!({}),
        tone: "failure",
        link: None,
    }
}

#[test]
fn the_message_is_multipart_alternative_with_a_stable_message_id() {
    let m = build_message(&settings(), &outgoing(Some("a@example.com"))).unwrap();
    let raw = String::from_utf8(m.formatted()).unwrap();
    assert!(raw.contains("multipart/alternative"), "{raw}");
    assert!(
        raw.contains("text/plain") && raw.contains("text/html"),
        "{raw}"
    );
    assert!(
        raw.contains("Message-ID: <00000000-0000-0000-0000-000000000000@example.com>"),
        "{raw}"
    );
    assert!(raw.contains("To: a@example.com"), "{raw}");
    assert!(!raw.contains("oncall@example.com"), "{raw}");
}

#[test]
fn without_a_recipient_the_defaults_are_used() {
    let m = build_message(&settings(), &outgoing(None)).unwrap();
    let to: Vec<String> = m.envelope().to().iter().map(ToString::to_string).collect();
    assert_eq!(to, ["oncall@example.com", "lead@example.com"]);
    let mut s = settings();
    s.default_to.clear();
    assert!(
        build_message(&s, &outgoing(None))
            .unwrap_err()
            .contains("no recipient")
    );
}

#[test]
fn a_bad_address_is_refused() {
    let e = build_message(&settings(), &outgoing(Some("not an address"))).unwrap_err();
    assert!(e.contains("invalid address"), "{e}");
}

#[tokio::test]
async fn a_refused_connection_is_transient_and_a_missing_password_permanent() {
    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut s = settings();
    s.port = port;
    s.tls = EmailTls::None;
    s.timeout_secs = Some(2);
    let doc = doc(s.clone());
    let e = EmailChannel
        .send(&doc, &ChannelSecrets::default(), &outgoing(None))
        .await
        .unwrap_err();
    assert!(e.transient, "{e}");

    s.username = Some("bot".into());
    let e = EmailChannel
        .send(&self::doc(s), &ChannelSecrets::default(), &outgoing(None))
        .await
        .unwrap_err();
    assert!(!e.transient, "{e}");
}

fn doc(s: EmailSettings) -> ChannelDoc {
    ChannelDoc {
        id: uuid::Uuid::nil(),
        name: "mail".into(),
        enabled: true,
        settings: ChannelSettings::Email(s),
        sealed_secrets: None,
        rate_limit: None,
        max_attempts: 3,
        allow_steps: false,
        revision: 1,
    }
}
