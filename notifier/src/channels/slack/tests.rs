use super::*;
use slack_morphism::errors::{SlackClientApiError, SlackClientHttpError};

fn outgoing(link: Option<&str>) -> Outgoing {
    Outgoing {
        notification_id: uuid::Uuid::nil(),
        to: Some("C123".into()),
        subject: "Run failed: backup".into(),
        text: "step *copy* exited 2".into(),
        html: None,
        data: serde_json::json!({}),
        tone: "failure",
        link: link.map(str::to_owned),
    }
}

#[test]
fn the_blocks_are_header_section_and_context() {
    let c = content(&outgoing(Some("https://console/runs/1")));
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(v["text"], "Run failed: backup: step *copy* exited 2");
    let blocks = v["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    assert!(
        blocks[0]["text"]["text"]
            .as_str()
            .unwrap()
            .ends_with("Run failed: backup")
    );
    assert_eq!(blocks[1]["type"], "section");
    assert_eq!(blocks[1]["text"]["type"], "mrkdwn");
    assert_eq!(blocks[1]["text"]["text"], "step *copy* exited 2");
    assert_eq!(blocks[2]["type"], "context");
    assert_eq!(
        blocks[2]["elements"][0]["text"],
        "<https://console/runs/1|Open in OpsConductor>"
    );
    let v = serde_json::to_value(content(&outgoing(None))).unwrap();
    assert_eq!(v["blocks"].as_array().unwrap().len(), 2);
}

#[test]
fn errors_are_classified_and_redacted() {
    let secrets = ChannelSecrets {
        webhook_url: Some("https://hooks.example/T/B/XYZ".into()),
        ..ChannelSecrets::default()
    };
    let api = |code: &str| SlackClientError::ApiError(SlackClientApiError::new(code.to_owned()));
    assert!(classify(&api("ratelimited"), &secrets).transient);
    assert!(!classify(&api("channel_not_found"), &secrets).transient);
    assert!(!classify(&api("invalid_auth"), &secrets).transient);
    let http = |status: u16, body: &str| {
        SlackClientError::HttpError(
            SlackClientHttpError::new(reqwest::StatusCode::from_u16(status).unwrap())
                .with_http_response_body(body.to_owned()),
        )
    };
    assert!(classify(&http(503, ""), &secrets).transient);
    let e = classify(
        &http(404, "no_service at https://hooks.example/T/B/XYZ"),
        &secrets,
    );
    assert!(!e.transient);
    assert!(!e.message.contains("XYZ"), "{e}");
}

#[test]
fn output_cannot_mention_everyone_or_disguise_a_link() {
    assert_eq!(
        super::escape("<!channel> <https://evil|Open> a&b"),
        "&lt;!channel&gt; &lt;https://evil|Open&gt; a&amp;b"
    );
}
