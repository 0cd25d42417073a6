//! `teams`: an incoming webhook (the URL is a secret) carrying an Adaptive
//! Card 1.4 (title, text, facts from the message data, a button to the
//! console), with the top-level `summary` and `text` the legacy Office 365
//! connector insists on ("Summary or Text is required"). 2xx is delivered;
//! 408, 429, 5xx and connection failures are transient.

use opsc_proto::notify::{ChannelDoc, ChannelSecrets, ChannelSettings};
use serde_json::{Value, json};

use super::http::{post_json, truncate_chars};
use super::{Channel, Outgoing, SendError, Sent};

/// Facts shown on a card at most.
pub const MAX_FACTS: usize = 12;
/// Characters of one fact's value at most.
const MAX_FACT_VALUE: usize = 200;

/// The Teams channel.
#[derive(Debug, Default, Clone, Copy)]
pub struct TeamsChannel;

/// The card's colour for a tone.
fn colour(tone: &str) -> &'static str {
    match tone {
        "failure" => "Attention",
        "success" => "Good",
        _ => "Default",
    }
}

/// Facts from the message data: its scalar fields, and those one level
/// down as `parent.child`, in order, at most [`MAX_FACTS`].
pub fn facts(data: &Value) -> Vec<(String, String)> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let mut out = Vec::new();
    let Value::Object(map) = data else {
        return out;
    };
    for (k, v) in map {
        if let Some(s) = scalar(v) {
            out.push((k.clone(), s));
        } else if let Value::Object(inner) = v {
            for (k2, v2) in inner {
                if let Some(s) = scalar(v2) {
                    out.push((format!("{k}.{k2}"), s));
                }
            }
        }
    }
    out.truncate(MAX_FACTS);
    out.into_iter()
        .map(|(k, v)| (k, truncate_chars(&v, MAX_FACT_VALUE)))
        .collect()
}

/// The message: an Adaptive Card attachment plus `summary` and `text`.
pub fn payload(msg: &Outgoing) -> Value {
    let mut body = vec![
        json!({"type": "TextBlock", "text": msg.subject, "weight": "Bolder", "size": "Medium",
               "wrap": true, "color": colour(msg.tone)}),
        json!({"type": "TextBlock", "text": msg.text, "wrap": true}),
    ];
    let facts = facts(&msg.data);
    if !facts.is_empty() {
        let facts: Vec<Value> = facts
            .into_iter()
            .map(|(title, value)| json!({"title": title, "value": value}))
            .collect();
        body.push(json!({"type": "FactSet", "facts": facts}));
    }
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "msteams": {"width": "Full"},
    });
    if let Some(link) = &msg.link {
        card["actions"] =
            json!([{"type": "Action.OpenUrl", "title": "Open in OpsConductor", "url": link}]);
    }
    json!({
        "type": "message",
        "summary": truncate_chars(&msg.subject, 150),
        "text": truncate_chars(&msg.text, 1000),
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }],
    })
}

#[async_trait::async_trait]
impl Channel for TeamsChannel {
    async fn send(
        &self,
        doc: &ChannelDoc,
        secrets: &ChannelSecrets,
        msg: &Outgoing,
    ) -> Result<Sent, SendError> {
        let ChannelSettings::Teams(_) = &doc.settings else {
            return Err(SendError::permanent("not a Teams channel", secrets));
        };
        let Some(url) = secrets.webhook_url.as_deref().filter(|u| !u.is_empty()) else {
            return Err(SendError::permanent(
                "the channel has no webhook URL",
                secrets,
            ));
        };
        let body = serde_json::to_vec(&payload(msg))
            .map_err(|e| SendError::permanent(format!("payload: {e}"), secrets))?;
        let (status, answer) = post_json(
            "Teams",
            url,
            reqwest::header::HeaderMap::new(),
            body,
            secrets,
        )
        .await?;
        Ok(Sent {
            provider_id: Some(
                format!(
                    "HTTP {} {}",
                    status.as_u16(),
                    super::http::excerpt(&super::redact(&answer, secrets))
                )
                .trim()
                .to_owned(),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_card_has_the_adaptive_envelope_and_a_summary() {
        let msg = Outgoing {
            notification_id: uuid::Uuid::nil(),
            to: None,
            subject: "Run failed: backup".into(),
            text: "step copy exited 2".into(),
            html: None,
            data: json!({"status": "failed", "job": {"name": "backup", "tags": ["a"]}, "n": 3}),
            tone: "failure",
            link: Some("https://console/runs/1".into()),
        };
        let p = payload(&msg);
        assert_eq!(p["type"], "message");
        assert_eq!(p["summary"], "Run failed: backup");
        assert_eq!(p["text"], "step copy exited 2");
        let a = &p["attachments"][0];
        assert_eq!(a["contentType"], "application/vnd.microsoft.card.adaptive");
        let card = &a["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["version"], "1.4");
        assert_eq!(card["body"][0]["text"], "Run failed: backup");
        assert_eq!(card["body"][0]["color"], "Attention");
        assert_eq!(card["body"][2]["type"], "FactSet");
        let facts = card["body"][2]["facts"].as_array().unwrap();
        let mut titles: Vec<&str> = facts.iter().map(|f| f["title"].as_str().unwrap()).collect();
        titles.sort_unstable();
        assert_eq!(titles, ["job.name", "n", "status"]);
        assert_eq!(card["actions"][0]["type"], "Action.OpenUrl");
        assert_eq!(card["actions"][0]["url"], "https://console/runs/1");
    }
}
