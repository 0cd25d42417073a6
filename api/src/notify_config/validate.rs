//! Checks shared by the resources: addresses, URLs, header names, time
//! zones, and the ids a document refers to.

use std::collections::{BTreeSet, HashMap};

use axum::http::{HeaderName, HeaderValue};
use opsc_proto::job_check::PathError;
use opsc_proto::notify::{
    ChannelKind, ChannelSecrets, ChannelSettings, EmailSettings, SlackMode, WebhookSettings,
};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::store::notification_channel as channel;

/// Whether `text` is a mailbox: `user@host` or `Name <user@host>`.
pub(crate) fn mailbox_ok(text: &str) -> bool {
    let t = text.trim();
    let addr = match (t.rfind('<'), t.strip_suffix('>')) {
        (Some(open), Some(inner)) => &inner[open + 1..],
        (None, None) => t,
        _ => return false,
    };
    let Some((local, domain)) = addr.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && (domain.contains('.') || domain == "localhost")
        && !addr
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
}

/// Problems with `text` as an `http(s)` URL, at `path`.
pub(crate) fn http_url(path: &str, text: &str, errors: &mut Vec<PathError>) {
    match url::Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
        // The URL may carry a token: never repeat it.
        _ => errors.push(PathError::new(path, "must be an http or https URL")),
    }
}

/// Whether `zone` is an IANA time zone.
pub(crate) fn zone_ok(zone: &str) -> bool {
    opsc_calendar::Calendar::new("0 0 * * *", zone, Default::default()).is_ok()
}

fn email(s: &EmailSettings, e: &mut Vec<PathError>) {
    let host = s.host.trim();
    if host.is_empty() || host.len() > 253 || host.chars().any(char::is_whitespace) {
        e.push(PathError::new(
            "/settings/host",
            "must be a host name or address",
        ));
    }
    if s.port == 0 {
        e.push(PathError::new("/settings/port", "must be 1 to 65535"));
    }
    if !mailbox_ok(&s.from) {
        e.push(PathError::new(
            "/settings/from",
            "must be an address, e.g. ops@example.com or OpsConductor <ops@example.com>",
        ));
    }
    for (i, to) in s.default_to.iter().enumerate() {
        if !mailbox_ok(to) {
            e.push(PathError::new(
                format!("/settings/default_to/{i}"),
                "must be an email address",
            ));
        }
    }
    if s.timeout_secs.is_some_and(|t| t == 0 || t > 600) {
        e.push(PathError::new("/settings/timeout_secs", "must be 1 to 600"));
    }
}

fn webhook(s: &WebhookSettings, e: &mut Vec<PathError>) {
    http_url("/settings/url", &s.url, e);
    for (name, value) in &s.headers {
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            e.push(PathError::new(
                format!("/settings/headers/{name}"),
                "is not a valid header name",
            ));
        } else if HeaderValue::from_str(value).is_err() {
            e.push(PathError::new(
                format!("/settings/headers/{name}"),
                "is not a valid header value",
            ));
        }
    }
}

/// The secrets a kind (and Slack mode) uses.
fn allowed(settings: &ChannelSettings) -> &'static [&'static str] {
    match settings {
        ChannelSettings::Email(_) => &["password"],
        ChannelSettings::Slack(s) if s.mode == SlackMode::Bot => &["token"],
        ChannelSettings::Slack(_) | ChannelSettings::Teams(_) => &["webhook_url"],
        ChannelSettings::Webhook(_) => &["signing_secret", "headers"],
    }
}

/// Problems with a channel's settings and secrets.
pub(crate) fn channel(settings: &ChannelSettings, secrets: &ChannelSecrets) -> Vec<PathError> {
    let mut e = Vec::new();
    match settings {
        ChannelSettings::Email(s) => email(s, &mut e),
        ChannelSettings::Slack(s) => {
            if let Some(api) = &s.api_url {
                http_url("/settings/api_url", api, &mut e);
            }
            match s.mode {
                SlackMode::Bot if secrets.token.as_deref().is_none_or(str::is_empty) => {
                    e.push(PathError::new(
                        "/secrets/token",
                        "a Slack bot channel needs a bot token",
                    ));
                }
                SlackMode::Webhook if s.default_channel.is_some() => {
                    e.push(PathError::new(
                        "/settings/default_channel",
                        "a Slack webhook posts to its own channel; only bot channels take one",
                    ));
                }
                _ => {}
            }
        }
        ChannelSettings::Teams(_) => {}
        ChannelSettings::Webhook(s) => webhook(s, &mut e),
    }
    let needs_url = match settings {
        ChannelSettings::Slack(s) => s.mode == SlackMode::Webhook,
        ChannelSettings::Teams(_) => true,
        _ => false,
    };
    if needs_url {
        match &secrets.webhook_url {
            None => e.push(PathError::new(
                "/secrets/webhook_url",
                "this channel needs a webhook URL",
            )),
            Some(u) => http_url("/secrets/webhook_url", u, &mut e),
        }
    }
    for name in secrets::names(secrets) {
        if !allowed(settings).contains(&name) {
            e.push(PathError::new(
                format!("/secrets/{name}"),
                format!("is not used by {} channels", settings.kind().as_str()),
            ));
        }
    }
    for (name, value) in &secrets.headers {
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            e.push(PathError::new(
                format!("/secrets/headers/{name}"),
                "is not a valid header name",
            ));
        } else if HeaderValue::from_str(value).is_err() {
            e.push(PathError::new(
                format!("/secrets/headers/{name}"),
                "is not a valid header value",
            ));
        }
    }
    e
}

mod secrets {
    use opsc_proto::notify::ChannelSecrets;

    /// The top-level names of the secrets set.
    pub(super) fn names(s: &ChannelSecrets) -> Vec<&'static str> {
        let mut v = Vec::new();
        if s.password.is_some() {
            v.push("password");
        }
        if s.token.is_some() {
            v.push("token");
        }
        if s.webhook_url.is_some() {
            v.push("webhook_url");
        }
        if s.signing_secret.is_some() {
            v.push("signing_secret");
        }
        if !s.headers.is_empty() {
            v.push("headers");
        }
        v
    }
}

/// The kinds of the channels with these ids (missing ones absent).
pub(crate) async fn channel_kinds(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, ChannelKind>, DbErr> {
    let ids: BTreeSet<Uuid> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, String)> = channel::Entity::find()
        .select_only()
        .column(channel::Column::Id)
        .column(channel::Column::Kind)
        .filter(channel::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, kind)| {
            ChannelKind::ALL
                .into_iter()
                .find(|k| k.as_str() == kind)
                .map(|k| (id, k))
        })
        .collect())
}

/// The ids among `ids` that exist in the table of `E` (by primary key `col`).
pub(crate) async fn existing<E, C>(
    db: &impl ConnectionTrait,
    col: C,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<BTreeSet<Uuid>, DbErr>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    let ids: BTreeSet<Uuid> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(BTreeSet::new());
    }
    let found: Vec<Uuid> = E::find()
        .select_only()
        .column(col)
        .filter(col.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(found.into_iter().collect())
}
