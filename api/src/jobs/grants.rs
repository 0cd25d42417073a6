//! Changing who may run or edit a job: its grants, replaced as a whole by
//! its owner or an admin, and its owner, changed by admins. Each change is
//! one transaction on the locked job row, checked there ([`super::access`]);
//! a refused change writes nothing.

use chrono::Utc;
use opsc_proto::job_check::PathError;
use schemars::JsonSchema;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set, TransactionTrait,
};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::JobError;
use super::access::{Action, Actor, Grant, Grantee, Permission, grant_rows, require};
use crate::store::user::{self, Role};
use crate::store::{job, job_grant};

/// Grants a job may hold at most.
pub const MAX_GRANTS: usize = 100;

/// One grant in a request.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum GrantSpec {
    /// One user, named by `user_id` or by `username` (one of the two).
    User {
        /// The user's id.
        #[serde(default)]
        user_id: Option<Uuid>,
        /// The user's login name.
        #[serde(default)]
        username: Option<String>,
        /// `run`, or `edit` (which includes run).
        access: Permission,
    },
    /// Every holder of a role: only `operator` (admins may everything
    /// already; viewers never run or edit).
    Role {
        /// The role.
        role: Role,
        /// `run`, or `edit` (which includes run).
        access: Permission,
    },
}

/// `PUT /api/v1/jobs/{id}/grants`: the job's grants after the change (an
/// empty list removes them all).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantsChange {
    /// Every grant the job is to hold.
    pub grants: Vec<GrantSpec>,
}

/// `PUT /api/v1/jobs/{id}/owner`: the new owner, by `user_id` or by
/// `username` (one of the two).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnerChange {
    /// The user's id.
    #[serde(default)]
    pub user_id: Option<Uuid>,
    /// The user's login name.
    #[serde(default)]
    pub username: Option<String>,
}

/// What a change did, for the audit trail (ids and names, never secrets).
#[derive(Debug)]
pub struct Changed {
    /// The job row after the change.
    pub job: job::Model,
    /// A summary of the change.
    pub summary: Value,
}

/// The user `user_id` or `username` names; the located problem otherwise.
async fn user_named(
    db: &impl ConnectionTrait,
    at: &str,
    user_id: Option<Uuid>,
    username: Option<&str>,
) -> Result<user::Model, JobError> {
    let found = match (user_id, username) {
        (Some(id), None) => user::Entity::find_by_id(id).one(db).await?,
        (None, Some(name)) => {
            user::Entity::find()
                .filter(user::Column::Username.eq(name))
                .one(db)
                .await?
        }
        _ => {
            return Err(one(at, "give user_id or username, one of them"));
        }
    };
    let field = if user_id.is_some() {
        "user_id"
    } else {
        "username"
    };
    found.ok_or_else(|| one(&format!("{at}/{field}"), "no such user"))
}

fn one(path: &str, message: &str) -> JobError {
    JobError::Invalid(vec![PathError::new(path, message)])
}

fn grantee_name(g: Grantee) -> String {
    match g {
        Grantee::User(id) => format!("user {id}"),
        Grantee::Role(role) => format!("role {}", role.as_str()),
    }
}

/// The grants `specs` ask for on `j`; every problem, located.
async fn resolve(
    db: &impl ConnectionTrait,
    j: &job::Model,
    specs: &[GrantSpec],
) -> Result<Vec<Grant>, JobError> {
    if specs.len() > MAX_GRANTS {
        return Err(one(
            "/grants",
            &format!("a job holds at most {MAX_GRANTS} grants"),
        ));
    }
    let mut errors = Vec::new();
    let mut wanted: Vec<Grant> = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let at = format!("/grants/{i}");
        let grant = match spec {
            GrantSpec::User {
                user_id,
                username,
                access,
            } => match user_named(db, &at, *user_id, username.as_deref()).await {
                Ok(u) if Some(u.id) == j.owner_id => {
                    errors.push(PathError::new(
                        at,
                        format!(
                            "{} owns the job and may run and edit it already",
                            u.username
                        ),
                    ));
                    continue;
                }
                Ok(u) => Grant {
                    grantee: Grantee::User(u.id),
                    permission: *access,
                },
                Err(JobError::Invalid(mut e)) => {
                    errors.append(&mut e);
                    continue;
                }
                Err(e) => return Err(e),
            },
            GrantSpec::Role { role, access } => {
                let why = match role {
                    Role::Operator => None,
                    Role::Admin => Some("admins may run and edit every job already"),
                    Role::Viewer => Some(
                        "viewers never run or edit jobs: grant the operator role, or a user who is an operator",
                    ),
                };
                if let Some(why) = why {
                    errors.push(PathError::new(format!("{at}/role"), why));
                    continue;
                }
                Grant {
                    grantee: Grantee::Role(*role),
                    permission: *access,
                }
            }
        };
        if wanted.iter().any(|w| w.grantee == grant.grantee) {
            errors.push(PathError::new(
                at,
                format!("{} is granted twice", grantee_name(grant.grantee)),
            ));
            continue;
        }
        wanted.push(grant);
    }
    if errors.is_empty() {
        Ok(wanted)
    } else {
        Err(JobError::Invalid(errors))
    }
}

/// Locks and returns job `id` for a change `actor` must be allowed.
async fn locked(
    txn: &impl ConnectionTrait,
    id: Uuid,
    actor: &Actor,
    action: Action,
) -> Result<job::Model, JobError> {
    let j = job::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(JobError::NotFound("job"))?;
    require(txn, actor, &j, action).await?;
    Ok(j)
}

fn describe(grants: &[Grant]) -> Value {
    json!(
        grants
            .iter()
            .map(|g| match g.grantee {
                Grantee::User(id) => json!({"kind": "user", "user_id": id, "access": g.permission}),
                Grantee::Role(r) => json!({"kind": "role", "role": r, "access": g.permission}),
            })
            .collect::<Vec<_>>()
    )
}

/// Replaces the grants of job `id` with `specs`, when `actor` owns it or
/// is an admin. Grants that stay keep who made them and when.
pub async fn replace(
    db: &DatabaseConnection,
    id: Uuid,
    actor: &Actor,
    specs: &[GrantSpec],
) -> Result<Changed, JobError> {
    let txn = db.begin().await?;
    let j = locked(&txn, id, actor, Action::ManageGrants).await?;
    let wanted = resolve(&txn, &j, specs).await?;
    let rows = grant_rows(&txn, id).await?;
    let before: Vec<Grant> = rows.iter().filter_map(Grant::of).collect();
    let mut kept = Vec::new();
    for row in rows {
        match Grant::of(&row) {
            Some(g) if wanted.contains(&g) => kept.push(g),
            _ => {
                job_grant::Entity::delete_by_id(row.id).exec(&txn).await?;
            }
        }
    }
    let now = Utc::now().fixed_offset();
    for g in wanted.iter().filter(|g| !kept.contains(g)) {
        let (user_id, role) = match g.grantee {
            Grantee::User(u) => (Some(u), None),
            Grantee::Role(r) => (None, Some(r.as_str().to_owned())),
        };
        job_grant::ActiveModel {
            id: Set(Uuid::now_v7()),
            job_id: Set(id),
            user_id: Set(user_id),
            role: Set(role),
            access: Set(g.permission.as_str().to_owned()),
            granted_by: Set(Some(actor.id)),
            granted_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(Changed {
        summary: json!({"name": j.name, "before": describe(&before), "after": describe(&wanted)}),
        job: j,
    })
}

/// Makes the user `to` names the owner of job `id` (admins only). The new
/// owner must be an active user; a grant they held on the job is dropped
/// (owning gives more). The old owner keeps nothing.
pub async fn transfer(
    db: &DatabaseConnection,
    id: Uuid,
    actor: &Actor,
    to: &OwnerChange,
) -> Result<Changed, JobError> {
    let txn = db.begin().await?;
    let j = locked(&txn, id, actor, Action::Transfer).await?;
    let user = user_named(&txn, "", to.user_id, to.username.as_deref()).await?;
    if !user.active {
        return Err(one(
            "",
            &format!("{} is deactivated: activate them first", user.username),
        ));
    }
    job_grant::Entity::delete_many()
        .filter(job_grant::Column::JobId.eq(id))
        .filter(job_grant::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?;
    let from = j.owner_id;
    let name = j.name.clone();
    let mut row: job::ActiveModel = j.into();
    row.owner_id = Set(Some(user.id));
    row.updated_at = Set(Utc::now().fixed_offset());
    let job = row.update(&txn).await?;
    txn.commit().await?;
    Ok(Changed {
        summary: json!({"name": name, "from": from, "to": user.id, "to_name": user.username}),
        job,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_requests_are_read_strictly() {
        let ok: GrantsChange = crate::strict::json(
            br#"{"grants": [{"kind": "user", "username": "ann", "access": "run"},
                           {"kind": "role", "role": "operator", "access": "edit"}]}"#,
        )
        .unwrap();
        assert_eq!(ok.grants.len(), 2);
        for bad in [
            br#"{"grants": [{"kind": "user", "username": "ann", "access": "run", "admin": true}]}"#
                .as_slice(),
            br#"{"grants": [{"kind": "group", "id": "x", "access": "run"}]}"#,
            br#"{"grants": [{"kind": "role", "role": "operator", "access": "own"}]}"#,
            br#"{"grants": [{"kind": "role", "role": "operator"}]}"#,
        ] {
            assert!(
                crate::strict::json::<GrantsChange>(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
