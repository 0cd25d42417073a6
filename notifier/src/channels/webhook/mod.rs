//! `webhook`: a JSON payload POSTed to the channel's URL with its headers
//! and secret headers, signed exactly like `webhook.call`
//! ([`opsc_proto::signing`]): `x-opsconductor-timestamp`,
//! `x-opsconductor-delivery` (the notification id, the same on every
//! attempt) and `x-opsconductor-signature: sha256=<hex HMAC-SHA256(secret,
//! "<timestamp>.<body>")>`, so a receiver can verify it and refuse replays.
//! 2xx is delivered; 408, 429, 5xx and connection failures are transient;
//! any other answer (redirects included: none is followed) is permanent.

use opsc_proto::notify::{ChannelDoc, ChannelSecrets, ChannelSettings};
use opsc_proto::signing::{
    DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature, signed_message,
};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::json;

use super::http::post_json;
use super::{Channel, Outgoing, SendError, Sent};

/// The webhook channel.
#[derive(Debug, Default, Clone, Copy)]
pub struct WebhookChannel;

/// The JSON body of a delivery.
pub fn payload(msg: &Outgoing) -> serde_json::Value {
    json!({
        "id": msg.notification_id,
        "subject": msg.subject,
        "text": msg.text,
        "data": msg.data,
        "link": msg.link,
        "tone": msg.tone,
    })
}

/// The headers of one attempt: the channel's, then its secret ones, then
/// ours (which win over same-named ones).
pub fn headers(
    public: &std::collections::BTreeMap<String, String>,
    secrets: &ChannelSecrets,
    msg: &Outgoing,
    timestamp: &str,
    body: &[u8],
) -> Result<HeaderMap, SendError> {
    let mut map = HeaderMap::new();
    for (name, value, secret) in public
        .iter()
        .map(|(n, v)| (n, v, false))
        .chain(secrets.headers.iter().map(|(n, v)| (n, v, true)))
    {
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            SendError::permanent(format!("header {name:?}: not a valid name"), secrets)
        })?;
        let mut value = HeaderValue::from_str(value).map_err(|_| {
            SendError::permanent(format!("header {name}: not a valid value"), secrets)
        })?;
        value.set_sensitive(secret);
        map.insert(name, value);
    }
    let ours = |v: &str| {
        HeaderValue::from_str(v)
            .map_err(|_| SendError::permanent("not a valid header value", secrets))
    };
    map.insert(TIMESTAMP_HEADER, ours(timestamp)?);
    map.insert(DELIVERY_HEADER, ours(&msg.notification_id.to_string())?);
    if let Some(secret) = secrets.signing_secret.as_deref().filter(|s| !s.is_empty()) {
        let sig = signature(secret, &signed_message(timestamp, body));
        map.insert(SIGNATURE_HEADER, ours(&sig)?);
    }
    Ok(map)
}

#[async_trait::async_trait]
impl Channel for WebhookChannel {
    async fn send(
        &self,
        doc: &ChannelDoc,
        secrets: &ChannelSecrets,
        msg: &Outgoing,
    ) -> Result<Sent, SendError> {
        let ChannelSettings::Webhook(settings) = &doc.settings else {
            return Err(SendError::permanent("not a webhook channel", secrets));
        };
        let url = reqwest::Url::parse(&settings.url)
            .map_err(|e| SendError::permanent(format!("url: {e}"), secrets))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SendError::permanent("url: must be http or https", secrets));
        }
        let body = serde_json::to_vec(&payload(msg))
            .map_err(|e| SendError::permanent(format!("payload: {e}"), secrets))?;
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let headers = headers(&settings.headers, secrets, msg, &timestamp, &body)?;
        let (status, _) = post_json("webhook", url.as_str(), headers, body, secrets).await?;
        Ok(Sent {
            provider_id: Some(format!("HTTP {}", status.as_u16())),
        })
    }
}

#[cfg(test)]
mod tests;
