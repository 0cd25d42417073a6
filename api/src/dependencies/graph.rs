//! Cycles: a dependency A → B is refused when B already leads to A (B →
//! … → A), whatever those dependencies' enabled flags (enabling one later
//! must not close a cycle). Checked inside the writing transaction after
//! locking the table against other writers, so two requests at once
//! cannot each add half of a cycle.

use std::collections::{HashMap, HashSet, VecDeque};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::DependencyError;
use crate::store::{job, job_dependency};

/// Takes the table's write lock until the transaction ends: readers go on,
/// other writers wait.
pub(crate) async fn lock(tx: &DatabaseTransaction) -> Result<(), DependencyError> {
    tx.execute_unprepared("LOCK TABLE job_dependencies IN SHARE ROW EXCLUSIVE MODE")
        .await?;
    Ok(())
}

/// The jobs from `from` to `to` along the stored dependencies but `except`
/// (the row being replaced), both ends included; `None` when `to` cannot
/// be reached.
fn path(edges: &[(Uuid, Uuid)], from: Uuid, to: Uuid) -> Option<Vec<Uuid>> {
    let mut next: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (up, down) in edges {
        next.entry(*up).or_default().push(*down);
    }
    let mut came_from: HashMap<Uuid, Uuid> = HashMap::new();
    let mut seen = HashSet::from([from]);
    let mut queue = VecDeque::from([from]);
    while let Some(at) = queue.pop_front() {
        if at == to {
            let mut out = vec![to];
            let mut cur = to;
            while let Some(prev) = came_from.get(&cur) {
                out.push(*prev);
                cur = *prev;
            }
            out.reverse();
            return Some(out);
        }
        for n in next.get(&at).into_iter().flatten() {
            if seen.insert(*n) {
                came_from.insert(*n, at);
                queue.push_back(*n);
            }
        }
    }
    None
}

/// Refuses `upstream → downstream` when it would close a cycle, naming it
/// (`c → a → b → c`). Call under [`lock`].
pub(crate) async fn refuse_cycle(
    tx: &DatabaseTransaction,
    upstream: Uuid,
    downstream: Uuid,
    except: Option<Uuid>,
) -> Result<(), DependencyError> {
    let mut q = job_dependency::Entity::find()
        .select_only()
        .column(job_dependency::Column::UpstreamJobId)
        .column(job_dependency::Column::DownstreamJobId);
    if let Some(id) = except {
        q = q.filter(job_dependency::Column::Id.ne(id));
    }
    let edges: Vec<(Uuid, Uuid)> = q.into_tuple().all(tx).await?;
    let Some(back) = path(&edges, downstream, upstream) else {
        return Ok(());
    };
    let names: HashMap<Uuid, String> = job::Entity::find()
        .select_only()
        .column(job::Column::Id)
        .column(job::Column::Name)
        .filter(job::Column::Id.is_in(back.iter().copied()))
        .into_tuple()
        .all(tx)
        .await?
        .into_iter()
        .collect();
    let name = |id: &Uuid| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let cycle: Vec<String> = std::iter::once(&upstream)
        .chain(back.iter())
        .map(name)
        .collect();
    Err(DependencyError::invalid(
        "/downstream_job_id",
        format!("the dependency would close a cycle: {}", cycle.join(" → ")),
    ))
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::path;

    #[test]
    fn a_path_is_found_in_order_and_only_when_there_is_one() {
        let [a, b, c, d] = [
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        ];
        let edges = [(a, b), (b, c), (d, a)];
        assert_eq!(path(&edges, a, c), Some(vec![a, b, c]));
        assert_eq!(path(&edges, d, c), Some(vec![d, a, b, c]));
        assert_eq!(path(&edges, c, a), None);
        assert_eq!(path(&edges, a, a), Some(vec![a]));
    }
}
