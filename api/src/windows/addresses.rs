//! Which targets and groups a schedule's runs address
//! (`ScheduleDoc::addresses`), so the scheduler can tell whether a window
//! scoped to groups or targets covers a fire: the schedule's target
//! override, else its job's default selection and each step's, tags and
//! group members resolved to enabled targets, plus the groups named and
//! the groups each of those targets belongs to.
//!
//! A [`Directory`] is the inventory read once — targets, groups, and the
//! job definitions asked for — so a reconcile computes the addresses of
//! every schedule from it in memory.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use opsc_proto::commands::TargetSelection;
use opsc_proto::job::JobDefinition;
use opsc_proto::schedule::Addresses;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::Value;
use uuid::Uuid;

use crate::core::Core;
use crate::store::{job, job_version, schedule, target, target_group};

/// One target, as far as selections see it.
#[derive(Debug, Clone)]
struct Entry {
    id: Uuid,
    tags: Vec<String>,
    os_type: String,
    enabled: bool,
}

/// The inventory and job definitions, read once.
#[derive(Debug, Default)]
pub struct Directory {
    targets: Vec<Entry>,
    /// Group → member target ids (static and by selector).
    groups: HashMap<Uuid, BTreeSet<Uuid>>,
    /// Job → the definition of its current version.
    jobs: HashMap<Uuid, Arc<JobDefinition>>,
}

fn members(g: &target_group::Model, targets: &[Entry]) -> BTreeSet<Uuid> {
    let mut out: BTreeSet<Uuid> = serde_json::from_value(g.members.clone()).unwrap_or_default();
    if let Some(sel) = &g.selector {
        let tags: Vec<String> = sel
            .get("tags")
            .and_then(|t| serde_json::from_value(t.clone()).ok())
            .unwrap_or_default();
        let os = sel.get("os_type").and_then(Value::as_str);
        out.extend(
            targets
                .iter()
                .filter(|t| tags.iter().all(|w| t.tags.contains(w)))
                .filter(|t| os.is_none_or(|os| t.os_type == os))
                .map(|t| t.id),
        );
    }
    out
}

async fn definition(
    core: &Core,
    db: &impl ConnectionTrait,
    j: &job::Model,
) -> Result<Option<Arc<JobDefinition>>, sea_orm::DbErr> {
    if let Some(def) = core.definitions.get(j.id, j.current_version) {
        return Ok(Some(def));
    }
    let Some(row) = job_version::Entity::find_by_id((j.id, j.current_version))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(serde_json::from_value::<JobDefinition>(row.definition)
        .ok()
        .map(Arc::new))
}

impl Directory {
    /// Reads the inventory and the definitions of `jobs`.
    pub async fn load(core: &Core, jobs: &BTreeSet<Uuid>) -> Result<Self, sea_orm::DbErr> {
        let db = core.db();
        let targets: Vec<Entry> = target::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|t| Entry {
                id: t.id,
                tags: serde_json::from_value(t.tags).unwrap_or_default(),
                os_type: t.os_type,
                enabled: t.enabled,
            })
            .collect();
        let groups = target_group::Entity::find()
            .all(db)
            .await?
            .iter()
            .map(|g| (g.id, members(g, &targets)))
            .collect();
        let mut defs = HashMap::new();
        if !jobs.is_empty() {
            use sea_orm::{ColumnTrait, QueryFilter};
            for j in job::Entity::find()
                .filter(job::Column::Id.is_in(jobs.iter().copied()))
                .all(db)
                .await?
            {
                if let Some(def) = definition(core, db, &j).await? {
                    defs.insert(j.id, def);
                }
            }
        }
        Ok(Self {
            targets,
            groups,
            jobs: defs,
        })
    }

    /// The enabled targets a selection names, and the groups it names.
    fn resolve(
        &self,
        sel: &TargetSelection,
        targets: &mut BTreeSet<Uuid>,
        groups: &mut BTreeSet<Uuid>,
    ) {
        let mut ids: BTreeSet<Uuid> = sel.targets.iter().copied().collect();
        for g in &sel.groups {
            if let Some(m) = self.groups.get(g) {
                groups.insert(*g);
                ids.extend(m);
            }
        }
        for t in &self.targets {
            let tagged = !sel.tags.is_empty() && sel.tags.iter().all(|w| t.tags.contains(w));
            if t.enabled && (tagged || ids.contains(&t.id)) {
                targets.insert(t.id);
            }
        }
    }

    /// What the runs of `row` address.
    pub fn addresses(&self, row: &schedule::Model) -> Addresses {
        let over: Option<TargetSelection> = row
            .targets
            .clone()
            .and_then(|t| serde_json::from_value(t).ok());
        let def = self.jobs.get(&row.job_id);
        let selections: Vec<&TargetSelection> = match (&over, def) {
            (Some(sel), _) => vec![sel],
            (None, Some(def)) => def
                .targets
                .iter()
                .chain(def.steps.iter().filter_map(|s| s.targets.as_ref()))
                .collect(),
            (None, None) => Vec::new(),
        };
        let (mut targets, mut groups) = (BTreeSet::new(), BTreeSet::new());
        for sel in selections {
            self.resolve(sel, &mut targets, &mut groups);
        }
        for (g, m) in &self.groups {
            if m.iter().any(|t| targets.contains(t)) {
                groups.insert(*g);
            }
        }
        Addresses {
            targets: targets.into_iter().collect(),
            groups: groups.into_iter().collect(),
        }
    }
}
