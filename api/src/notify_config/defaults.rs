//! The admins' defaults (one row) and the delivery pause (the
//! `notifier` setting), each mirrored after its write.

use chrono::Utc;
use opsc_proto::job_check::PathError;
use opsc_proto::notify::{ChannelKind, DefaultsDoc, NotifyControl};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait, Set};

use super::{NotifyConfigError, mirror, refuse, validate};
use crate::core::Core;
use crate::store::{notification_default as defaults, setting};

/// The settings key of the pause switch.
const CONTROL: &str = "notifier";

/// The defaults (empty when never set).
pub async fn get(db: &impl ConnectionTrait) -> Result<DefaultsDoc, NotifyConfigError> {
    Ok(defaults::Entity::find_by_id(1_i16)
        .one(db)
        .await?
        .and_then(|r| serde_json::from_value(r.document).ok())
        .unwrap_or_default())
}

/// Replaces the defaults.
pub async fn put(core: &Core, doc: DefaultsDoc) -> Result<DefaultsDoc, NotifyConfigError> {
    let mut e = Vec::new();
    if let Some(q) = &doc.quiet_hours {
        e.extend(q.check("/quiet_hours"));
    }
    let kinds = validate::channel_kinds(
        core.db(),
        doc.channels
            .keys()
            .copied()
            .chain(doc.channels_for_users.iter().copied()),
    )
    .await?;
    for id in doc.channels.keys() {
        if !kinds.contains_key(id) {
            e.push(PathError::new(
                format!("/channels/{id}"),
                "no such notification channel",
            ));
        }
    }
    for (i, id) in doc.channels_for_users.iter().enumerate() {
        match kinds.get(id) {
            None => e.push(PathError::new(
                format!("/channels_for_users/{i}"),
                "no such notification channel",
            )),
            Some(k) if !matches!(k, ChannelKind::Email | ChannelKind::Slack) => {
                e.push(PathError::new(
                    format!("/channels_for_users/{i}"),
                    "users are reached through email or Slack channels only",
                ));
            }
            Some(_) => {}
        }
    }
    refuse(e)?;
    let row = defaults::ActiveModel {
        id: Set(1),
        document: Set(serde_json::to_value(&doc).map_err(|e| NotifyConfigError::broken(&e))?),
        updated_at: Set(Utc::now().fixed_offset()),
        revision: Set(1),
    };
    defaults::Entity::insert(row)
        .on_conflict(
            OnConflict::column(defaults::Column::Id)
                .update_columns([defaults::Column::Document, defaults::Column::UpdatedAt])
                .value(
                    defaults::Column::Revision,
                    sea_orm::sea_query::Expr::col((defaults::Entity, defaults::Column::Revision))
                        .add(1),
                )
                .to_owned(),
        )
        .exec(core.db())
        .await?;
    mirror::after_write(core, mirror::Key::Defaults).await;
    get(core.db()).await
}

/// The pause switch (off when never set).
pub async fn control(db: &impl ConnectionTrait) -> Result<NotifyControl, NotifyConfigError> {
    Ok(setting::Entity::find_by_id(CONTROL.to_owned())
        .one(db)
        .await?
        .and_then(|r| serde_json::from_value(r.value).ok())
        .unwrap_or_default())
}

/// Pauses or resumes delivery; `by` is the user name.
pub async fn set_paused(
    core: &Core,
    by: &str,
    paused: bool,
) -> Result<NotifyControl, NotifyConfigError> {
    let now = Utc::now();
    let control = NotifyControl {
        paused,
        paused_by: paused.then(|| by.to_owned()),
        paused_at: paused.then_some(now),
    };
    let row = setting::ActiveModel {
        key: Set(CONTROL.to_owned()),
        value: Set(serde_json::to_value(&control).map_err(|e| NotifyConfigError::broken(&e))?),
        updated_at: Set(now.fixed_offset()),
    };
    setting::Entity::insert(row)
        .on_conflict(
            OnConflict::column(setting::Column::Key)
                .update_columns([setting::Column::Value, setting::Column::UpdatedAt])
                .to_owned(),
        )
        .exec(core.db())
        .await?;
    mirror::after_write(core, mirror::Key::Control).await;
    Ok(control)
}
