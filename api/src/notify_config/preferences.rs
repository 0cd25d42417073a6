//! One user's notification preferences: their own, or anyone's for
//! admins (a viewer may edit their own). A user without a row has the
//! defaults (`UTC`, nothing subscribed). Subscriptions name jobs and
//! groups that exist (every signed-in user sees every job) and deliver
//! through email or Slack channels only.

use std::collections::BTreeMap;

use chrono::Utc;
use opsc_proto::job_check::PathError;
use opsc_proto::notify::{ChannelKind, Level, PreferencesDoc, QuietHours, Subscriptions};
use schemars::JsonSchema;
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, Set};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{NotifyConfigError, mirror, refuse, validate};
use crate::core::Core;
use crate::jobs::access::Actor;
use crate::store::user::Role;
use crate::store::{job, notification_preference as pref, target_group, user};

fn utc() -> String {
    "UTC".to_owned()
}

/// What a user chooses (`PUT`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesBody {
    /// Their Slack member id (`U…`), for direct messages.
    #[serde(default)]
    pub slack_user: Option<String>,
    /// IANA time zone of their quiet hours (default `UTC`).
    #[serde(default = "utc")]
    pub time_zone: String,
    /// Level per channel id.
    #[serde(default)]
    pub channels: BTreeMap<Uuid, Level>,
    /// Subscriptions.
    #[serde(default)]
    pub subscriptions: Subscriptions,
    /// Quiet hours; absent: the defaults'.
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    /// Quiet hours off, overriding the defaults.
    #[serde(default)]
    pub quiet_hours_off: bool,
}

impl Default for PreferencesBody {
    fn default() -> Self {
        Self {
            slack_user: None,
            time_zone: utc(),
            channels: BTreeMap::new(),
            subscriptions: Subscriptions::default(),
            quiet_hours: None,
            quiet_hours_off: false,
        }
    }
}

/// Refuses `actor` unless they are `user_id` or an admin.
pub fn may(actor: &Actor, user_id: Uuid) -> Result<(), NotifyConfigError> {
    if actor.role == Role::Admin || actor.id == user_id {
        Ok(())
    } else {
        Err(NotifyConfigError::Forbidden(
            "only admins read or change another user's notification preferences".to_owned(),
        ))
    }
}

/// The document of a user (their row, or the defaults).
pub fn doc_of(u: &user::Model, row: Option<&pref::Model>) -> PreferencesDoc {
    let body: PreferencesBody = row
        .and_then(|r| serde_json::from_value(r.document.clone()).ok())
        .unwrap_or_default();
    PreferencesDoc {
        user_id: u.id,
        username: u.username.clone(),
        email: u.email.clone().filter(|e| !e.is_empty()),
        slack_user: body.slack_user,
        time_zone: body.time_zone,
        channels: body.channels,
        subscriptions: body.subscriptions,
        quiet_hours: body.quiet_hours,
        quiet_hours_off: body.quiet_hours_off,
        active: u.active,
        revision: row.map_or(0, |r| u64::try_from(r.revision).unwrap_or(0)),
    }
}

async fn user_of(core: &Core, id: Uuid) -> Result<user::Model, NotifyConfigError> {
    user::Entity::find_by_id(id)
        .one(core.db())
        .await?
        .ok_or(NotifyConfigError::NotFound("user"))
}

/// A user's preferences, if `actor` may read them.
pub async fn get(
    core: &Core,
    actor: &Actor,
    id: Uuid,
) -> Result<PreferencesDoc, NotifyConfigError> {
    may(actor, id)?;
    let u = user_of(core, id).await?;
    let row = pref::Entity::find_by_id(id).one(core.db()).await?;
    Ok(doc_of(&u, row.as_ref()))
}

async fn check(core: &Core, b: &PreferencesBody) -> Result<(), NotifyConfigError> {
    let mut e = Vec::new();
    if !validate::zone_ok(&b.time_zone) {
        e.push(PathError::new(
            "/time_zone",
            format!("'{}' is not an IANA time zone", b.time_zone),
        ));
    }
    if let Some(s) = &b.slack_user
        && (s.len() < 3
            || s.len() > 64
            || !(s.starts_with('U') || s.starts_with('W'))
            || !s
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
    {
        // Only a member id: a channel id (`C…`) here would let a user
        // route what they subscribe to into a shared channel.
        e.push(PathError::new(
            "/slack_user",
            "must be a Slack member id such as U012AB3CD (U or W, then capital letters and digits)",
        ));
    }
    if let Some(q) = &b.quiet_hours {
        e.extend(q.check("/quiet_hours"));
    }
    let s = &b.subscriptions;
    let kinds = validate::channel_kinds(
        core.db(),
        b.channels.keys().copied().chain(s.channels.iter().copied()),
    )
    .await?;
    for id in b.channels.keys() {
        if !kinds.contains_key(id) {
            e.push(PathError::new(
                format!("/channels/{id}"),
                "no such notification channel",
            ));
        }
    }
    for (i, id) in s.channels.iter().enumerate() {
        match kinds.get(id) {
            None => e.push(PathError::new(
                format!("/subscriptions/channels/{i}"),
                "no such notification channel",
            )),
            Some(k) if !matches!(k, ChannelKind::Email | ChannelKind::Slack) => {
                e.push(PathError::new(
                    format!("/subscriptions/channels/{i}"),
                    "subscriptions deliver through email or Slack channels only",
                ));
            }
            Some(_) => {}
        }
    }
    let jobs =
        validate::existing::<job::Entity, _>(core.db(), job::Column::Id, s.job_ids.iter().copied())
            .await?;
    for (i, id) in s.job_ids.iter().enumerate() {
        if !jobs.contains(id) {
            e.push(PathError::new(
                format!("/subscriptions/job_ids/{i}"),
                "no such job",
            ));
        }
    }
    let groups = validate::existing::<target_group::Entity, _>(
        core.db(),
        target_group::Column::Id,
        s.group_ids.iter().copied(),
    )
    .await?;
    for (i, id) in s.group_ids.iter().enumerate() {
        if !groups.contains(id) {
            e.push(PathError::new(
                format!("/subscriptions/group_ids/{i}"),
                "no such target group",
            ));
        }
    }
    for (i, t) in s.tags.iter().enumerate() {
        if t.trim().is_empty() || t.len() > 64 {
            e.push(PathError::new(
                format!("/subscriptions/tags/{i}"),
                "must be 1 to 64 characters",
            ));
        }
    }
    refuse(e)
}

/// Replaces a user's preferences, if `actor` may.
pub async fn put(
    core: &Core,
    actor: &Actor,
    id: Uuid,
    body: PreferencesBody,
) -> Result<PreferencesDoc, NotifyConfigError> {
    may(actor, id)?;
    let u = user_of(core, id).await?;
    check(core, &body).await?;
    let now = Utc::now().fixed_offset();
    let row = pref::ActiveModel {
        user_id: Set(id),
        document: Set(serde_json::to_value(&body).map_err(|e| NotifyConfigError::broken(&e))?),
        updated_at: Set(now),
        revision: Set(1),
    };
    pref::Entity::insert(row)
        .on_conflict(
            OnConflict::column(pref::Column::UserId)
                .update_columns([pref::Column::Document, pref::Column::UpdatedAt])
                .value(
                    pref::Column::Revision,
                    sea_orm::sea_query::Expr::col((pref::Entity, pref::Column::Revision)).add(1),
                )
                .to_owned(),
        )
        .exec(core.db())
        .await?;
    mirror::after_write(core, mirror::Key::Preferences(id)).await;
    let row = pref::Entity::find_by_id(id).one(core.db()).await?;
    Ok(doc_of(&u, row.as_ref()))
}
