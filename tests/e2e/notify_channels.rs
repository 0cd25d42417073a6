//! The notifier's four channels driven directly against protocol-faithful
//! peers: a real SMTP server (aiosmtpd) with STARTTLS and authentication,
//! a local Slack Web API and incoming webhook reached by slack-morphism,
//! a Teams incoming webhook checking the Adaptive Card, and a receiver
//! verifying the webhook signature. Wrong credentials and 4xx answers are
//! permanent, fail-N answers transient, and no secret shows in an error.

use std::collections::BTreeMap;
use std::time::Duration;

use opsc_notifier::channels::{Outgoing, SendError, registry};
use opsc_notify_peers::{
    SlackFailure, SlackPeer, SlackVia, SmtpPeer, SmtpTls, TeamsPeer, WebhookPeer,
};
use opsc_proto::notify::{
    ChannelDoc, ChannelKind, ChannelSecrets, ChannelSettings, EmailSettings, EmailTls, SlackMode,
    SlackSettings, TeamsSettings, WebhookSettings,
};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

fn doc(settings: ChannelSettings) -> ChannelDoc {
    ChannelDoc {
        id: uuid::Uuid::now_v7(),
        name: "test".into(),
        enabled: true,
        settings,
        sealed_secrets: None,
        rate_limit: None,
        max_attempts: 3,
        allow_steps: false,
        revision: 1,
    }
}

fn outgoing(to: Option<&str>) -> Outgoing {
    Outgoing {
        notification_id: uuid::Uuid::now_v7(),
        to: to.map(str::to_owned),
        subject: "Run failed: nightly-backup".into(),
        text: "Step copy exited with 2.".into(),
        html: Some("<p>Step <b>copy</b> exited with 2.</p>".into()),
        data: json!({"status": "failed", "job": {"name": "nightly-backup"}, "run": {"id": "r-1"}}),
        tone: "failure",
        link: Some("https://console.example/runs/r-1".into()),
    }
}

async fn send(
    kind: ChannelKind,
    doc: &ChannelDoc,
    secrets: &ChannelSecrets,
    msg: &Outgoing,
) -> Result<opsc_notifier::channels::Sent, SendError> {
    let r = registry();
    r[&kind].send(doc, secrets, msg).await
}

fn assert_clean(e: &SendError, secrets: &ChannelSecrets) {
    for s in secrets.values() {
        assert!(!e.message.contains(s), "a secret shows in {e}");
    }
}

fn email(peer: &SmtpPeer, username: Option<&str>) -> ChannelDoc {
    doc(ChannelSettings::Email(EmailSettings {
        host: peer.host().into(),
        port: peer.port(),
        tls: EmailTls::Starttls,
        username: username.map(str::to_owned),
        from: "OpsConductor <ops@example.com>".into(),
        default_to: vec!["oncall@example.com".into()],
        ca_pem: peer.ca_pem().map(str::to_owned),
        timeout_secs: Some(10),
    }))
}

#[tokio::test]
async fn email_goes_through_starttls_with_authentication() {
    let peer = SmtpPeer::start(SmtpTls::Starttls, Some(("opsbot", "smtp-pass-1")))
        .await
        .unwrap();
    let doc = email(&peer, Some("opsbot"));
    let secrets = ChannelSecrets {
        password: Some("smtp-pass-1".into()),
        ..ChannelSecrets::default()
    };
    let msg = outgoing(Some("alice@example.com"));
    let sent = send(ChannelKind::Email, &doc, &secrets, &msg)
        .await
        .unwrap();
    assert!(sent.provider_id.unwrap().starts_with("250"));
    let got = peer.wait_for(1, WAIT).await.unwrap();
    let m = &got[0];
    assert!(m.tls, "the message came in the clear");
    assert_eq!(m.auth_user.as_deref(), Some("opsbot"));
    assert_eq!(m.rcpt_to, ["alice@example.com"]);
    assert_eq!(m.mail_from, "ops@example.com");
    assert_eq!(m.subject.as_deref(), Some("Run failed: nightly-backup"));
    assert_eq!(m.content_type.as_deref(), Some("multipart/alternative"));
    assert!(
        m.text
            .as_deref()
            .unwrap()
            .contains("Step copy exited with 2.")
    );
    assert!(m.html.as_deref().unwrap().contains("<b>copy</b>"));
    assert_eq!(
        m.message_id.as_deref(),
        Some(format!("{}@example.com", msg.notification_id).as_str())
    );

    // The channel's default recipients when the message names none.
    send(ChannelKind::Email, &doc, &secrets, &outgoing(None))
        .await
        .unwrap();
    let got = peer.wait_for(2, WAIT).await.unwrap();
    assert_eq!(got[1].rcpt_to, ["oncall@example.com"]);

    // A wrong password is permanent (535) and does not show.
    let wrong = ChannelSecrets {
        password: Some("not-the-password".into()),
        ..ChannelSecrets::default()
    };
    let e = send(ChannelKind::Email, &doc, &wrong, &msg)
        .await
        .unwrap_err();
    assert!(!e.transient, "{e}");
    assert_clean(&e, &wrong);

    // 5xx for a recipient is permanent, 4xx transient.
    let e = send(
        ChannelKind::Email,
        &doc,
        &secrets,
        &outgoing(Some("reject5xx@example.com")),
    )
    .await
    .unwrap_err();
    assert!(!e.transient, "{e}");
    let e = send(
        ChannelKind::Email,
        &doc,
        &secrets,
        &outgoing(Some("busy4xx@example.com")),
    )
    .await
    .unwrap_err();
    assert!(e.transient, "{e}");
    assert_eq!(peer.messages().unwrap().len(), 2);
}

#[tokio::test]
async fn email_refuses_an_untrusted_certificate_and_a_server_without_starttls() {
    let peer = SmtpPeer::start(SmtpTls::Starttls, None).await.unwrap();
    let mut untrusted = email(&peer, None);
    if let ChannelSettings::Email(s) = &mut untrusted.settings {
        s.ca_pem = None;
    }
    let e = send(
        ChannelKind::Email,
        &untrusted,
        &ChannelSecrets::default(),
        &outgoing(None),
    )
    .await
    .unwrap_err();
    assert!(!e.transient, "{e}");
    assert!(peer.messages().unwrap().is_empty());

    // STARTTLS is required: a plain server is refused, nothing is sent.
    let plain = SmtpPeer::start(SmtpTls::None, None).await.unwrap();
    let doc = email(&plain, None);
    let e = send(
        ChannelKind::Email,
        &doc,
        &ChannelSecrets::default(),
        &outgoing(None),
    )
    .await
    .unwrap_err();
    assert!(!e.transient, "{e}");
    assert!(plain.messages().unwrap().is_empty());
    // With tls: none the same server takes it.
    let mut none = doc.clone();
    if let ChannelSettings::Email(s) = &mut none.settings {
        s.tls = EmailTls::None;
    }
    send(
        ChannelKind::Email,
        &none,
        &ChannelSecrets::default(),
        &outgoing(None),
    )
    .await
    .unwrap();
    let got = plain.wait_for(1, WAIT).await.unwrap();
    assert!(!got[0].tls);
}

#[tokio::test]
async fn email_over_implicit_tls() {
    let peer = SmtpPeer::start(SmtpTls::Implicit, None).await.unwrap();
    let mut doc = email(&peer, None);
    if let ChannelSettings::Email(s) = &mut doc.settings {
        s.tls = EmailTls::Implicit;
    }
    send(
        ChannelKind::Email,
        &doc,
        &ChannelSecrets::default(),
        &outgoing(None),
    )
    .await
    .unwrap();
    let got = peer.wait_for(1, WAIT).await.unwrap();
    assert!(got[0].tls);
}

#[tokio::test]
async fn slack_bot_posts_block_kit_through_slack_morphism() {
    let peer = SlackPeer::start().await.unwrap();
    let doc = doc(ChannelSettings::Slack(SlackSettings {
        mode: SlackMode::Bot,
        default_channel: Some("C0DEFAULT".into()),
        api_url: Some(peer.api_url()),
    }));
    let secrets = ChannelSecrets {
        token: Some(peer.token().to_owned()),
        ..ChannelSecrets::default()
    };
    let sent = send(ChannelKind::Slack, &doc, &secrets, &outgoing(Some("C0OPS")))
        .await
        .unwrap();
    let posts = peer.wait_for(1, WAIT).await;
    let p = &posts[0];
    assert_eq!(p.via, SlackVia::Bot);
    assert_eq!(p.channel.as_deref(), Some("C0OPS"));
    assert_eq!(sent.provider_id, p.ts);
    assert!(
        p.text
            .as_deref()
            .unwrap()
            .contains("Run failed: nightly-backup")
    );
    let types: Vec<&str> = p
        .blocks
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["header", "section", "context"]);
    assert!(
        p.blocks[2]["elements"][0]["text"]
            .as_str()
            .unwrap()
            .contains("https://console.example/runs/r-1")
    );

    // The default channel when the message has none.
    send(ChannelKind::Slack, &doc, &secrets, &outgoing(None))
        .await
        .unwrap();
    assert_eq!(
        peer.wait_for(2, WAIT).await[1].channel.as_deref(),
        Some("C0DEFAULT")
    );

    // invalid_auth and channel_not_found are permanent; the token never shows.
    let wrong = ChannelSecrets {
        token: Some("xoxb-wrong-token-123".into()),
        ..ChannelSecrets::default()
    };
    let e = send(ChannelKind::Slack, &doc, &wrong, &outgoing(None))
        .await
        .unwrap_err();
    assert!(!e.transient && e.message.contains("invalid_auth"), "{e}");
    assert_clean(&e, &wrong);
    let e = send(
        ChannelKind::Slack,
        &doc,
        &secrets,
        &outgoing(Some("C404NOPE")),
    )
    .await
    .unwrap_err();
    assert!(
        !e.transient && e.message.contains("channel_not_found"),
        "{e}"
    );

    // 503 and ratelimited are transient; then it goes through.
    peer.fail_next(1, SlackFailure::Unavailable);
    let e = send(ChannelKind::Slack, &doc, &secrets, &outgoing(None))
        .await
        .unwrap_err();
    assert!(e.transient, "{e}");
    assert_clean(&e, &secrets);
    peer.fail_next(1, SlackFailure::RateLimited);
    let e = send(ChannelKind::Slack, &doc, &secrets, &outgoing(None))
        .await
        .unwrap_err();
    assert!(e.transient, "{e}");
    send(ChannelKind::Slack, &doc, &secrets, &outgoing(None))
        .await
        .unwrap();
    assert_eq!(peer.posts().len(), 3);
}

#[tokio::test]
async fn slack_incoming_webhook_gets_the_same_blocks() {
    let peer = SlackPeer::start().await.unwrap();
    let doc = doc(ChannelSettings::Slack(SlackSettings {
        mode: SlackMode::Webhook,
        default_channel: None,
        api_url: None,
    }));
    let secrets = ChannelSecrets {
        webhook_url: Some(peer.webhook_url()),
        ..ChannelSecrets::default()
    };
    send(ChannelKind::Slack, &doc, &secrets, &outgoing(None))
        .await
        .unwrap();
    let posts = peer.wait_for(1, WAIT).await;
    assert_eq!(posts[0].via, SlackVia::Webhook);
    assert_eq!(posts[0].blocks[0]["type"], "header");

    // A wrong webhook URL (403) is permanent and its token never shows.
    let wrong = ChannelSecrets {
        webhook_url: Some(format!("{}-stale", peer.webhook_url())),
        ..ChannelSecrets::default()
    };
    let e = send(ChannelKind::Slack, &doc, &wrong, &outgoing(None))
        .await
        .unwrap_err();
    assert!(!e.transient, "{e}");
    assert_clean(&e, &wrong);
    peer.fail_next(1, SlackFailure::Unavailable);
    let e = send(ChannelKind::Slack, &doc, &secrets, &outgoing(None))
        .await
        .unwrap_err();
    assert!(e.transient, "{e}");
    assert_clean(&e, &secrets);
}

#[tokio::test]
async fn teams_receives_an_adaptive_card() {
    let peer = TeamsPeer::start().await.unwrap();
    let doc = doc(ChannelSettings::Teams(TeamsSettings {}));
    let secrets = ChannelSecrets {
        webhook_url: Some(peer.webhook_url()),
        ..ChannelSecrets::default()
    };
    send(ChannelKind::Teams, &doc, &secrets, &outgoing(None))
        .await
        .unwrap();
    let posts = peer.wait_for(1, WAIT).await;
    assert!(peer.refused().is_empty(), "{:?}", peer.refused());
    let card = &posts[0].card;
    assert_eq!(card["version"], "1.4");
    assert_eq!(card["body"][0]["text"], "Run failed: nightly-backup");
    assert_eq!(
        card["actions"][0]["url"],
        "https://console.example/runs/r-1"
    );
    assert_eq!(posts[0].body["summary"], "Run failed: nightly-backup");

    peer.fail_next(1, 503);
    let e = send(ChannelKind::Teams, &doc, &secrets, &outgoing(None))
        .await
        .unwrap_err();
    assert!(e.transient, "{e}");
    assert_clean(&e, &secrets);
    peer.fail_next(1, 429);
    assert!(
        send(ChannelKind::Teams, &doc, &secrets, &outgoing(None))
            .await
            .unwrap_err()
            .transient
    );
    peer.fail_next(1, 400);
    let e = send(ChannelKind::Teams, &doc, &secrets, &outgoing(None))
        .await
        .unwrap_err();
    assert!(!e.transient, "{e}");
    // A URL whose token is wrong: 404, permanent, and the URL never shows.
    let wrong = ChannelSecrets {
        webhook_url: Some(
            peer.webhook_url()
                .replace("/IncomingWebhook", "x/IncomingWebhook"),
        ),
        ..ChannelSecrets::default()
    };
    let e = send(ChannelKind::Teams, &doc, &wrong, &outgoing(None))
        .await
        .unwrap_err();
    assert!(!e.transient, "{e}");
    assert_clean(&e, &wrong);
}

#[tokio::test]
async fn webhook_signature_is_verified_by_the_receiver() {
    let peer = WebhookPeer::start("whsec-signing-1").await.unwrap();
    let doc = doc(ChannelSettings::Webhook(WebhookSettings {
        url: peer.url(),
        headers: BTreeMap::from([("X-Team".to_owned(), "ops".to_owned())]),
    }));
    let secrets = ChannelSecrets {
        signing_secret: Some("whsec-signing-1".into()),
        headers: BTreeMap::from([("Authorization".to_owned(), "Bearer hdr-secret-9".to_owned())]),
        ..ChannelSecrets::default()
    };
    let msg = outgoing(None);
    send(ChannelKind::Webhook, &doc, &secrets, &msg)
        .await
        .unwrap();
    let got = peer.wait_for(1, WAIT).await;
    assert!(peer.refused().is_empty(), "{:?}", peer.refused());
    let d = &got[0];
    assert_eq!(
        d.delivery.as_deref(),
        Some(msg.notification_id.to_string().as_str())
    );
    assert_eq!(d.header("x-team"), Some("ops"));
    assert_eq!(d.header("authorization"), Some("Bearer hdr-secret-9"));
    assert_eq!(d.body["id"], json!(msg.notification_id));
    assert_eq!(d.body["subject"], "Run failed: nightly-backup");
    assert_eq!(d.body["data"]["job"]["name"], "nightly-backup");
    assert_eq!(d.body["tone"], "failure");

    // Signed with another secret: the receiver refuses (401, permanent).
    let other = ChannelSecrets {
        signing_secret: Some("not-the-secret".into()),
        ..ChannelSecrets::default()
    };
    let e = send(ChannelKind::Webhook, &doc, &other, &msg)
        .await
        .unwrap_err();
    assert!(!e.transient, "{e}");
    assert_clean(&e, &other);
    assert_eq!(peer.refused().len(), 1);

    // fail-N: transient, then delivered with the same delivery id.
    peer.fail_next(2);
    for _ in 0..2 {
        let e = send(ChannelKind::Webhook, &doc, &secrets, &msg)
            .await
            .unwrap_err();
        assert!(e.transient, "{e}");
        assert_clean(&e, &secrets);
    }
    send(ChannelKind::Webhook, &doc, &secrets, &msg)
        .await
        .unwrap();
    let got = peer.wait_for(2, WAIT).await;
    assert_eq!(got[1].delivery, got[0].delivery);
    // A redirect is not followed: permanent.
    peer.fail_next_with(1, 302);
    assert!(
        !send(ChannelKind::Webhook, &doc, &secrets, &msg)
            .await
            .unwrap_err()
            .transient
    );
}

#[tokio::test]
async fn the_receiver_refuses_a_replayed_delivery() {
    let peer = WebhookPeer::start("whsec-2").await.unwrap();
    let body = br#"{"id":"x"}"#.to_vec();
    let old = (chrono::Utc::now().timestamp() - 600).to_string();
    let sig = opsc_proto::signing::signature(
        "whsec-2",
        &opsc_proto::signing::signed_message(&old, &body),
    );
    let r = reqwest::Client::new()
        .post(peer.url())
        .header("x-opsconductor-timestamp", &old)
        .header("x-opsconductor-signature", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(peer.deliveries().is_empty());
    assert!(peer.refused()[0].reason.contains("replay"));
}
