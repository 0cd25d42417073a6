//! The KV mirror: `<p>_notify_config` kept equal to the tables, so the
//! notifier (which has no database) applies what PostgreSQL holds.
//!
//! `channel.<id>` holds each channel's `ChannelDoc`, its secrets sealed
//! for the notifier (`SealKey::for_notifier`, context `channel:<id>`);
//! `rule.<id>` each `RuleDoc`; `prefs.<user>` a `PreferencesDoc` for every
//! user (the defaults when they chose nothing); `template.<id>` each
//! `TemplateDoc`; `defaults.global` and `control.global`. After every
//! committed write the key is brought in step ([`after_write`]); the
//! reconcile ([`run`]) rewrites keys that differ and deletes keys without
//! a row. A write is a compare-and-set on the key's revision, made after
//! reading the row afresh, so a racing reconcile never leaves an older
//! document behind.

use std::collections::BTreeSet;

use async_nats::jetstream::kv::{self, Operation};
use futures::TryStreamExt as _;
use opsc_proto::notify::{ChannelDoc, RateLimit, keys};
use opsc_proto::topology::bucket;
use sea_orm::{EntityTrait, QuerySelect};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{NotifyConfigError, channels, defaults, preferences, rules, secrets, templates};
use crate::core::Core;
use crate::store::{
    notification_channel as channel, notification_preference as pref, notification_rule as rule,
    notification_template as tpl, user,
};

/// Compare-and-set attempts on one key.
const TRIES: usize = 3;

/// One key of the bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    /// `channel.<id>`.
    Channel(Uuid),
    /// `rule.<id>`.
    Rule(Uuid),
    /// `prefs.<user>`.
    Preferences(Uuid),
    /// `template.<id>`.
    Template(Uuid),
    /// `defaults.global`.
    Defaults,
    /// `control.global`.
    Control,
}

impl Key {
    /// The key's name.
    pub fn name(self) -> String {
        match self {
            Self::Channel(id) => keys::channel(id),
            Self::Rule(id) => keys::rule(id),
            Self::Preferences(id) => keys::preferences(id),
            Self::Template(id) => keys::template(id),
            Self::Defaults => keys::DEFAULTS.to_owned(),
            Self::Control => keys::CONTROL.to_owned(),
        }
    }

    /// The key a name stands for, if it is one of ours.
    fn parse(name: &str) -> Option<Self> {
        let id = |p: &str| name.strip_prefix(p).and_then(|s| Uuid::parse_str(s).ok());
        if name == keys::DEFAULTS {
            Some(Self::Defaults)
        } else if name == keys::CONTROL {
            Some(Self::Control)
        } else if let Some(i) = id(keys::CHANNEL_PREFIX) {
            Some(Self::Channel(i))
        } else if let Some(i) = id(keys::RULE_PREFIX) {
            Some(Self::Rule(i))
        } else if let Some(i) = id(keys::PREFERENCES_PREFIX) {
            Some(Self::Preferences(i))
        } else {
            id(keys::TEMPLATE_PREFIX).map(Self::Template)
        }
    }
}

fn kv_error(what: &str, e: &dyn std::fmt::Display) -> NotifyConfigError {
    NotifyConfigError::Unavailable(format!("{what}: {e}"))
}

/// The document of a channel row, its secrets sealed for the notifier.
pub fn channel_doc(core: &Core, row: &channel::Model) -> Result<ChannelDoc, NotifyConfigError> {
    let s = secrets::open(core, row)?;
    let sealed_secrets = if secrets::is_empty(&s) {
        None
    } else {
        let bytes = serde_json::to_vec(&s).map_err(|e| NotifyConfigError::broken(&e))?;
        Some(
            core.sealer
                .notifier()
                .seal(&bytes, &ChannelDoc::seal_context(row.id)),
        )
    };
    Ok(ChannelDoc {
        id: row.id,
        name: row.name.clone(),
        enabled: row.enabled,
        settings: channels::settings_of(row)?,
        sealed_secrets,
        rate_limit: row
            .rate_limit_per_minute
            .and_then(|p| u32::try_from(p).ok())
            .map(|per_minute| RateLimit { per_minute }),
        max_attempts: u32::try_from(row.max_attempts).unwrap_or(1),
        allow_steps: row.allow_steps,
        revision: u64::try_from(row.revision).unwrap_or(0),
    })
}

fn to_value<T: serde::Serialize>(doc: &T) -> Result<Value, NotifyConfigError> {
    serde_json::to_value(doc).map_err(|e| NotifyConfigError::broken(&e))
}

/// The document `key` should hold now; `None`: no key.
async fn wanted(core: &Core, key: Key) -> Result<Option<Value>, NotifyConfigError> {
    let db = core.db();
    Ok(match key {
        Key::Channel(id) => match channel::Entity::find_by_id(id).one(db).await? {
            Some(row) => Some(to_value(&channel_doc(core, &row)?)?),
            None => None,
        },
        Key::Rule(id) => match rule::Entity::find_by_id(id).one(db).await? {
            Some(row) => Some(to_value(&rules::doc_of(&row)?)?),
            None => None,
        },
        Key::Template(id) => match tpl::Entity::find_by_id(id).one(db).await? {
            Some(row) => Some(to_value(&templates::doc_of(&row)?)?),
            None => None,
        },
        Key::Preferences(id) => match user::Entity::find_by_id(id).one(db).await? {
            Some(u) => {
                let row = pref::Entity::find_by_id(id).one(db).await?;
                Some(to_value(&preferences::doc_of(&u, row.as_ref()))?)
            }
            None => None,
        },
        Key::Defaults => Some(to_value(&defaults::get(db).await?)?),
        Key::Control => Some(to_value(&defaults::control(db).await?)?),
    })
}

/// A document without its seal (which differs with every sealing).
fn comparable(mut v: Value) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.remove("sealed_secrets");
    }
    v
}

/// Makes `key` equal to its row as it is now; true when it wrote.
pub async fn sync(core: &Core, store: &kv::Store, key: Key) -> Result<bool, NotifyConfigError> {
    let name = key.name();
    for _ in 0..TRIES {
        let entry = store
            .entry(name.as_str())
            .await
            .map_err(|e| kv_error(&name, &e))?;
        let live = entry.as_ref().filter(|e| e.operation == Operation::Put);
        // Read after the entry: a write committed later syncs the key itself.
        let want = wanted(core, key).await?;
        let result = match (want, live) {
            (None, None) => return Ok(false),
            (None, Some(e)) => store
                .delete_expect_revision(name.as_str(), Some(e.revision))
                .await
                .map_err(|x| x.to_string()),
            (Some(doc), live) => {
                if let Some(e) = live
                    && serde_json::from_slice::<Value>(&e.value)
                        .ok()
                        .map(comparable)
                        == Some(comparable(doc.clone()))
                {
                    return Ok(false);
                }
                let bytes = serde_json::to_vec(&doc).map_err(|e| NotifyConfigError::broken(&e))?;
                match entry {
                    Some(e) => store
                        .update(name.as_str(), bytes.into(), e.revision)
                        .await
                        .map(|_| ())
                        .map_err(|x| x.to_string()),
                    None => store
                        .create(name.as_str(), bytes.into())
                        .await
                        .map(|_| ())
                        .map_err(|x| x.to_string()),
                }
            }
        };
        match result {
            Ok(()) => return Ok(true),
            Err(e) => {
                tracing::debug!(key = %name, error = %e, "Lost a compare-and-set; trying again.");
            }
        }
    }
    Err(kv_error(&name, &"changed by someone else on every try"))
}

/// Brings `key` in step after a committed write (a failure is logged and
/// left to the reconcile).
pub async fn after_write(core: &Core, key: Key) {
    let write = async {
        let store = core
            .bus
            .bucket(bucket::NOTIFY_CONFIG)
            .await
            .map_err(|e| NotifyConfigError::Unavailable(e.to_string()))?;
        sync(core, &store, key).await.map(|_| ())
    };
    let id = match key {
        Key::Channel(id) | Key::Rule(id) | Key::Preferences(id) | Key::Template(id) => id,
        Key::Defaults | Key::Control => Uuid::nil(),
    };
    crate::mirror_loop::after_write(core, "notify_config", id, write).await;
}

/// Ids of a table's rows.
async fn ids<E: EntityTrait>(core: &Core, col: E::Column) -> Result<Vec<Uuid>, NotifyConfigError> {
    Ok(E::find()
        .select_only()
        .column(col)
        .into_tuple()
        .all(core.db())
        .await?)
}

/// One reconcile pass: every key a row wants and every key in the
/// bucket; answers how many it wrote or deleted.
pub async fn pass(core: Core) -> Result<usize, NotifyConfigError> {
    let store = core
        .bus
        .bucket(bucket::NOTIFY_CONFIG)
        .await
        .map_err(|e| NotifyConfigError::Unavailable(e.to_string()))?;
    let mut all: BTreeSet<Key> = [Key::Defaults, Key::Control].into_iter().collect();
    all.extend(
        ids::<channel::Entity>(&core, channel::Column::Id)
            .await?
            .into_iter()
            .map(Key::Channel),
    );
    all.extend(
        ids::<rule::Entity>(&core, rule::Column::Id)
            .await?
            .into_iter()
            .map(Key::Rule),
    );
    all.extend(
        ids::<tpl::Entity>(&core, tpl::Column::Id)
            .await?
            .into_iter()
            .map(Key::Template),
    );
    all.extend(
        ids::<user::Entity>(&core, user::Column::Id)
            .await?
            .into_iter()
            .map(Key::Preferences),
    );
    let names: Vec<String> = store
        .keys()
        .await
        .map_err(|e| kv_error("keys", &e))?
        .try_collect()
        .await
        .map_err(|e| kv_error("keys", &e))?;
    all.extend(names.iter().filter_map(|n| Key::parse(n)));
    let mut repaired = 0;
    for key in all {
        if sync(&core, &store, key).await? {
            repaired += 1;
        }
    }
    Ok(repaired)
}

/// Reconciles at start, after reconnects and every 30 seconds.
pub async fn run(core: Core, shutdown: CancellationToken) {
    crate::mirror_loop::keep_in_step(core, shutdown, "notify_config", pass).await;
}
