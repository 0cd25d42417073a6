//! `GET /api/v1/notifications/status`: the notifier replicas (what each
//! writes under `replica.*` in `<p>_notify_state`), the depth of its
//! queues (pending and unacknowledged messages of `notifier-events` and
//! `notifier-commands`), recent failures per channel (24 h, from the
//! history), and whether delivery is paused (`control.global` in
//! `<p>_notify_config`).

use futures::StreamExt as _;
use opsc_proto::notify::{NotifyControl, keys};
use opsc_proto::topology::{bucket, consumer};
use schemars::JsonSchema;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde::Serialize;
use uuid::Uuid;

use super::NotificationError;
use crate::core::Core;

/// One queue of the notifier.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct QueueView {
    /// The durable consumer.
    pub consumer: String,
    /// Messages not yet delivered.
    pub pending: u64,
    /// Messages delivered and not yet acknowledged.
    pub ack_pending: u64,
    /// Why the numbers are missing (the consumer could not be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Recent failures of one channel.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ChannelFailures {
    /// The channel.
    pub channel_id: Uuid,
    /// Its kind.
    pub channel_kind: String,
    /// Failed attempts in the last 24 hours.
    pub failed_attempts: i64,
    /// Notifications dead-lettered in the last 24 hours.
    pub dead_lettered: i64,
    /// The latest failure.
    pub last_error: Option<String>,
    /// When.
    pub last_failed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The notifier's status.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StatusView {
    /// Whether delivery is paused.
    pub paused: bool,
    /// Who paused it.
    pub paused_by: Option<String>,
    /// The replicas, as each reports itself (`replica`, `started_at`,
    /// `seen_at`, `paused`, `queue`).
    pub replicas: Vec<serde_json::Value>,
    /// The notifier's queues.
    pub queues: Vec<QueueView>,
    /// Pending plus unacknowledged messages over every queue.
    pub queue_depth: u64,
    /// Channels that failed in the last 24 hours, worst first.
    pub recent_failures: Vec<ChannelFailures>,
}

const FAILURES_SQL: &str = r"
SELECT n.channel_id, max(n.channel_kind) AS channel_kind,
  count(*) FILTER (WHERE a.status = 'failed') AS failed_attempts,
  count(DISTINCT n.id) FILTER (WHERE a.status = 'dead_lettered') AS dead_lettered,
  (array_agg(a.error ORDER BY a.started_at DESC))[1] AS last_error,
  max(a.started_at) AS last_failed_at
FROM notification_attempts a JOIN notifications n ON n.id = a.notification_id
WHERE a.status IN ('failed', 'dead_lettered') AND a.started_at > now() - interval '24 hours'
GROUP BY n.channel_id
ORDER BY count(*) DESC, n.channel_id
LIMIT 100
";

async fn replicas(core: &Core) -> Vec<serde_json::Value> {
    let Ok(store) = core.bus.bucket(bucket::NOTIFY_STATE).await else {
        return Vec::new();
    };
    let Ok(mut names) = store.keys().await else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while let Some(Ok(key)) = names.next().await {
        if !key.starts_with("replica.") {
            continue;
        }
        if let Ok(Some(v)) = store.get(&key).await
            && let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&v)
        {
            out.push(doc);
        }
    }
    out
}

async fn control(core: &Core) -> NotifyControl {
    let doc = match core.bus.bucket(bucket::NOTIFY_CONFIG).await {
        Ok(store) => store.get(keys::CONTROL).await.ok().flatten(),
        Err(_) => None,
    };
    doc.and_then(|v| serde_json::from_slice(&v).ok())
        .unwrap_or(NotifyControl {
            paused: false,
            paused_by: None,
            paused_at: None,
        })
}

async fn queue(core: &Core, name: &str, stream: &str) -> QueueView {
    let info = async {
        let s = core
            .bus
            .js
            .get_stream(stream)
            .await
            .map_err(|e| e.to_string())?;
        s.consumer_info(name).await.map_err(|e| e.to_string())
    };
    match info.await {
        Ok(i) => QueueView {
            consumer: name.to_owned(),
            pending: i.num_pending,
            ack_pending: u64::try_from(i.num_ack_pending).unwrap_or(0),
            error: None,
        },
        Err(e) => QueueView {
            consumer: name.to_owned(),
            pending: 0,
            ack_pending: 0,
            error: Some(e),
        },
    }
}

/// The notifier's status now.
pub async fn status(core: &Core) -> Result<StatusView, NotificationError> {
    let rows = core
        .db()
        .query_all(Statement::from_string(DbBackend::Postgres, FAILURES_SQL))
        .await?;
    let mut recent_failures = Vec::with_capacity(rows.len());
    for r in rows {
        recent_failures.push(ChannelFailures {
            channel_id: r.try_get("", "channel_id")?,
            channel_kind: r.try_get("", "channel_kind")?,
            failed_attempts: r.try_get("", "failed_attempts")?,
            dead_lettered: r.try_get("", "dead_lettered")?,
            last_error: r.try_get("", "last_error")?,
            last_failed_at: r
                .try_get::<Option<chrono::DateTime<chrono::FixedOffset>>>("", "last_failed_at")?
                .map(|t| t.to_utc()),
        });
    }
    let streams = &core.bus.streams;
    let (events, commands) = tokio::join!(
        queue(core, consumer::NOTIFIER_EVENTS, &streams.events),
        queue(core, consumer::NOTIFIER_COMMANDS, &streams.commands),
    );
    let queues = vec![events, commands];
    let queue_depth = queues.iter().map(|q| q.pending + q.ack_pending).sum();
    let (replicas, control) = tokio::join!(replicas(core), control(core));
    Ok(StatusView {
        paused: control.paused,
        paused_by: control.paused_by,
        replicas,
        queues,
        queue_depth,
        recent_failures,
    })
}
