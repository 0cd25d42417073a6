//! Acting on notifications: acknowledging an alert (which stops its
//! escalation: `NotifyCommand::Ack`) and re-sending dead letters
//! (`NotifyCommand::Resend` with the stored rendered message). Each answers
//! only after JetStream took the command.

use chrono::{DateTime, Utc};
use opsc_proto::CloudEvent;
use opsc_proto::notify::{AckRequest, NotifyCommand, ResendRequest};
use schemars::JsonSchema;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::NotificationError;
use super::entity::notification;
use super::queries::find_visible;
use crate::auth::Principal;
use crate::core::Core;
use crate::jobs::access::{Actor, allowed_on};
use crate::store::job;
use crate::store::user::Role;

/// Dead letters re-sent by one bulk request, at most.
pub const MAX_BULK: u64 = 500;

/// The answer to an acknowledgement.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AckView {
    /// The notification.
    pub notification_id: Uuid,
    /// Who acknowledged it first (a user id).
    pub acked_by: Option<Uuid>,
    /// Their user name.
    pub acked_by_name: Option<String>,
    /// When it was first acknowledged.
    pub acked_at: Option<DateTime<Utc>>,
    /// False when it had been acknowledged before (this request changed nothing).
    pub first: bool,
}

/// Whether `actor` may acknowledge `n`: its recipient, admins, and who may
/// run its job (the owner, operators granted run or edit).
async fn may_ack(
    core: &Core,
    actor: &Actor,
    n: &notification::Model,
) -> Result<bool, sea_orm::DbErr> {
    if actor.role == Role::Admin || n.user_id == Some(actor.id) {
        return Ok(true);
    }
    let Some(job_id) = n.job_id else {
        return Ok(false);
    };
    match job::Entity::find_by_id(job_id).one(core.db()).await? {
        Some(j) => Ok(allowed_on(core.db(), actor, &j).await?.run),
        None => Ok(false),
    }
}

/// Acknowledges `id` as `me`; a second acknowledgement changes nothing
/// and answers who acknowledged first. The command is published each
/// time (deduplicated by the stream), so a failed publish is completed by
/// asking again.
pub async fn ack(core: &Core, me: &Principal, id: Uuid) -> Result<AckView, NotificationError> {
    let actor = Actor::from(me);
    let n = find_visible(core, &actor, id).await?;
    if !may_ack(core, &actor, &n).await? {
        return Err(NotificationError::Denied(
            "only its recipient, admins, and who may run its job may acknowledge a notification"
                .to_owned(),
        ));
    }
    let now = Utc::now();
    let done = notification::Entity::update_many()
        .col_expr(notification::Column::AckedBy, me.user_id.into())
        .col_expr(
            notification::Column::AckedByName,
            me.username.clone().into(),
        )
        .col_expr(notification::Column::AckedAt, now.fixed_offset().into())
        .filter(notification::Column::Id.eq(id))
        .filter(notification::Column::AckedAt.is_null())
        .exec(core.db())
        .await?;
    let first = done.rows_affected == 1;
    let n = notification::Entity::find_by_id(id)
        .one(core.db())
        .await?
        .ok_or(NotificationError::NotFound)?;
    let at = n.acked_at.map_or(now, |t| t.to_utc());
    let cmd = NotifyCommand::Ack(AckRequest {
        notification_id: id,
        job_id: n.job_id,
        by: n
            .acked_by_name
            .clone()
            .unwrap_or_else(|| me.username.clone()),
        at,
    });
    let event = CloudEvent::new(core.bus.source.clone(), cmd).with_id(format!("ack:{id}"));
    core.bus
        .publish(&event)
        .await
        .map_err(|e| NotificationError::Unavailable(e.to_string()))?;
    Ok(AckView {
        notification_id: id,
        acked_by: n.acked_by,
        acked_by_name: n.acked_by_name,
        acked_at: n.acked_at.map(|t| t.to_utc()),
        first,
    })
}

/// `POST /api/v1/notifications/dead-letters/resend`: the ids, or every
/// dead letter of a channel since a time.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkResend {
    /// These dead letters (at most 500).
    #[serde(default)]
    pub ids: Option<Vec<Uuid>>,
    /// Every dead letter of this channel…
    #[serde(default)]
    pub channel_id: Option<Uuid>,
    /// …dead-lettered at or after this time (RFC 3339).
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
}

/// One resend asked for.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ResendView {
    /// The notification.
    pub notification_id: Uuid,
    /// The new attempt series' id.
    pub resend_id: Uuid,
}

/// The answer to a resend.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ResendsView {
    /// The resends published.
    pub resends: Vec<ResendView>,
    /// Ids asked for that are not dead letters (unknown or not dead-lettered).
    pub skipped: Vec<Uuid>,
}

/// Splits `rows` into those that may be re-sent and the ids of those that
/// may not: a `notify.*` step's message goes out again only through a
/// channel that (still) allows steps, so a step the notifier refused cannot
/// reach a locked channel through an admin's bulk resend.
async fn resendable(
    core: &Core,
    rows: Vec<notification::Model>,
) -> Result<(Vec<notification::Model>, Vec<Uuid>), NotificationError> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let mut ok = Vec::with_capacity(rows.len());
    let mut refused = Vec::new();
    for n in rows {
        if n.origin != "step" {
            ok.push(n);
            continue;
        }
        let allowed = core
            .db()
            .query_one(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT allow_steps FROM notification_channels WHERE id = $1",
                vec![n.channel_id.into()],
            ))
            .await?
            .and_then(|r| r.try_get::<bool>("", "allow_steps").ok())
            .unwrap_or(false);
        if allowed {
            ok.push(n);
        } else {
            refused.push(n.id);
        }
    }
    Ok((ok, refused))
}

/// Publishes a resend of each dead letter in `rows`.
async fn publish(
    core: &Core,
    me: &Principal,
    rows: Vec<notification::Model>,
) -> Result<Vec<ResendView>, NotificationError> {
    let mut out = Vec::with_capacity(rows.len());
    for n in rows {
        let resend_id = Uuid::new_v4();
        let cmd = NotifyCommand::Resend(ResendRequest {
            notification_id: n.id,
            resend_id,
            channel_id: n.channel_id,
            recipient: n.recipient,
            subject: n.subject,
            text: n.text,
            html: n.html,
            requested_by: me.username.clone(),
        });
        let event =
            CloudEvent::new(core.bus.source.clone(), cmd).with_id(format!("resend:{resend_id}"));
        core.bus
            .publish(&event)
            .await
            .map_err(|e| NotificationError::Unavailable(e.to_string()))?;
        out.push(ResendView {
            notification_id: n.id,
            resend_id,
        });
    }
    Ok(out)
}

/// Re-sends the dead letter `id`.
pub async fn resend_one(
    core: &Core,
    me: &Principal,
    id: Uuid,
) -> Result<ResendsView, NotificationError> {
    let n = notification::Entity::find_by_id(id)
        .one(core.db())
        .await?
        .ok_or(NotificationError::NotFound)?;
    if n.status != "dead_lettered" {
        return Err(NotificationError::NotDeadLettered(id));
    }
    let (rows, refused) = resendable(core, vec![n]).await?;
    if !refused.is_empty() {
        return Err(NotificationError::Invalid(
            "/id",
            "a notify step's message is re-sent only through a channel that allows steps"
                .to_owned(),
        ));
    }
    Ok(ResendsView {
        resends: publish(core, me, rows).await?,
        skipped: Vec::new(),
    })
}

/// Re-sends dead letters in bulk.
pub async fn resend_bulk(
    core: &Core,
    me: &Principal,
    body: &BulkResend,
) -> Result<ResendsView, NotificationError> {
    let dead =
        notification::Entity::find().filter(notification::Column::Status.eq("dead_lettered"));
    let (rows, skipped) = match (&body.ids, body.channel_id) {
        (Some(_), Some(_)) => {
            return Err(NotificationError::Invalid(
                "/ids",
                "give either ids or channel_id (with since), not both".to_owned(),
            ));
        }
        (Some(ids), None) => {
            if ids.is_empty() || ids.len() > usize::try_from(MAX_BULK).unwrap_or(usize::MAX) {
                return Err(NotificationError::Invalid(
                    "/ids",
                    format!("give 1 to {MAX_BULK} ids"),
                ));
            }
            let rows = dead
                .filter(notification::Column::Id.is_in(ids.clone()))
                .all(core.db())
                .await?;
            let found: std::collections::HashSet<Uuid> = rows.iter().map(|r| r.id).collect();
            let mut skipped: Vec<Uuid> =
                ids.iter().copied().filter(|i| !found.contains(i)).collect();
            skipped.sort_unstable();
            skipped.dedup();
            (rows, skipped)
        }
        (None, Some(channel)) => {
            let Some(since) = body.since else {
                return Err(NotificationError::Invalid(
                    "/since",
                    "since is required with channel_id".to_owned(),
                ));
            };
            let rows = dead
                .filter(notification::Column::ChannelId.eq(channel))
                .filter(notification::Column::LastAt.gte(since))
                .order_by_asc(notification::Column::LastAt)
                .limit(MAX_BULK)
                .all(core.db())
                .await?;
            (rows, Vec::new())
        }
        (None, None) => {
            return Err(NotificationError::Invalid(
                "/ids",
                "give ids, or channel_id and since".to_owned(),
            ));
        }
    };
    let (rows, refused) = resendable(core, rows).await?;
    let mut skipped = skipped;
    skipped.extend(refused);
    Ok(ResendsView {
        resends: publish(core, me, rows).await?,
        skipped,
    })
}
