//! `email`: SMTP with `lettre` (tokio, rustls with ring): STARTTLS
//! (required), implicit TLS or none, optional authentication, a
//! multipart/alternative plain-text and HTML body, and a `Message-ID`
//! derived from the notification id so every attempt carries the same one.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::response::Severity;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use opsc_proto::notify::{ChannelDoc, ChannelSecrets, ChannelSettings, EmailSettings, EmailTls};

use super::{Channel, Outgoing, SendError, Sent};

/// Seconds per SMTP conversation when the channel sets none.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// The SMTP channel.
#[derive(Debug, Default, Clone, Copy)]
pub struct EmailChannel;

#[async_trait::async_trait]
impl Channel for EmailChannel {
    async fn send(
        &self,
        doc: &ChannelDoc,
        secrets: &ChannelSecrets,
        msg: &Outgoing,
    ) -> Result<Sent, SendError> {
        let ChannelSettings::Email(settings) = &doc.settings else {
            return Err(SendError::permanent("not an email channel", secrets));
        };
        let message = build_message(settings, msg).map_err(|e| SendError::permanent(e, secrets))?;
        let transport = transport(settings, secrets)?;
        match transport.send(message).await {
            Ok(response) => Ok(Sent {
                provider_id: Some(
                    format!(
                        "{} {}",
                        response.code(),
                        response.message().collect::<Vec<_>>().join(" ")
                    )
                    .trim()
                    .to_owned(),
                ),
            }),
            Err(e) => Err(classify(&e, secrets)),
        }
    }
}

/// The recipients of `msg`: its own address, else the channel's defaults.
pub fn recipients(settings: &EmailSettings, msg: &Outgoing) -> Result<Vec<Mailbox>, String> {
    let list: Vec<&str> = match &msg.to {
        Some(to) => vec![to.as_str()],
        None => settings.default_to.iter().map(String::as_str).collect(),
    };
    if list.is_empty() {
        return Err("no recipient: the message has none and the channel has no default_to".into());
    }
    list.into_iter()
        .map(|a| {
            a.trim()
                .parse::<Mailbox>()
                .map_err(|e| format!("invalid address {a:?}: {e}"))
        })
        .collect()
}

/// The message: From, To, Subject, a stable Message-ID, plain + HTML.
pub fn build_message(settings: &EmailSettings, msg: &Outgoing) -> Result<Message, String> {
    let from: Mailbox = settings
        .from
        .parse()
        .map_err(|e| format!("invalid from address {:?}: {e}", settings.from))?;
    let domain = from.email.domain().to_owned();
    let mut builder = Message::builder()
        .from(from)
        .subject(msg.subject.clone())
        .message_id(Some(format!("<{}@{domain}>", msg.notification_id)));
    for to in recipients(settings, msg)? {
        builder = builder.to(to);
    }
    let built = match &msg.html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            msg.text.clone(),
            html.clone(),
        )),
        None => builder.singlepart(SinglePart::plain(msg.text.clone())),
    };
    built.map_err(|e| format!("cannot build the message: {e}"))
}

fn transport(
    settings: &EmailSettings,
    secrets: &ChannelSecrets,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
    let timeout = Duration::from_secs(settings.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS).max(1));
    let mut builder =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.as_str())
            .port(settings.port)
            .timeout(Some(timeout));
    builder = match settings.tls {
        EmailTls::Starttls => builder.tls(Tls::Required(tls_parameters(settings, secrets)?)),
        EmailTls::Implicit => builder.tls(Tls::Wrapper(tls_parameters(settings, secrets)?)),
        EmailTls::None => builder.tls(Tls::None),
    };
    if let Some(user) = settings.username.as_deref().filter(|u| !u.is_empty()) {
        let Some(password) = secrets.password.clone() else {
            return Err(SendError::permanent(
                "username is set but the channel has no password",
                secrets,
            ));
        };
        builder = builder.credentials(Credentials::new(user.to_owned(), password));
    }
    Ok(builder.build())
}

fn tls_parameters(
    settings: &EmailSettings,
    secrets: &ChannelSecrets,
) -> Result<TlsParameters, SendError> {
    let mut params = TlsParameters::builder(settings.host.clone());
    if let Some(pem) = settings.ca_pem.as_deref().filter(|p| !p.trim().is_empty()) {
        let cert = Certificate::from_pem(pem.as_bytes())
            .map_err(|e| SendError::permanent(format!("ca_pem: {e}"), secrets))?;
        params = params.add_root_certificate(cert);
    }
    params
        .build_rustls()
        .map_err(|e| SendError::permanent(format!("TLS settings: {e}"), secrets))
}

/// Whether an SMTP failure is worth another attempt: connection problems,
/// timeouts and 4xx answers are; 5xx answers, TLS and protocol refusals
/// (STARTTLS not offered, an untrusted certificate: rustls reports it as
/// a connection error, so the text decides) are not.
fn classify(e: &lettre::transport::smtp::Error, secrets: &ChannelSecrets) -> SendError {
    let text = format!("SMTP: {e}{}", source_chain(e));
    let transient = if let Some(code) = e.status() {
        !matches!(code.severity, Severity::PermanentNegativeCompletion)
    } else if e.is_permanent() || e.is_tls() || e.is_client() || text.contains("certificate") {
        // An untrusted or invalid certificate does not cure itself.
        false
    } else {
        // Timeouts, refused or dropped connections, a server that closed.
        true
    };
    SendError {
        transient,
        message: super::redact(&text, secrets),
    }
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !out.contains(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests;
