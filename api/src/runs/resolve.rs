//! Target resolution: ids, group members and tag matches, enabled only.

use std::collections::BTreeMap;

use opsc_proto::commands::TargetSelection;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use crate::handlers::targets::group_member_ids;
use crate::http::AppState;
use crate::http::problem::Problem;
use crate::store::{target, target_group};

/// The enabled targets a selection names, by id.
pub async fn resolve(
    state: &AppState,
    sel: &TargetSelection,
) -> Result<BTreeMap<Uuid, target::Model>, Problem> {
    let db = state.store.db();
    let mut ids: Vec<Uuid> = sel.targets.clone();
    for gid in &sel.groups {
        if let Some(g) = target_group::Entity::find_by_id(*gid).one(db).await? {
            ids.extend(group_member_ids(state, &g).await?);
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
