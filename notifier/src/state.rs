//! What the notifier remembers over time in `<p>_notify_state`: per job
//! (`job.<id>`: throttle windows, silenced rules, who was alerted, open
//! alerts, the notices already decided) and per user (`held.<id>`: messages
//! held by quiet hours). Every write is a compare-and-set on the entry's
//! revision, retried, so several replicas agree.

use std::collections::{BTreeMap, BTreeSet};

use async_nats::jetstream::kv;
use chrono::{DateTime, Utc};
use opsc_proto::notify::Notice;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How many decided notices a job remembers (a redelivery finds its own).
const DECIDED_KEPT: usize = 50;

/// One throttle window of a rule for a job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// When the window began.
    pub start: DateTime<Utc>,
    /// Notifications sent in it.
    pub count: u32,
    /// The period, in minutes.
    pub per_minutes: u32,
    /// Messages held for the window's digest.
    #[serde(default)]
    pub held: Vec<HeldItem>,
}

/// A message held for a digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldItem {
    /// The notice.
    pub notice_id: String,
    /// Its rendered subject.
    pub subject: String,
    /// Its link.
    #[serde(default)]
    pub link: Option<String>,
    /// The channel it was for.
    pub channel_id: Uuid,
    /// The address it was for (`None`: the channel's default).
    #[serde(default)]
    pub to: Option<String>,
}

/// A (channel, address) alerted for a job while it was failing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Alerted {
    /// The channel.
    pub channel_id: Uuid,
    /// The address (`None`: the channel's default).
    pub to: Option<String>,
    /// The user, when it was for one.
    pub user_id: Option<Uuid>,
}

/// A failure notification awaiting acknowledgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenAlert {
    /// The rule.
    pub rule_id: Uuid,
    /// The notifications it sent.
    pub notification_ids: Vec<Uuid>,
    /// When it escalates.
    pub due: DateTime<Utc>,
    /// The notice, to render the escalation.
    pub notice: Notice,
}

/// `job.<id>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobState {
    /// Throttle windows by rule.
    #[serde(default)]
    pub windows: BTreeMap<Uuid, Window>,
    /// Rules silenced until the job succeeds.
    #[serde(default)]
    pub silenced: BTreeSet<Uuid>,
    /// Rules whose streak escalation was sent in this failure streak.
    #[serde(default)]
    pub escalated: BTreeSet<Uuid>,
    /// Everyone alerted while failing.
    #[serde(default)]
    pub alerted: BTreeSet<Alerted>,
    /// Open alerts.
    #[serde(default)]
    pub open: Vec<OpenAlert>,
    /// Notices already decided, with the deliveries they chose.
    #[serde(default)]
    pub decided: Vec<(String, Vec<Uuid>)>,
}

impl JobState {
    /// The deliveries a notice was given, when it was decided before.
    pub fn decided_for(&self, notice_id: &str) -> Option<&[Uuid]> {
        self.decided
            .iter()
            .find(|(n, _)| n == notice_id)
            .map(|(_, d)| d.as_slice())
    }

    /// Remembers a notice's decision.
    pub fn remember(&mut self, notice_id: &str, ids: Vec<Uuid>) {
        self.decided.retain(|(n, _)| n != notice_id);
        self.decided.push((notice_id.to_owned(), ids));
        let extra = self.decided.len().saturating_sub(DECIDED_KEPT);
        self.decided.drain(..extra);
    }
}

/// `held.<user>`: messages held by quiet hours.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HeldDoc {
    /// The messages.
    #[serde(default)]
    pub items: Vec<HeldItem>,
}

/// Reads a JSON document and its revision (absent: default, revision 0).
pub async fn read<T: DeserializeOwned + Default>(
    store: &kv::Store,
    key: &str,
) -> Result<(T, u64), String> {
    match store.entry(key).await.map_err(|e| e.to_string())? {
        Some(e) if e.operation == kv::Operation::Put && !e.value.is_empty() => {
            let doc = serde_json::from_slice(&e.value).unwrap_or_else(|err| {
                tracing::warn!(key, error = %err, "A notifier state document is unreadable; starting afresh.");
                T::default()
            });
            Ok((doc, e.revision))
        }
        Some(e) => Ok((T::default(), e.revision)),
        None => Ok((T::default(), 0)),
    }
}

/// Writes `doc` if the key is still at `revision` (0: absent or deleted).
/// `Ok(false)` when another replica wrote first.
pub async fn write<T: Serialize>(
    store: &kv::Store,
    key: &str,
    doc: &T,
    revision: u64,
) -> Result<bool, String> {
    let body: bytes::Bytes = serde_json::to_vec(doc).map_err(|e| e.to_string())?.into();
    let done = if revision == 0 {
        store.create(key, body).await.map(|_| ()).map_err(|e| {
            (
                e.kind() == kv::CreateErrorKind::AlreadyExists,
                e.to_string(),
            )
        })
    } else {
        store
            .update(key, body, revision)
            .await
            .map(|_| ())
            .map_err(|e| {
                (
                    e.kind() == kv::UpdateErrorKind::WrongLastRevision,
                    e.to_string(),
                )
            })
    };
    match done {
        Ok(()) => Ok(true),
        Err((true, _)) => Ok(false),
        Err((false, e)) => Err(e),
    }
}

/// Applies `change` to the document under `key` with compare-and-set,
/// retrying on a conflict; returns what `change` returned on the write
/// that won.
pub async fn update<T, R>(
    store: &kv::Store,
    key: &str,
    mut change: impl FnMut(&mut T) -> R,
) -> Result<R, String>
where
    T: DeserializeOwned + Serialize + Default,
{
    for _ in 0..20 {
        let (mut doc, rev) = read::<T>(store, key).await?;
        let out = change(&mut doc);
        if write(store, key, &doc, rev).await? {
            return Ok(out);
        }
    }
    Err(format!("{key}: too many concurrent updates"))
}
