//! Reading notifications back: the filtered, paginated list, one
//! notification with its attempts, and the dead-letter list.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::NotificationError;
use super::entity::{attempt, notification};
use crate::core::Core;
use crate::jobs::access::Actor;
use crate::store::paging::{Page, Paging, default_limit, paged};
use crate::store::user::Role;

/// Statuses a notification can have.
pub const STATUSES: [&str; 6] = [
    "delivered",
    "failed",
    "dead_lettered",
    "held",
    "dropped",
    "acknowledged",
];

/// `GET /api/v1/notifications` filters.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationQuery {
    /// Only about this job.
    #[serde(default)]
    pub job_id: Option<Uuid>,
    /// Only about this run.
    #[serde(default)]
    pub run_id: Option<Uuid>,
    /// Only through this channel.
    #[serde(default)]
    pub channel_id: Option<Uuid>,
    /// Only with this latest status: `delivered`, `failed`, `dead_lettered`,
    /// `held`, `dropped`, `acknowledged`.
    #[serde(default)]
    pub status: Option<String>,
    /// First attempted at or after (RFC 3339).
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// First attempted before (RFC 3339).
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
    /// Page size, 1 to 500 (default 50).
    #[serde(default = "default_limit")]
    pub limit: u64,
    /// Items to skip.
    #[serde(default)]
    pub offset: u64,
}

/// `GET /api/v1/notifications/dead-letters` filters.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterQuery {
    /// Only through this channel.
    #[serde(default)]
    pub channel_id: Option<Uuid>,
    /// Dead-lettered at or after (RFC 3339).
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Page size, 1 to 500 (default 50).
    #[serde(default = "default_limit")]
    pub limit: u64,
    /// Items to skip.
    #[serde(default)]
    pub offset: u64,
}

/// A notification as the API shows it (the rendered text is shown only
/// with one notification, not in lists).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NotificationView {
    /// The notification.
    pub id: Uuid,
    /// `delivered`, `failed` (retrying), `dead_lettered`, `held`, `dropped`, `acknowledged`.
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// Attempts allowed.
    pub max_attempts: i32,
    /// `rule`, `subscription`, `started_by`, `escalation`, `recovery`, `digest`, `step`, `test`, `resend`.
    pub origin: String,
    /// The rule that decided it.
    pub rule_id: Option<Uuid>,
    /// The trigger (`run_failed` …).
    pub trigger: Option<String>,
    /// The channel.
    pub channel_id: Uuid,
    /// Its kind (`email`, `slack`, `teams`, `webhook`).
    pub channel_kind: String,
    /// The recipient (an address, a Slack channel, `endpoint`); never a secret URL.
    pub recipient: String,
    /// The user it was for.
    pub user_id: Option<Uuid>,
    /// The job it is about.
    pub job_id: Option<Uuid>,
    /// The run it is about.
    pub run_id: Option<Uuid>,
    /// The notice it is about.
    pub notice_id: Option<String>,
    /// The rendered subject.
    pub subject: String,
    /// The latest error (secrets redacted).
    pub error: Option<String>,
    /// The channel's id of the message.
    pub provider_id: Option<String>,
    /// The first attempt or decision.
    pub first_at: DateTime<Utc>,
    /// The latest one.
    pub last_at: DateTime<Utc>,
    /// Who acknowledged it (a user id).
    pub acked_by: Option<Uuid>,
    /// Their user name.
    pub acked_by_name: Option<String>,
    /// When.
    pub acked_at: Option<DateTime<Utc>>,
}

impl From<notification::Model> for NotificationView {
    fn from(m: notification::Model) -> Self {
        Self {
            id: m.id,
            status: m.status,
            attempts: m.attempts,
            max_attempts: m.max_attempts,
            origin: m.origin,
            rule_id: m.rule_id,
            trigger: m.trigger,
            channel_id: m.channel_id,
            channel_kind: m.channel_kind,
            recipient: m.recipient,
            user_id: m.user_id,
            job_id: m.job_id,
            run_id: m.run_id,
            notice_id: m.notice_id,
            subject: m.subject,
            error: m.error,
            provider_id: m.provider_id,
            first_at: m.first_at.to_utc(),
            last_at: m.last_at.to_utc(),
            acked_by: m.acked_by,
            acked_by_name: m.acked_by_name,
            acked_at: m.acked_at.map(|t| t.to_utc()),
        }
    }
}

/// One attempt.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AttemptView {
    /// The event it was recorded from.
    pub event_id: String,
    /// What became of it.
    pub status: String,
    /// Attempt number (0 for held and dropped).
    pub attempt: i32,
    /// What went wrong.
    pub error: Option<String>,
    /// The channel's id of the message.
    pub provider_id: Option<String>,
    /// The notifier replica.
    pub replica: String,
    /// When it began.
    pub started_at: DateTime<Utc>,
    /// How long it took, in ms.
    pub duration_ms: i64,
}

impl From<attempt::Model> for AttemptView {
    fn from(m: attempt::Model) -> Self {
        Self {
            event_id: m.event_id,
            status: m.status,
            attempt: m.attempt,
            error: m.error,
            provider_id: m.provider_id,
            replica: m.replica,
            started_at: m.started_at.to_utc(),
            duration_ms: m.duration_ms,
        }
    }
}

/// One notification with its rendered message and its attempts.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NotificationDetail {
    /// The notification.
    #[serde(flatten)]
    pub notification: NotificationView,
    /// The rendered text.
    pub text: String,
    /// The rendered HTML.
    pub html: Option<String>,
    /// Every attempt, oldest first.
    pub attempts_made: Vec<AttemptView>,
}

/// What `actor` may see: everything for admins, else notifications about
/// a job or addressed to them.
pub fn visible(actor: &Actor) -> Condition {
    if actor.role == Role::Admin {
        Condition::all()
    } else {
        Condition::any()
            .add(notification::Column::JobId.is_not_null())
            .add(notification::Column::UserId.eq(actor.id))
    }
}

/// The notifications `actor` may see matching `q`, newest first.
pub async fn list(
    core: &Core,
    actor: &Actor,
    q: &NotificationQuery,
) -> Result<Page<NotificationView>, NotificationError> {
    if let Some(s) = &q.status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(NotificationError::Invalid(
            "/status",
            format!("unknown status {s:?}: one of {}", STATUSES.join(", ")),
        ));
    }
    if let (Some(a), Some(b)) = (q.since, q.until)
        && a > b
    {
        return Err(NotificationError::Invalid(
            "/until",
            "until is before since".to_owned(),
        ));
    }
    let mut sel = notification::Entity::find().filter(visible(actor));
    if let Some(v) = q.job_id {
        sel = sel.filter(notification::Column::JobId.eq(v));
    }
    if let Some(v) = q.run_id {
        sel = sel.filter(notification::Column::RunId.eq(v));
    }
    if let Some(v) = q.channel_id {
        sel = sel.filter(notification::Column::ChannelId.eq(v));
    }
    if let Some(v) = &q.status {
        sel = sel.filter(notification::Column::Status.eq(v.clone()));
    }
    if let Some(v) = q.since {
        sel = sel.filter(notification::Column::FirstAt.gte(v));
    }
    if let Some(v) = q.until {
        sel = sel.filter(notification::Column::FirstAt.lt(v));
    }
    let sel = sel
        .order_by_desc(notification::Column::FirstAt)
        .order_by_asc(notification::Column::Id);
    Ok(paged(core.db(), sel, Paging::of(Some(q.limit), Some(q.offset))).await?)
}

/// The notification `id`, if `actor` may see it.
pub async fn find_visible(
    core: &Core,
    actor: &Actor,
    id: Uuid,
) -> Result<notification::Model, NotificationError> {
    notification::Entity::find_by_id(id)
        .filter(visible(actor))
        .one(core.db())
        .await?
        .ok_or(NotificationError::NotFound)
}

/// One notification with its attempts.
pub async fn get(
    core: &Core,
    actor: &Actor,
    id: Uuid,
) -> Result<NotificationDetail, NotificationError> {
    let m = find_visible(core, actor, id).await?;
    let attempts = attempt::Entity::find()
        .filter(attempt::Column::NotificationId.eq(id))
        .order_by_asc(attempt::Column::StartedAt)
        .order_by_asc(attempt::Column::Attempt)
        .all(core.db())
        .await?;
    let text = m.text.clone();
    let html = m.html.clone();
    Ok(NotificationDetail {
        notification: m.into(),
        text,
        html,
        attempts_made: attempts.into_iter().map(Into::into).collect(),
    })
}

/// The dead-letter list, newest first (admins).
pub async fn dead_letters(
    core: &Core,
    q: &DeadLetterQuery,
) -> Result<Page<NotificationView>, NotificationError> {
    let mut sel =
        notification::Entity::find().filter(notification::Column::Status.eq("dead_lettered"));
    if let Some(v) = q.channel_id {
        sel = sel.filter(notification::Column::ChannelId.eq(v));
    }
    if let Some(v) = q.since {
        sel = sel.filter(notification::Column::LastAt.gte(v));
    }
    let sel = sel
        .order_by_desc(notification::Column::LastAt)
        .order_by_asc(notification::Column::Id);
    Ok(paged(core.db(), sel, Paging::of(Some(q.limit), Some(q.offset))).await?)
}
