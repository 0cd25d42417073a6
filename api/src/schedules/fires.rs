//! The recorder of what the scheduler did with each occurrence: its
//! schedule events (`<p>.evt.schedule.<id>.<fired|skipped|misfired>`,
//! durable `recorder-schedules`) projected into `schedule_fires`, one row
//! per event id however often an event is delivered. Reading them back is
//! [`super::history`].
//!
//! An event of a type this version does not record, or one that does not
//! decode, is dead-lettered with the reason; an event of a schedule that no
//! longer exists is dropped.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use opsc_proto::EventType;
use opsc_proto::envelope::{Decode, RawEvent};
use opsc_proto::events::{ScheduleFired, ScheduleMisfired, ScheduleSkipped};
use opsc_proto::topology::{Topology, consumer};
use opsc_runtime::bus::consume::{self, Delivery, Handler, Options, Outcome};
use opsc_runtime::metrics::Labels;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use sea_orm::{ConnectionTrait, DbBackend, SqlErr, Statement};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::core::Core;
use crate::metrics::labels;
use crate::runs::wire_name;

/// Events recorded at once.
const CONCURRENCY: usize = 8;

/// The recorder's metric: fires recorded, by `kind`.
#[derive(Debug, Clone)]
pub struct FireMetrics {
    recorded: Family<Labels, Counter>,
}

impl FireMetrics {
    /// Creates and registers the family (`opsc_schedule_fires_recorded_total`).
    pub fn register(metrics: &opsc_runtime::Metrics) -> Self {
        let m = Self {
            recorded: Family::default(),
        };
        metrics.register(
            "schedule_fires_recorded",
            "Schedule events recorded, by kind (fired, skipped, misfired)",
            m.recorded.clone(),
        );
        m
    }
}

/// A decoded schedule event.
#[derive(Debug)]
enum Event {
    Fired(ScheduleFired),
    Skipped(ScheduleSkipped),
    Misfired(ScheduleMisfired),
    /// A valid envelope of a type this version does not record.
    Unknown(String),
}

/// One delivery: the envelope's id and its event.
#[derive(Debug)]
struct Incoming {
    id: String,
    event: Event,
}

impl Decode for Incoming {
    fn decode(payload: &[u8]) -> Result<Option<Self>, String> {
        let raw = RawEvent::decode_raw(payload).map_err(|e| e.to_string())?;
        let data = raw.data.get();
        let bad = |e: serde_json::Error| format!("malformed {} data: {e}", raw.event_type);
        let event = match raw.event_type.as_str() {
            ScheduleFired::TYPE => Event::Fired(serde_json::from_str(data).map_err(bad)?),
            ScheduleSkipped::TYPE => Event::Skipped(serde_json::from_str(data).map_err(bad)?),
            ScheduleMisfired::TYPE => Event::Misfired(serde_json::from_str(data).map_err(bad)?),
            other => Event::Unknown(other.to_owned()),
        };
        Ok(Some(Self { id: raw.id, event }))
    }
}

/// A row to insert.
struct Row {
    schedule_id: Uuid,
    kind: &'static str,
    fire_at: DateTime<Utc>,
    last_fire_at: Option<DateTime<Utc>>,
    count: u64,
    count_capped: bool,
    local_time: Option<String>,
    lag_ms: Option<f64>,
    catch_up: bool,
    window_id: Option<Uuid>,
    deferred: bool,
    reason: Option<String>,
    intent_key: Option<String>,
    revision: u64,
    term: Option<u64>,
}

impl Row {
    fn of(event: &Event) -> Option<Self> {
        let base = |schedule_id, kind, fire_at, revision| Row {
            schedule_id,
            kind,
            fire_at,
            last_fire_at: None,
            count: 1,
            count_capped: false,
            local_time: None,
            lag_ms: None,
            catch_up: false,
            window_id: None,
            deferred: false,
            reason: None,
            intent_key: None,
            revision,
            term: None,
        };
        Some(match event {
            Event::Fired(e) => Row {
                lag_ms: Some(e.lag_ms),
                catch_up: e.catch_up,
                window_id: e.deferred_by,
                deferred: e.deferred_by.is_some(),
                intent_key: Some(e.intent_key.clone()),
                term: Some(e.term),
                ..base(e.schedule_id, "fired", e.fire_at, e.revision)
            },
            Event::Skipped(e) => Row {
                reason: Some(wire_name(e.reason)),
                window_id: e.window_id,
                local_time: Some(e.local_time.clone()),
                ..base(e.schedule_id, "skipped", e.fire_at, e.revision)
            },
            Event::Misfired(e) => Row {
                reason: Some(wire_name(e.reason)),
                last_fire_at: e.last_fire_at,
                count: e.count.max(1),
                count_capped: e.count_capped,
                ..base(e.schedule_id, "misfired", e.fire_at, e.revision)
            },
            Event::Unknown(_) => return None,
        })
    }
}

/// Records schedule events until shutdown.
pub async fn record(core: Core, metrics: FireMetrics, shutdown: CancellationToken) {
    let Some(spec) = Topology::shared_consumer(core.bus.prefix(), consumer::RECORDER_SCHEDULES)
    else {
        tracing::error!("The topology declares no recorder-schedules consumer.");
        return;
    };
    let bus = core.bus.clone();
    consume::run(
        bus,
        Options::new(spec).concurrency(CONCURRENCY).batch(64),
        Arc::new(Recorder { core, metrics }),
        shutdown,
    )
    .await;
}

/// The schedule-event recorder.
#[derive(Debug)]
struct Recorder {
    core: Core,
    metrics: FireMetrics,
}

impl Handler<Incoming> for Recorder {
    async fn handle(&self, d: &Delivery<Incoming>) -> Outcome {
        let Some(row) = Row::of(&d.message.event) else {
            let kind = match &d.message.event {
                Event::Unknown(t) => t.as_str(),
                _ => "",
            };
            return Outcome::DeadLetter(format!(
                "not a schedule event this version records: {kind}"
            ));
        };
        match insert(self.core.db(), &d.message.id, &row).await {
            Ok(fresh) => {
                if fresh {
                    self.metrics
                        .recorded
                        .get_or_create(&labels(&[("kind", row.kind)]))
                        .inc();
                }
                // Recorded (now or before): its notice, idempotent by notice id.
                let fact = crate::notices::publish::ScheduleFact {
                    schedule_id: row.schedule_id,
                    kind: row.kind,
                    fire_at: row.fire_at,
                    reason: row.reason.as_deref(),
                    window_id: row.window_id,
                };
                match crate::notices::schedule_notice(&self.core, fact).await {
                    Ok(()) => Outcome::Ack,
                    Err(e) => Outcome::retry(consume::backoff(d.deliveries), e.to_string()),
                }
            }
            // The schedule was deleted between the check and the insert.
            Err(e) if matches!(e.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))) => {
                Outcome::Ack
            }
            Err(e) => Outcome::retry(consume::backoff(d.deliveries), e.to_string()),
        }
    }
}

/// Inserts the row once per event id; false when it was recorded before or
/// its schedule no longer exists.
async fn insert(db: &impl ConnectionTrait, id: &str, r: &Row) -> Result<bool, sea_orm::DbErr> {
    let done = db
        .execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO schedule_fires (id, schedule_id, kind, fire_at, lag_ms, catch_up, reason,
               intent_key, revision, term, last_fire_at, count, count_capped, local_time, window_id, deferred)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16
             WHERE EXISTS (SELECT 1 FROM schedules WHERE id = $2)
             ON CONFLICT (id) DO NOTHING",
            [
                id.to_owned().into(),
                r.schedule_id.into(),
                r.kind.to_owned().into(),
                r.fire_at.into(),
                r.lag_ms.into(),
                r.catch_up.into(),
                r.reason.clone().into(),
                r.intent_key.clone().into(),
                i64::try_from(r.revision).unwrap_or(i64::MAX).into(),
                r.term.map(|t| i64::try_from(t).unwrap_or(i64::MAX)).into(),
                r.last_fire_at.into(),
                i64::try_from(r.count).unwrap_or(i64::MAX).into(),
                r.count_capped.into(),
                r.local_time.clone().into(),
                r.window_id.into(),
                r.deferred.into(),
            ],
        ))
        .await?;
    Ok(done.rows_affected() == 1)
}
