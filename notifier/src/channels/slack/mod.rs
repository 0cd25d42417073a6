//! `slack` with `slack-morphism` (hyper connector, rustls with ring): in
//! bot mode `chat.postMessage` with Block Kit blocks (header, the text,
//! a context line with the link) and a `text` fallback, to the message's
//! channel or member id or the channel's default; in webhook mode the same
//! blocks to the incoming-webhook URL (a secret). The Web API base URL is
//! the channel's `api_url` (Slack's by default).
//!
//! `ratelimited`, Slack's internal errors, 429, 5xx and connection
//! failures are transient; other errors (`channel_not_found`,
//! `invalid_auth`, a 4xx from a webhook) are permanent.

use std::sync::OnceLock;
use std::time::Duration;

use opsc_proto::notify::{ChannelDoc, ChannelSecrets, ChannelSettings, SlackMode, SlackSettings};
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;

use super::http::truncate_chars;
use super::{Channel, Outgoing, SendError, Sent};

/// Slack's Web API.
pub const DEFAULT_API_URL: &str = "https://slack.com/api";
/// Time for one Slack request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Slack error codes worth another attempt.
const TRANSIENT_CODES: [&str; 5] = [
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
];

type Connector = SlackClientHyperHttpsConnector;

/// The Slack channel.
#[derive(Debug, Default)]
pub struct SlackChannel {
    connector: OnceLock<Connector>,
}

impl SlackChannel {
    /// The hyper connector, built once: ring, the system's roots, HTTP/1.1
    /// and HTTP/2; `http://` allowed for Slack-compatible gateways and
    /// tests (the api's validation decides which URLs a channel may have).
    fn connector(&self) -> Connector {
        if let Some(c) = self.connector.get() {
            return c.clone();
        }
        let provider = tokio_rustls::rustls::crypto::ring::default_provider();
        let https = match hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
        {
            Ok(b) => b.https_or_http().enable_http1().enable_http2().build(),
            Err(e) => {
                tracing::warn!(error = %e, "No system root certificates: Slack over HTTPS will fail.");
                let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(
                    std::sync::Arc::new(tokio_rustls::rustls::crypto::ring::default_provider()),
                )
                .with_safe_default_protocol_versions()
                .map(|b| {
                    b.with_root_certificates(tokio_rustls::rustls::RootCertStore::empty())
                        .with_no_client_auth()
                });
                match config {
                    Ok(config) => hyper_rustls::HttpsConnectorBuilder::new()
                        .with_tls_config(config)
                        .https_or_http()
                        .enable_http1()
                        .enable_http2()
                        .build(),
                    Err(_) => unreachable!("ring supports the default protocol versions"),
                }
            }
        };
        self.connector
            .get_or_init(|| SlackClientHyperConnector::from(https))
            .clone()
    }

    async fn post_bot(
        &self,
        settings: &SlackSettings,
        secrets: &ChannelSecrets,
        msg: &Outgoing,
    ) -> Result<Sent, SendError> {
        let Some(token) = secrets.token.as_deref().filter(|t| !t.is_empty()) else {
            return Err(SendError::permanent(
                "the channel has no bot token",
                secrets,
            ));
        };
        let Some(channel) = msg
            .to
            .as_deref()
            .or(settings.default_channel.as_deref())
            .map(str::trim)
            .filter(|c| !c.is_empty())
        else {
            return Err(SendError::permanent(
                "no Slack channel: the message has none and the channel has no default_channel",
                secrets,
            ));
        };
        let base = settings
            .api_url
            .as_deref()
            .unwrap_or(DEFAULT_API_URL)
            .trim_end_matches('/');
        let client = SlackClient::new(self.connector().with_slack_api_url(base));
        let token = SlackApiToken::new(SlackApiTokenValue::new(token.to_owned()));
        let session = client.open_session(&token);
        let req = SlackApiChatPostMessageRequest::new(
            SlackChannelId::new(channel.to_owned()),
            content(msg),
        );
        let answer = tokio::time::timeout(REQUEST_TIMEOUT, session.chat_post_message(&req))
            .await
            .map_err(|_| SendError::transient("Slack: timed out", secrets))?;
        match answer {
            Ok(r) => Ok(Sent {
                provider_id: Some(r.ts.to_string()),
            }),
            Err(e) => Err(classify(&e, secrets)),
        }
    }

    async fn post_webhook(
        &self,
        secrets: &ChannelSecrets,
        msg: &Outgoing,
    ) -> Result<Sent, SendError> {
        let Some(url) = secrets.webhook_url.as_deref().filter(|u| !u.is_empty()) else {
            return Err(SendError::permanent(
                "the channel has no webhook URL",
                secrets,
            ));
        };
        let url = url::Url::parse(url)
            .map_err(|_| SendError::permanent("the webhook URL is not a URL", secrets))?;
        let client = SlackClient::new(self.connector());
        let req = SlackApiPostWebhookMessageRequest::new(content(msg));
        let answer = tokio::time::timeout(REQUEST_TIMEOUT, client.post_webhook_message(&url, &req))
            .await
            .map_err(|_| SendError::transient("Slack webhook: timed out", secrets))?;
        match answer {
            Ok(_) => Ok(Sent { provider_id: None }),
            Err(e) => Err(classify(&e, secrets)),
        }
    }
}

#[async_trait::async_trait]
impl Channel for SlackChannel {
    async fn send(
        &self,
        doc: &ChannelDoc,
        secrets: &ChannelSecrets,
        msg: &Outgoing,
    ) -> Result<Sent, SendError> {
        let ChannelSettings::Slack(settings) = &doc.settings else {
            return Err(SendError::permanent("not a Slack channel", secrets));
        };
        match settings.mode {
            SlackMode::Bot => Box::pin(self.post_bot(settings, secrets, msg)).await,
            SlackMode::Webhook => Box::pin(self.post_webhook(secrets, msg)).await,
        }
    }
}

/// `text` with Slack's control characters escaped (`&`, `<`, `>`), so run
/// output or a job name cannot become `<!channel>`, a mention or a
/// disguised link.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The blocks and fallback text of a message.
pub fn content(msg: &Outgoing) -> SlackMessageContent {
    let icon = match msg.tone {
        "failure" => "❌ ",
        "success" => "✅ ",
        _ => "",
    };
    let mut blocks = vec![
        SlackBlock::Header(SlackHeaderBlock::new(SlackBlockPlainTextOnly::from(
            truncate_chars(&format!("{icon}{}", msg.subject), 150),
        ))),
        SlackBlock::Section(SlackSectionBlock::new().with_text(SlackBlockText::MarkDown(
            SlackBlockMarkDownText::new(truncate_chars(&escape(&msg.text), 3000)),
        ))),
    ];
    if let Some(link) = &msg.link {
        blocks.push(SlackBlock::Context(SlackContextBlock::new(vec![
            SlackContextBlockElement::MarkDown(SlackBlockMarkDownText::new(format!(
                "<{link}|Open in OpsConductor>"
            ))),
        ])));
    }
    SlackMessageContent::new()
        .with_text(truncate_chars(
            &escape(&format!("{}: {}", msg.subject, msg.text)),
            4000,
        ))
        .with_blocks(blocks)
}

/// Whether a Slack failure is worth another attempt, redacted.
fn classify(e: &SlackClientError, secrets: &ChannelSecrets) -> SendError {
    let (transient, text) = match e {
        SlackClientError::ApiError(api) => (
            TRANSIENT_CODES.contains(&api.code.as_str()),
            format!("Slack: {}", api.code),
        ),
        SlackClientError::RateLimitError(_) => (true, "Slack: rate limited (429)".to_owned()),
        SlackClientError::HttpError(http) => {
            let status = http.status_code;
            let transient =
                status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408;
            let body = http.http_response_body.as_deref().unwrap_or_default();
            (
                transient,
                format!("Slack: HTTP {status}: {}", super::http::excerpt(body)),
            )
        }
        SlackClientError::ProtocolError(p) => (false, format!("Slack: unexpected answer: {p}")),
        other => (true, format!("Slack: {other}")),
    };
    let message = super::redact(&text, secrets);
    SendError { transient, message }
}

#[cfg(test)]
mod tests;
