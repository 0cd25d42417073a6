//! Template overrides: for a channel kind (or one channel of it) and a
//! trigger (or every trigger). Each text is checked by
//! `template::check` (the bounds of job templates) before it is saved.

use chrono::{DateTime, Utc};
use opsc_proto::job_check::PathError;
use opsc_proto::notify::{ChannelKind, NotifyTrigger, TemplateDoc, template};
use schemars::JsonSchema;
use sea_orm::{ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{NotifyConfigError, mirror, refuse, validate};
use crate::core::Core;
use crate::store::notification_template as tpl;

/// A template as written.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    /// The kind it applies to.
    pub kind: ChannelKind,
    /// One channel (of that kind) only.
    #[serde(default)]
    pub channel_id: Option<Uuid>,
    /// One trigger only.
    #[serde(default)]
    pub trigger: Option<NotifyTrigger>,
    /// Subject (email) or title template.
    pub subject: String,
    /// Plain-text body template.
    pub text: String,
    /// HTML body template (email).
    #[serde(default)]
    pub html: Option<String>,
}

/// A template as read.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TemplateView {
    /// The template.
    #[serde(flatten)]
    pub template: TemplateDoc,
    /// Who created it.
    pub created_by: Option<Uuid>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// The document of a row.
pub fn doc_of(row: &tpl::Model) -> Result<TemplateDoc, NotifyConfigError> {
    let b: TemplateBody =
        serde_json::from_value(row.document.clone()).map_err(|e| NotifyConfigError::broken(&e))?;
    Ok(TemplateDoc {
        id: row.id,
        kind: b.kind,
        channel_id: b.channel_id,
        trigger: b.trigger,
        subject: b.subject,
        text: b.text,
        html: b.html,
        revision: u64::try_from(row.revision).unwrap_or(0),
    })
}

/// How a row is shown.
pub fn view(row: &tpl::Model) -> Result<TemplateView, NotifyConfigError> {
    Ok(TemplateView {
        template: doc_of(row)?,
        created_by: row.created_by,
        created_at: row.created_at.to_utc(),
        updated_at: row.updated_at.to_utc(),
    })
}

/// The audit summary of a template.
pub fn summary(v: &TemplateView) -> Value {
    let t = &v.template;
    json!({"kind": t.kind, "channel_id": t.channel_id, "trigger": t.trigger, "revision": t.revision})
}

/// Problems with template texts, at `/subject`, `/text`, `/html`.
pub(crate) fn texts_check(
    subject: Option<&str>,
    text: Option<&str>,
    html: Option<&str>,
) -> Vec<PathError> {
    let mut e = Vec::new();
    for (path, source) in [("/subject", subject), ("/text", text), ("/html", html)] {
        if let Some(s) = source
            && let Err(err) = template::check(s)
        {
            e.push(PathError::new(path, err.to_string()));
        }
    }
    e
}

async fn check(core: &Core, b: &TemplateBody) -> Result<(), NotifyConfigError> {
    let mut e = texts_check(Some(&b.subject), Some(&b.text), b.html.as_deref());
    if b.html.is_some() && b.kind != ChannelKind::Email {
        e.push(PathError::new(
            "/html",
            "only email templates have an HTML body",
        ));
    }
    if let Some(id) = b.channel_id {
        match validate::channel_kinds(core.db(), [id]).await?.get(&id) {
            None => e.push(PathError::new(
                "/channel_id",
                "no such notification channel",
            )),
            Some(k) if *k != b.kind => e.push(PathError::new(
                "/channel_id",
                format!(
                    "the channel is a {} channel, not {}",
                    k.as_str(),
                    b.kind.as_str()
                ),
            )),
            Some(_) => {}
        }
    }
    refuse(e)
}

/// Every template.
pub async fn list(core: &Core) -> Result<Vec<TemplateView>, NotifyConfigError> {
    tpl::Entity::find()
        .order_by_asc(tpl::Column::CreatedAt)
        .all(core.db())
        .await?
        .iter()
        .map(view)
        .collect()
}

/// The template with this id.
pub async fn find(core: &Core, id: Uuid) -> Result<tpl::Model, NotifyConfigError> {
    tpl::Entity::find_by_id(id)
        .one(core.db())
        .await?
        .ok_or(NotifyConfigError::NotFound("notification template"))
}

/// One template.
pub async fn get(core: &Core, id: Uuid) -> Result<TemplateView, NotifyConfigError> {
    view(&find(core, id).await?)
}

/// Creates a template.
pub async fn create(
    core: &Core,
    by: Uuid,
    body: TemplateBody,
) -> Result<TemplateView, NotifyConfigError> {
    check(core, &body).await?;
    let id = Uuid::now_v7();
    let now = Utc::now().fixed_offset();
    let row = tpl::ActiveModel {
        id: Set(id),
        document: Set(serde_json::to_value(&body).map_err(|e| NotifyConfigError::broken(&e))?),
        created_by: Set(Some(by)),
        created_at: Set(now),
        updated_at: Set(now),
        revision: Set(1),
    }
    .insert(core.db())
    .await?;
    mirror::after_write(core, mirror::Key::Template(id)).await;
    view(&row)
}

/// Replaces a template.
pub async fn replace(
    core: &Core,
    id: Uuid,
    body: TemplateBody,
) -> Result<TemplateView, NotifyConfigError> {
    let current = find(core, id).await?;
    check(core, &body).await?;
    let row = tpl::ActiveModel {
        id: Set(id),
        document: Set(serde_json::to_value(&body).map_err(|e| NotifyConfigError::broken(&e))?),
        updated_at: Set(Utc::now().fixed_offset()),
        revision: Set(current.revision + 1),
        ..Default::default()
    };
    let saved = tpl::Entity::update(row)
        .filter(tpl::Column::Revision.eq(current.revision))
        .exec(core.db())
        .await
        .map_err(|e| match e {
            DbErr::RecordNotUpdated => NotifyConfigError::Changed,
            e => NotifyConfigError::Db(e),
        })?;
    mirror::after_write(core, mirror::Key::Template(id)).await;
    view(&saved)
}

/// Deletes a template.
pub async fn delete(core: &Core, id: Uuid) -> Result<TemplateView, NotifyConfigError> {
    let gone = view(&find(core, id).await?)?;
    tpl::Entity::delete_by_id(id).exec(core.db()).await?;
    mirror::after_write(core, mirror::Key::Template(id)).await;
    Ok(gone)
}
