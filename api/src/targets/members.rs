//! Which targets a selection names: ids, the members of groups (static
//! members plus a selector's matches) and tag matches.

use std::collections::BTreeMap;

use opsc_proto::commands::TargetSelection;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::store::{target, target_group};

/// The stored document of a row.
pub fn spec_of(t: &target::Model) -> super::TargetSpec {
    super::TargetSpec {
        name: t.name.clone(),
        hostname: t.hostname.clone(),
        os_type: serde_json::from_value(json!(t.os_type)).unwrap_or(super::OsType::Other),
        ssh: t.ssh.clone().and_then(|v| serde_json::from_value(v).ok()),
        winrm: t.winrm.clone().and_then(|v| serde_json::from_value(v).ok()),
        http: t.http.clone().and_then(|v| serde_json::from_value(v).ok()),
        tags: serde_json::from_value(t.tags.clone()).unwrap_or_default(),
        metadata: serde_json::from_value(t.metadata.clone()).unwrap_or_default(),
        pool: t.pool.clone(),
        enabled: t.enabled,
    }
}

/// Targets matching a group: its static members plus its selector's matches.
pub async fn group_member_ids(
    db: &impl ConnectionTrait,
    g: &target_group::Model,
) -> Result<Vec<Uuid>, sea_orm::DbErr> {
    let mut ids: Vec<Uuid> = serde_json::from_value(g.members.clone()).unwrap_or_default();
    if let Some(sel) = &g.selector {
        let mut q = target::Entity::find()
            .select_only()
            .column(target::Column::Id);
        if let Some(tags) = sel
            .get("tags")
            .filter(|t| t.as_array().is_some_and(|a| !a.is_empty()))
        {
            q = q.filter(Expr::cust_with_values(
                "tags @> $1::jsonb",
                [tags.to_string()],
            ));
        }
        if let Some(os) = sel.get("os_type").and_then(Value::as_str) {
            q = q.filter(target::Column::OsType.eq(os));
        }
        let dynamic: Vec<Uuid> = q.into_tuple().all(db).await?;
        ids.extend(dynamic);
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// What in a selection does not exist: target ids and group ids unknown.
pub async fn unknown_in(
    db: &impl ConnectionTrait,
    sel: &TargetSelection,
) -> Result<Vec<String>, sea_orm::DbErr> {
    let mut missing = Vec::new();
    if !sel.targets.is_empty() {
        let found: Vec<Uuid> = target::Entity::find()
            .select_only()
            .column(target::Column::Id)
            .filter(target::Column::Id.is_in(sel.targets.clone()))
            .into_tuple()
            .all(db)
            .await?;
        missing.extend(
            sel.targets
                .iter()
                .filter(|id| !found.contains(id))
                .map(|id| format!("targets: no target {id}")),
        );
    }
    if !sel.groups.is_empty() {
        let found: Vec<Uuid> = target_group::Entity::find()
            .select_only()
            .column(target_group::Column::Id)
            .filter(target_group::Column::Id.is_in(sel.groups.clone()))
            .into_tuple()
            .all(db)
            .await?;
        missing.extend(
            sel.groups
                .iter()
                .filter(|id| !found.contains(id))
                .map(|id| format!("groups: no target group {id}")),
        );
    }
    Ok(missing)
}

/// The enabled targets a selection names, by id.
pub async fn resolve(
    db: &impl ConnectionTrait,
    sel: &TargetSelection,
) -> Result<BTreeMap<Uuid, target::Model>, sea_orm::DbErr> {
    let mut ids: Vec<Uuid> = sel.targets.clone();
    if !sel.groups.is_empty() {
        for g in target_group::Entity::find()
            .filter(target_group::Column::Id.is_in(sel.groups.clone()))
            .all(db)
            .await?
        {
            ids.extend(group_member_ids(db, &g).await?);
        }
    }
    let mut out = BTreeMap::new();
    if !ids.is_empty() {
        for t in target::Entity::find()
            .filter(target::Column::Id.is_in(ids))
            .filter(target::Column::Enabled.eq(true))
            .all(db)
            .await?
        {
            out.insert(t.id, t);
        }
    }
    if !sel.tags.is_empty() {
        for t in target::Entity::find()
            .filter(Expr::cust_with_values(
                "tags @> $1::jsonb",
                [json!(sel.tags).to_string()],
            ))
            .filter(target::Column::Enabled.eq(true))
            .all(db)
            .await?
        {
            out.insert(t.id, t);
        }
    }
    Ok(out)
}
