//! Rules: which notices go to whom. A body is a `RuleDoc` without `id`
//! and `revision` (the api sets them); it is checked by
//! `RuleDoc::check()` and against the channels and users it names: every
//! channel exists, a `user` recipient exists, Slack recipients go only to
//! Slack channels and email addresses only to email channels.

use chrono::{DateTime, Utc};
use opsc_proto::job_check::PathError;
use opsc_proto::notify::{ChannelKind, Recipient, RuleDoc, RuleTarget};
use schemars::JsonSchema;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set, SqlErr,
};
use serde::Serialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{NotifyConfigError, mirror, refuse, validate};
use crate::core::Core;
use crate::store::{notification_rule as rule, user};

/// A rule as read.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RuleView {
    /// The rule.
    #[serde(flatten)]
    pub rule: RuleDoc,
    /// Who created it.
    pub created_by: Option<Uuid>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// The document of a row, with its id, name, enabled flag and revision.
pub fn doc_of(row: &rule::Model) -> Result<RuleDoc, NotifyConfigError> {
    let mut doc: RuleDoc =
        serde_json::from_value(row.document.clone()).map_err(|e| NotifyConfigError::broken(&e))?;
    doc.id = row.id;
    doc.name.clone_from(&row.name);
    doc.enabled = row.enabled;
    doc.revision = u64::try_from(row.revision).unwrap_or(0);
    Ok(doc)
}

/// How a row is shown.
pub fn view(row: &rule::Model) -> Result<RuleView, NotifyConfigError> {
    Ok(RuleView {
        rule: doc_of(row)?,
        created_by: row.created_by,
        created_at: row.created_at.to_utc(),
        updated_at: row.updated_at.to_utc(),
    })
}

/// The audit summary of a rule.
pub fn summary(v: &RuleView) -> Value {
    json!({"name": v.rule.name, "enabled": v.rule.enabled, "triggers": v.rule.triggers, "revision": v.rule.revision})
}

/// A body as a rule document (`id` and `revision` are the api's).
pub fn parse(mut body: Map<String, Value>) -> Result<RuleDoc, NotifyConfigError> {
    body.insert("id".to_owned(), json!(Uuid::nil()));
    body.insert("revision".to_owned(), json!(0));
    body.entry("enabled").or_insert(Value::Bool(true));
    serde_path_to_error::deserialize(Value::Object(body)).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." {
            String::new()
        } else {
            path.replace('.', "/")
        };
        NotifyConfigError::invalid(
            &format!("/{path}").replace("//", "/"),
            e.inner().to_string(),
        )
    })
}

/// Problems with the targets at `path`.
fn targets_check(
    targets: &[RuleTarget],
    path: &str,
    kinds: &std::collections::HashMap<Uuid, ChannelKind>,
    users: &std::collections::BTreeSet<Uuid>,
    e: &mut Vec<PathError>,
) {
    for (i, t) in targets.iter().enumerate() {
        let Some(kind) = kinds.get(&t.channel_id).copied() else {
            e.push(PathError::new(
                format!("{path}/{i}/channel_id"),
                "no such notification channel",
            ));
            continue;
        };
        for (j, r) in t.to.iter().enumerate() {
            let at = format!("{path}/{i}/to/{j}");
            match r {
                Recipient::User { user_id } if !users.contains(user_id) => {
                    e.push(PathError::new(format!("{at}/user_id"), "no such user"));
                }
                Recipient::Email { .. } if kind != ChannelKind::Email => {
                    e.push(PathError::new(
                        at,
                        "email addresses go only to email channels",
                    ));
                }
                Recipient::Email { address } if !validate::mailbox_ok(address) => {
                    e.push(PathError::new(
                        format!("{at}/address"),
                        "must be an email address",
                    ));
                }
                Recipient::SlackChannel { .. } | Recipient::SlackUser { .. }
                    if kind != ChannelKind::Slack =>
                {
                    e.push(PathError::new(
                        at,
                        "Slack recipients go only to Slack channels",
                    ));
                }
                _ => {}
            }
        }
    }
}

/// Checks a rule in full.
pub async fn check(core: &Core, doc: &RuleDoc) -> Result<(), NotifyConfigError> {
    let mut e = doc.check();
    let escalation: &[RuleTarget] = doc
        .escalation
        .as_ref()
        .map_or(&[], |x| x.send_to.as_slice());
    let all = doc.send_to.iter().chain(escalation);
    let kinds = validate::channel_kinds(core.db(), all.clone().map(|t| t.channel_id)).await?;
    let user_ids = all.flat_map(|t| t.to.iter()).filter_map(|r| match r {
        Recipient::User { user_id } => Some(*user_id),
        _ => None,
    });
    let users =
        validate::existing::<user::Entity, _>(core.db(), user::Column::Id, user_ids).await?;
    targets_check(&doc.send_to, "/send_to", &kinds, &users, &mut e);
    targets_check(escalation, "/escalation/send_to", &kinds, &users, &mut e);
    refuse(e)
}

/// Every rule, by name.
pub async fn list(core: &Core) -> Result<Vec<RuleView>, NotifyConfigError> {
    rule::Entity::find()
        .order_by_asc(rule::Column::Name)
        .all(core.db())
        .await?
        .iter()
        .map(view)
        .collect()
}

/// The rule with this id.
pub async fn find(core: &Core, id: Uuid) -> Result<rule::Model, NotifyConfigError> {
    rule::Entity::find_by_id(id)
        .one(core.db())
        .await?
        .ok_or(NotifyConfigError::NotFound("notification rule"))
}

/// One rule.
pub async fn get(core: &Core, id: Uuid) -> Result<RuleView, NotifyConfigError> {
    view(&find(core, id).await?)
}

fn write_error(name: &str) -> impl FnOnce(DbErr) -> NotifyConfigError + '_ {
    move |e| match e {
        DbErr::RecordNotUpdated => NotifyConfigError::Changed,
        e => match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                NotifyConfigError::Taken(format!("a notification rule named {name:?} exists"))
            }
            _ => NotifyConfigError::Db(e),
        },
    }
}

async fn name_free(core: &Core, name: &str, except: Option<Uuid>) -> Result<(), NotifyConfigError> {
    let mut q = rule::Entity::find().filter(rule::Column::Name.eq(name));
    if let Some(id) = except {
        q = q.filter(rule::Column::Id.ne(id));
    }
    match q.one(core.db()).await? {
        Some(_) => Err(NotifyConfigError::Taken(format!(
            "a notification rule named {name:?} exists"
        ))),
        None => Ok(()),
    }
}

fn columns(doc: &RuleDoc) -> Result<rule::ActiveModel, NotifyConfigError> {
    Ok(rule::ActiveModel {
        name: Set(doc.name.clone()),
        enabled: Set(doc.enabled),
        document: Set(serde_json::to_value(doc).map_err(|e| NotifyConfigError::broken(&e))?),
        updated_at: Set(Utc::now().fixed_offset()),
        ..Default::default()
    })
}

/// Creates a rule.
pub async fn create(
    core: &Core,
    by: Uuid,
    body: Map<String, Value>,
) -> Result<RuleView, NotifyConfigError> {
    let mut doc = parse(body)?;
    check(core, &doc).await?;
    name_free(core, &doc.name, None).await?;
    let id = Uuid::now_v7();
    doc.id = id;
    doc.revision = 1;
    let mut row = columns(&doc)?;
    row.id = Set(id);
    row.created_by = Set(Some(by));
    row.created_at = Set(Utc::now().fixed_offset());
    row.revision = Set(1);
    let row = row
        .insert(core.db())
        .await
        .map_err(write_error(&doc.name))?;
    mirror::after_write(core, mirror::Key::Rule(id)).await;
    view(&row)
}

/// Replaces a rule (`PUT`).
pub async fn replace(
    core: &Core,
    id: Uuid,
    body: Map<String, Value>,
) -> Result<RuleView, NotifyConfigError> {
    let current = find(core, id).await?;
    let mut doc = parse(body)?;
    check(core, &doc).await?;
    name_free(core, &doc.name, Some(id)).await?;
    doc.id = id;
    doc.revision = u64::try_from(current.revision + 1).unwrap_or(0);
    let mut row = columns(&doc)?;
    row.id = Set(id);
    row.revision = Set(current.revision + 1);
    let saved = rule::Entity::update(row)
        .filter(rule::Column::Revision.eq(current.revision))
        .exec(core.db())
        .await
        .map_err(write_error(&doc.name))?;
    mirror::after_write(core, mirror::Key::Rule(id)).await;
    view(&saved)
}

/// Changes the given top-level fields (`PATCH`).
pub async fn patch(
    core: &Core,
    id: Uuid,
    fields: Map<String, Value>,
) -> Result<RuleView, NotifyConfigError> {
    let current = doc_of(&find(core, id).await?)?;
    let Value::Object(mut base) =
        serde_json::to_value(&current).map_err(|e| NotifyConfigError::broken(&e))?
    else {
        return Err(NotifyConfigError::Broken("a rule is an object".to_owned()));
    };
    base.extend(fields);
    replace(core, id, base).await
}

/// Deletes a rule.
pub async fn delete(core: &Core, id: Uuid) -> Result<RuleView, NotifyConfigError> {
    let gone = view(&find(core, id).await?)?;
    rule::Entity::delete_by_id(id).exec(core.db()).await?;
    mirror::after_write(core, mirror::Key::Rule(id)).await;
    Ok(gone)
}

/// The name of a rule that sends through channel `id`, if any.
pub async fn using_channel(core: &Core, id: Uuid) -> Result<Option<String>, NotifyConfigError> {
    for row in rule::Entity::find().all(core.db()).await? {
        let doc = doc_of(&row)?;
        let escalation = doc.escalation.iter().flat_map(|e| e.send_to.iter());
        if doc
            .send_to
            .iter()
            .chain(escalation)
            .any(|t| t.channel_id == id)
        {
            return Ok(Some(doc.name));
        }
    }
    Ok(None)
}
