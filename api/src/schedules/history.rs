//! Reading back what the scheduler did with each occurrence (recorded by
//! [`super::fires`]): each fire with the run its intent became.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ScheduleError;
use crate::core::Core;
use crate::store::{run, schedule_fire};

/// Fires shown by default, and at most.
const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;

/// `GET /api/v1/schedules/{id}/fires`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FiresQuery {
    /// How many, newest first: 1 to 500 (default 50).
    #[serde(default)]
    pub limit: Option<u64>,
}

/// One occurrence the scheduler handled.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FireView {
    /// The schedule event's id.
    pub id: String,
    /// The schedule.
    pub schedule_id: Uuid,
    /// `fired`, `skipped` or `misfired`.
    pub kind: String,
    /// The occurrence's instant (of a group of misfires: the first).
    pub fire_at: DateTime<Utc>,
    /// `misfired`: the last of the consecutive missed instants dropped for
    /// the same reason that this entry stands for.
    pub last_fire_at: Option<DateTime<Utc>>,
    /// How many occurrences it stands for (1 but for grouped misfires).
    pub count: u64,
    /// `misfired`: more were dropped than `count` says (it stopped at the
    /// scheduler's counting limit).
    pub count_capped: bool,
    /// `skipped`: the wall time the expression named, in the schedule's zone.
    pub local_time: Option<String>,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// `fired`: milliseconds from the instant to the intent's acknowledgement.
    pub lag_ms: Option<f64>,
    /// `fired`: a catch-up of a missed fire.
    pub catch_up: bool,
    /// `fired`: the maintenance window that deferred it to its end.
    pub deferred_by: Option<Uuid>,
    /// `skipped` with reason `window`: the maintenance window.
    pub window_id: Option<Uuid>,
    /// `skipped`, `misfired`: why (`dst_gap`, `window`, `misfire_skip`,
    /// `too_old`, `superseded`, `over_max_count`).
    pub reason: Option<String>,
    /// `fired`: the run intent's idempotency key.
    pub intent_key: Option<String>,
    /// The schedule revision it was handled under.
    pub revision: u64,
    /// `fired`: the leader's lease term.
    pub term: Option<u64>,
    /// `fired`: the run the intent became, once admitted.
    pub run_id: Option<Uuid>,
}

/// Fires, newest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FiresView {
    /// At most the limit asked for.
    pub items: Vec<FireView>,
}

/// The views of `rows`, each fire with its run (runs record a bus
/// intent's key as `bus:<key>`).
async fn with_runs(
    db: &impl ConnectionTrait,
    rows: Vec<schedule_fire::Model>,
) -> Result<Vec<FireView>, sea_orm::DbErr> {
    let intents: Vec<String> = rows
        .iter()
        .filter_map(|r| r.intent_key.as_ref().map(|k| format!("bus:{k}")))
        .collect();
    let runs: HashMap<String, Uuid> = if intents.is_empty() {
        HashMap::new()
    } else {
        run::Entity::find()
            .select_only()
            .column(run::Column::IntentId)
            .column(run::Column::Id)
            .filter(run::Column::IntentId.is_in(intents))
            .into_tuple::<(Option<String>, Uuid)>()
            .all(db)
            .await?
            .into_iter()
            .filter_map(|(k, id)| k.map(|k| (k, id)))
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|r| FireView {
            run_id: r
                .intent_key
                .as_ref()
                .and_then(|k| runs.get(&format!("bus:{k}")).copied()),
            id: r.id,
            schedule_id: r.schedule_id,
            kind: r.kind,
            fire_at: r.fire_at.to_utc(),
            last_fire_at: r.last_fire_at.map(|t| t.to_utc()),
            count: u64::try_from(r.count).unwrap_or(1),
            count_capped: r.count_capped,
            local_time: r.local_time,
            recorded_at: r.recorded_at.to_utc(),
            lag_ms: r.lag_ms,
            catch_up: r.catch_up,
            deferred_by: r.window_id.filter(|_| r.deferred),
            window_id: r.window_id.filter(|_| !r.deferred),
            reason: r.reason,
            intent_key: r.intent_key,
            revision: u64::try_from(r.revision).unwrap_or(0),
            term: r.term.and_then(|t| u64::try_from(t).ok()),
        })
        .collect())
}

/// The fires of one schedule, newest first.
pub async fn list(core: &Core, id: Uuid, q: &FiresQuery) -> Result<FiresView, ScheduleError> {
    super::crud::find(core.db(), id).await?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let rows = schedule_fire::Entity::find()
        .filter(schedule_fire::Column::ScheduleId.eq(id))
        .order_by_desc(schedule_fire::Column::FireAt)
        .order_by_desc(schedule_fire::Column::RecordedAt)
        .limit(limit)
        .all(core.db())
        .await?;
    Ok(FiresView {
        items: with_runs(core.db(), rows).await?,
    })
}

/// The last `n` fires of any schedule, newest recorded first.
pub async fn recent(core: &Core, n: u64) -> Result<Vec<FireView>, sea_orm::DbErr> {
    let rows = schedule_fire::Entity::find()
        .order_by_desc(schedule_fire::Column::RecordedAt)
        .limit(n)
        .all(core.db())
        .await?;
    with_runs(core.db(), rows).await
}
