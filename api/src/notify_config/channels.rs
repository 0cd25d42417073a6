//! Channels: where notifications go. Every write is checked per kind
//! ([`super::validate::channel`]) before one statement changes the row
//! (revision up), then mirrored ([`super::mirror`]). Secrets are
//! write-only: a read says which are set, never what they are. A body
//! without `secrets` keeps the stored ones, `"secrets": {"password": null}`
//! clears one; a change of kind starts from no secrets.

use chrono::{DateTime, Utc};
use opsc_proto::notify::{ChannelKind, ChannelSecrets, ChannelSettings, RateLimit};
use schemars::JsonSchema;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set, SqlErr,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{NotifyConfigError, mirror, refuse, secrets, validate};
use crate::core::Core;
use crate::store::notification_channel as channel;

fn yes() -> bool {
    true
}

fn five() -> u32 {
    5
}

/// A channel as written (`POST`, `PUT`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelBody {
    /// Unique name (1 to 100 characters).
    pub name: String,
    /// Whether deliveries go out (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Whether `notify.*` steps of jobs may send through it (default false).
    #[serde(default)]
    pub allow_steps: bool,
    /// Kind and public settings.
    pub settings: ChannelSettings,
    /// Write-only secrets. Omitted: the stored ones are kept; a secret set
    /// to `null` is cleared.
    #[serde(default)]
    #[schemars(with = "Option<ChannelSecrets>")]
    pub secrets: Option<Map<String, Value>>,
    /// Deliveries per minute at most (1 to 10,000); absent: no limit.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// Attempts before a delivery is dead-lettered (1 to 10, default 5).
    #[serde(default = "five")]
    pub max_attempts: u32,
}

/// A channel as read: never its secrets, only which are set.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ChannelView {
    /// The channel.
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// Its kind.
    pub kind: ChannelKind,
    /// Whether deliveries go out.
    pub enabled: bool,
    /// Whether `notify.*` steps may send through it.
    pub allow_steps: bool,
    /// Public settings.
    pub settings: ChannelSettings,
    /// The secrets set (`password`, `token`, `webhook_url`,
    /// `signing_secret`, `headers.<name>`), never their values.
    pub secrets_set: Vec<String>,
    /// Rate limit.
    pub rate_limit: Option<RateLimit>,
    /// Attempts before dead-lettering.
    pub max_attempts: u32,
    /// Who created it.
    pub created_by: Option<Uuid>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Increases with every change.
    pub revision: u64,
}

/// The settings of a row.
pub(crate) fn settings_of(row: &channel::Model) -> Result<ChannelSettings, NotifyConfigError> {
    serde_json::from_value(row.settings.clone()).map_err(|e| NotifyConfigError::broken(&e))
}

/// How a row is shown.
pub fn view(row: &channel::Model) -> Result<ChannelView, NotifyConfigError> {
    let settings = settings_of(row)?;
    Ok(ChannelView {
        id: row.id,
        name: row.name.clone(),
        kind: settings.kind(),
        enabled: row.enabled,
        allow_steps: row.allow_steps,
        settings,
        secrets_set: serde_json::from_value(row.secrets_set.clone()).unwrap_or_default(),
        rate_limit: row
            .rate_limit_per_minute
            .and_then(|p| u32::try_from(p).ok())
            .map(|per_minute| RateLimit { per_minute }),
        max_attempts: u32::try_from(row.max_attempts).unwrap_or(1),
        created_by: row.created_by,
        created_at: row.created_at.to_utc(),
        updated_at: row.updated_at.to_utc(),
        revision: u64::try_from(row.revision).unwrap_or(0),
    })
}

/// The audit summary of a channel (no secret in it).
pub fn summary(v: &ChannelView) -> Value {
    json!({
        "name": v.name, "kind": v.kind, "enabled": v.enabled, "allow_steps": v.allow_steps,
        "secrets_set": v.secrets_set, "revision": v.revision,
    })
}

/// The channel with this id.
pub async fn find(core: &Core, id: Uuid) -> Result<channel::Model, NotifyConfigError> {
    channel::Entity::find_by_id(id)
        .one(core.db())
        .await?
        .ok_or(NotifyConfigError::NotFound("notification channel"))
}

/// Every channel, by name.
pub async fn list(core: &Core) -> Result<Vec<ChannelView>, NotifyConfigError> {
    channel::Entity::find()
        .order_by_asc(channel::Column::Name)
        .all(core.db())
        .await?
        .iter()
        .map(view)
        .collect()
}

/// One channel.
pub async fn get(core: &Core, id: Uuid) -> Result<ChannelView, NotifyConfigError> {
    view(&find(core, id).await?)
}

/// A valid body's row columns, its secrets merged over `stored`.
fn columns(
    core: &Core,
    id: Uuid,
    body: &ChannelBody,
    stored: &ChannelSecrets,
) -> Result<channel::ActiveModel, NotifyConfigError> {
    let mut errors = Vec::new();
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(opsc_proto::job_check::PathError::new(
            "/name",
            "must be 1 to 100 characters",
        ));
    }
    if !(1..=10).contains(&body.max_attempts) {
        errors.push(opsc_proto::job_check::PathError::new(
            "/max_attempts",
            "must be 1 to 10",
        ));
    }
    if body
        .rate_limit
        .is_some_and(|r| !(1..=10_000).contains(&r.per_minute))
    {
        errors.push(opsc_proto::job_check::PathError::new(
            "/rate_limit/per_minute",
            "must be 1 to 10000",
        ));
    }
    let merged = secrets::merge(stored, body.secrets.as_ref())?;
    errors.extend(validate::channel(&body.settings, &merged));
    refuse(errors)?;
    let sealed = secrets::seal(core, id, &merged)?;
    Ok(channel::ActiveModel {
        id: Set(id),
        name: Set(name.to_owned()),
        kind: Set(body.settings.kind().as_str().to_owned()),
        settings: Set(
            serde_json::to_value(&body.settings).map_err(|e| NotifyConfigError::broken(&e))?
        ),
        secrets: Set(sealed.sealed),
        secrets_dek: Set(sealed.dek),
        secrets_kek_id: Set(sealed.kek_id),
        secrets_set: Set(json!(secrets::names_set(&merged))),
        enabled: Set(body.enabled),
        allow_steps: Set(body.allow_steps),
        rate_limit_per_minute: Set(body
            .rate_limit
            .and_then(|r| i32::try_from(r.per_minute).ok())),
        max_attempts: Set(i32::try_from(body.max_attempts).unwrap_or(1)),
        updated_at: Set(Utc::now().fixed_offset()),
        ..Default::default()
    })
}

/// A write's database error: a unique violation is a name taken.
fn write_error(name: &str) -> impl FnOnce(DbErr) -> NotifyConfigError + '_ {
    move |e| match e {
        DbErr::RecordNotUpdated => NotifyConfigError::Changed,
        e => match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                NotifyConfigError::Taken(format!("a notification channel named {name:?} exists"))
            }
            _ => NotifyConfigError::Db(e),
        },
    }
}

/// Refuses a name another channel has.
async fn name_free(core: &Core, name: &str, except: Option<Uuid>) -> Result<(), NotifyConfigError> {
    let mut q = channel::Entity::find().filter(channel::Column::Name.eq(name.trim()));
    if let Some(id) = except {
        q = q.filter(channel::Column::Id.ne(id));
    }
    match q.one(core.db()).await? {
        Some(_) => Err(NotifyConfigError::Taken(format!(
            "a notification channel named {:?} exists",
            name.trim()
        ))),
        None => Ok(()),
    }
}

/// Creates a channel.
pub async fn create(
    core: &Core,
    by: Uuid,
    body: ChannelBody,
) -> Result<ChannelView, NotifyConfigError> {
    let id = Uuid::now_v7();
    let mut row = columns(core, id, &body, &ChannelSecrets::default())?;
    name_free(core, &body.name, None).await?;
    row.created_by = Set(Some(by));
    row.created_at = Set(Utc::now().fixed_offset());
    row.revision = Set(1);
    let row = row
        .insert(core.db())
        .await
        .map_err(write_error(&body.name))?;
    mirror::after_write(core, mirror::Key::Channel(id)).await;
    view(&row)
}

/// Whether `new` sends somewhere else than `old` (same kind).
fn moved(old: &ChannelSettings, new: &ChannelSettings) -> bool {
    match (old, new) {
        (ChannelSettings::Email(a), ChannelSettings::Email(b)) => {
            a.host != b.host || a.port != b.port || a.tls != b.tls || a.ca_pem != b.ca_pem
        }
        (ChannelSettings::Slack(a), ChannelSettings::Slack(b)) => {
            a.mode != b.mode || a.api_url != b.api_url
        }
        (ChannelSettings::Webhook(a), ChannelSettings::Webhook(b)) => a.url != b.url,
        _ => false,
    }
}

/// Replaces a channel (`PUT`); secrets as the module says.
pub async fn replace(
    core: &Core,
    id: Uuid,
    body: ChannelBody,
) -> Result<ChannelView, NotifyConfigError> {
    let current = find(core, id).await?;
    let before = settings_of(&current)?;
    let stored = if before.kind() == body.settings.kind() {
        secrets::open(core, &current)?
    } else {
        ChannelSecrets::default()
    };
    // Stored secrets follow the channel only to the destination they were
    // given for: whoever moves a channel elsewhere gives them again, so a
    // changed host, URL or API URL cannot carry a token or password there.
    if body.secrets.is_none() && !stored.values().is_empty() && moved(&before, &body.settings) {
        return Err(NotifyConfigError::invalid(
            "/secrets",
            "give the secrets again: the channel's destination (host, port, TLS, URL or API URL) changes",
        ));
    }
    let mut row = columns(core, id, &body, &stored)?;
    name_free(core, &body.name, Some(id)).await?;
    row.revision = Set(current.revision + 1);
    let saved = channel::Entity::update(row)
        .filter(channel::Column::Revision.eq(current.revision))
        .exec(core.db())
        .await
        .map_err(write_error(&body.name))?;
    mirror::after_write(core, mirror::Key::Channel(id)).await;
    view(&saved)
}

/// Changes the given top-level fields (`PATCH`); `secrets` merges as in `PUT`.
pub async fn patch(
    core: &Core,
    id: Uuid,
    fields: Map<String, Value>,
) -> Result<ChannelView, NotifyConfigError> {
    let current = view(&find(core, id).await?)?;
    let mut base = json!({
        "name": current.name, "enabled": current.enabled, "allow_steps": current.allow_steps,
        "settings": current.settings, "rate_limit": current.rate_limit,
        "max_attempts": current.max_attempts,
    });
    if let Some(map) = base.as_object_mut() {
        map.extend(fields);
    }
    let body: ChannelBody = serde_path_to_error::deserialize(base).map_err(|e| {
        let path = format!("/{}", e.path().to_string().replace('.', "/"));
        // serde's message quotes the value: never for a secret.
        let why = if path.starts_with("/secrets") {
            "must be an object of secret names to text (or null to clear one)".to_owned()
        } else {
            e.inner().to_string()
        };
        NotifyConfigError::invalid(&path, why)
    })?;
    replace(core, id, body).await
}

/// Deletes a channel; refused while a rule sends through it.
pub async fn delete(core: &Core, id: Uuid) -> Result<ChannelView, NotifyConfigError> {
    let current = find(core, id).await?;
    let used = super::rules::using_channel(core, id).await?;
    if let Some(rule) = used {
        return Err(NotifyConfigError::Taken(format!(
            "the rule {rule:?} sends through this channel; change or delete it first"
        )));
    }
    let gone = view(&current)?;
    channel::Entity::delete_by_id(id).exec(core.db()).await?;
    mirror::after_write(core, mirror::Key::Channel(id)).await;
    Ok(gone)
}
