//! `recorder-notifications`: every `NotificationRecorded` event into
//! PostgreSQL, once per envelope id (`notification_attempts`), and the
//! notification's latest state (`notifications`), which only moves
//! forward: an older event never overwrites a newer one.

use std::sync::Arc;

use opsc_proto::CloudEvent;
use opsc_proto::notify::{DeliveryStatus, NotificationRecorded};
use opsc_proto::topology::{Topology, consumer};
use opsc_runtime::bus::consume::{self, Delivery, Handler, Options, Outcome};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, TransactionTrait};
use tokio_util::sync::CancellationToken;

use crate::core::Core;
use crate::runs::wire_name;

/// The order of statuses recorded at the same instant.
pub fn rank(s: DeliveryStatus) -> i32 {
    match s {
        DeliveryStatus::Failed | DeliveryStatus::Held => 1,
        DeliveryStatus::Dropped => 2,
        DeliveryStatus::Delivered | DeliveryStatus::DeadLettered => 3,
        DeliveryStatus::Acknowledged => 4,
    }
}

const UPSERT: &str = r"
INSERT INTO notifications (id, status, status_rank, attempts, max_attempts, origin, rule_id,
  trigger, channel_id, channel_kind, recipient, user_id, job_id, run_id, notice_id, subject, text,
  html, error, provider_id, first_at, last_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
  $20, $21, $22)
ON CONFLICT (id) DO UPDATE SET
  status = EXCLUDED.status, status_rank = EXCLUDED.status_rank,
  max_attempts = EXCLUDED.max_attempts, error = EXCLUDED.error,
  provider_id = COALESCE(EXCLUDED.provider_id, notifications.provider_id),
  subject = EXCLUDED.subject, text = EXCLUDED.text, html = EXCLUDED.html,
  last_at = EXCLUDED.last_at
WHERE (EXCLUDED.last_at, EXCLUDED.status_rank) > (notifications.last_at, notifications.status_rank)
";

const WIDEN: &str = r"
UPDATE notifications SET attempts = GREATEST(attempts, $2), first_at = LEAST(first_at, $3)
WHERE id = $1 AND (attempts < $2 OR first_at > $3)
";

const ATTEMPT: &str = r"
INSERT INTO notification_attempts (event_id, notification_id, status, attempt, error,
  provider_id, replica, started_at, duration_ms)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (event_id) DO NOTHING
";

/// Records notification events until shutdown.
pub async fn record(core: Core, shutdown: CancellationToken) {
    let Some(spec) = Topology::shared_consumer(core.bus.prefix(), consumer::RECORDER_NOTIFICATIONS)
    else {
        tracing::error!("The topology declares no recorder-notifications consumer.");
        return;
    };
    let bus = core.bus.clone();
    consume::run(
        bus,
        Options::new(spec).concurrency(8).batch(128),
        Arc::new(Recorder { core }),
        shutdown,
    )
    .await;
}

/// The notification recorder.
#[derive(Debug)]
struct Recorder {
    core: Core,
}

impl Handler<CloudEvent<NotificationRecorded>> for Recorder {
    async fn handle(&self, d: &Delivery<CloudEvent<NotificationRecorded>>) -> Outcome {
        match insert(self.core.db(), &d.message.id, &d.message.data).await {
            Ok(()) => Outcome::Ack,
            Err(e) => Outcome::retry(consume::backoff(d.deliveries), e.to_string()),
        }
    }
}

fn to_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// Records one event (idempotent by `event_id`).
pub async fn insert(
    db: &sea_orm::DatabaseConnection,
    event_id: &str,
    n: &NotificationRecorded,
) -> Result<(), DbErr> {
    let ended = n.started_at
        + chrono::Duration::milliseconds(i64::try_from(n.duration_ms).unwrap_or(i64::MAX / 2));
    let pg = |sql: &str, v: Vec<sea_orm::Value>| {
        Statement::from_sql_and_values(DbBackend::Postgres, sql, v)
    };
    let txn = db.begin().await?;
    // An acknowledgement is a fact about the alert, not a new message: it
    // never replaces what was sent, its error or a dead-lettered status
    // (the api records who acknowledged on the row itself); it is kept as
    // an attempt row only.
    let upsert = if n.status == DeliveryStatus::Acknowledged {
        "INSERT INTO notifications (id, status, status_rank, attempts, max_attempts, origin, rule_id,
  trigger, channel_id, channel_kind, recipient, user_id, job_id, run_id, notice_id, subject, text,
  html, error, provider_id, first_at, last_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
  $20, $21, $22) ON CONFLICT (id) DO NOTHING"
    } else {
        UPSERT
    };
    txn.execute(pg(
        upsert,
        vec![
            n.notification_id.into(),
            n.status.as_str().to_owned().into(),
            rank(n.status).into(),
            to_i32(n.attempt).into(),
            to_i32(n.max_attempts).into(),
            n.origin.clone().into(),
            n.rule_id.into(),
            n.trigger.map(|t| t.as_str().to_owned()).into(),
            n.channel_id.into(),
            wire_name(n.channel_kind).into(),
            n.recipient.clone().into(),
            n.user_id.into(),
            n.job_id.into(),
            n.run_id.into(),
            n.notice_id.clone().into(),
            n.subject.clone().into(),
            n.text.clone().into(),
            n.html.clone().into(),
            n.error.clone().into(),
            n.provider_id.clone().into(),
            n.started_at.into(),
            ended.into(),
        ],
    ))
    .await?;
    txn.execute(pg(
        WIDEN,
        vec![
            n.notification_id.into(),
            to_i32(n.attempt).into(),
            n.started_at.into(),
        ],
    ))
    .await?;
    txn.execute(pg(
        ATTEMPT,
        vec![
            event_id.to_owned().into(),
            n.notification_id.into(),
            n.status.as_str().to_owned().into(),
            to_i32(n.attempt).into(),
            n.error.clone().into(),
            n.provider_id.clone().into(),
            n.replica.clone().into(),
            n.started_at.into(),
            i64::try_from(n.duration_ms).unwrap_or(i64::MAX).into(),
        ],
    ))
    .await?;
    txn.commit().await
}
