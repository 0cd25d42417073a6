//! Who may do what with a job. A job has an owner (a user, or none) and
//! grants: to a user, or to every operator, of `run` or `edit` (which
//! includes run). The rules:
//!
//! - admins may do everything with every job;
//! - viewers read jobs and never run or edit one, whatever a grant says;
//! - an operator runs a job they own or hold a grant on, edits (new
//!   versions, activate, deactivate) one they own or hold `edit` on, and
//!   deletes it or changes its grants only when they own it;
//! - only admins transfer a job to another owner.
//!
//! The role is the caller's effective role (for an API token, the lesser
//! of its role and its owner's), so an admin's operator token is held to
//! the operator's rules. Reading stays as the role allows; see
//! `docs/security.md`, "Job ownership".

use schemars::JsonSchema;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Principal;
use crate::store::user::Role;
use crate::store::{job, job_grant, run};

/// The caller, as the access rules see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// The user (for an API token: its owner).
    pub id: Uuid,
    /// The effective role.
    pub role: Role,
}

impl From<&Principal> for Actor {
    fn from(p: &Principal) -> Self {
        Self {
            id: p.user_id,
            role: p.role,
        }
    }
}

/// What a grant gives.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// Start runs (and re-runs), cancel them.
    Run,
    /// What `run` gives, and store new versions, activate and deactivate.
    Edit,
}

impl Permission {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Run => "run",
            Self::Edit => "edit",
        }
    }

    /// The permission a stored name means, if any.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "run" => Some(Self::Run),
            "edit" => Some(Self::Edit),
            _ => None,
        }
    }
}

/// Who a grant is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grantee {
    /// One user.
    User(Uuid),
    /// Every holder of the role (only `operator` can be granted: admins
    /// may everything already, viewers never run or edit).
    Role(Role),
}

/// One grant, as the rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// Who.
    pub grantee: Grantee,
    /// What.
    pub permission: Permission,
}

impl Grant {
    /// The grant a stored row holds; `None` for a row this version does
    /// not understand (it then grants nothing).
    pub fn of(row: &job_grant::Model) -> Option<Self> {
        let permission = Permission::parse(&row.access)?;
        let grantee = match (row.user_id, row.role.as_deref()) {
            (Some(user), None) => Grantee::User(user),
            (None, Some("operator")) => Grantee::Role(Role::Operator),
            _ => return None,
        };
        Some(Self {
            grantee,
            permission,
        })
    }

    fn applies_to(&self, actor: &Actor) -> bool {
        match self.grantee {
            Grantee::User(id) => id == actor.id,
            Grantee::Role(role) => role == actor.role,
        }
    }
}

/// Something one may do with a job, checked at the routes that do it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Start a run or re-run, cancel a run.
    Run,
    /// Store a new version, activate, deactivate.
    Edit,
    /// Delete the job.
    Delete,
    /// Replace its grants.
    ManageGrants,
    /// Give it to another owner.
    Transfer,
}

impl Action {
    /// The name in the OpenAPI document (`x-opsc-job-access`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Run => "run",
            Self::Edit => "edit",
            Self::Delete => "delete",
            Self::ManageGrants => "manage_grants",
            Self::Transfer => "transfer",
        }
    }

    /// How a refusal reads.
    fn verb(self) -> &'static str {
        match self {
            Self::Run => "run",
            Self::Edit => "edit",
            Self::Delete => "delete",
            Self::ManageGrants => "change the grants of",
            Self::Transfer => "transfer",
        }
    }

    /// Who may, for a refusal.
    fn who(self) -> &'static str {
        match self {
            Self::Run => "its owner, admins, and users or roles granted run or edit",
            Self::Edit => "its owner, admins, and users or roles granted edit",
            Self::Delete | Self::ManageGrants => "its owner and admins",
            Self::Transfer => "admins",
        }
    }
}

/// What the caller may do with a job (shown with it, so a console can
/// offer only what will be accepted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Allowed {
    /// Start runs and re-runs.
    pub run: bool,
    /// Store new versions, activate, deactivate.
    pub edit: bool,
    /// Delete the job.
    pub delete: bool,
    /// Replace its grants.
    pub manage_grants: bool,
    /// Give it to another owner.
    pub transfer: bool,
}

impl Allowed {
    /// Whether `action` is among them.
    pub fn permits(&self, action: Action) -> bool {
        match action {
            Action::Run => self.run,
            Action::Edit => self.edit,
            Action::Delete => self.delete,
            Action::ManageGrants => self.manage_grants,
            Action::Transfer => self.transfer,
        }
    }
}

/// What `actor` may do with a job owned by `owner` with `grants`.
pub fn allowed(actor: &Actor, owner: Option<Uuid>, grants: &[Grant]) -> Allowed {
    match actor.role {
        Role::Admin => Allowed {
            run: true,
            edit: true,
            delete: true,
            manage_grants: true,
            transfer: true,
        },
        Role::Viewer => Allowed::default(),
        Role::Operator => {
            let owns = owner == Some(actor.id);
            let best = grants
                .iter()
                .filter(|g| g.applies_to(actor))
                .map(|g| g.permission)
                .max();
            Allowed {
                run: owns || best.is_some(),
                edit: owns || best == Some(Permission::Edit),
                delete: owns,
                manage_grants: owns,
                transfer: false,
            }
        }
    }
}

/// Why an action on a job was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The caller may not: what, and who may.
    #[error("{0}")]
    Denied(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The refusal of `action` on `job`.
fn denied(job: &job::Model, action: Action) -> AccessError {
    AccessError::Denied(format!(
        "you may not {} job {:?}: only {} may",
        action.verb(),
        job.name,
        action.who()
    ))
}

/// The grants of a job, as stored.
pub async fn grant_rows(
    db: &impl ConnectionTrait,
    job_id: Uuid,
) -> Result<Vec<job_grant::Model>, DbErr> {
    job_grant::Entity::find()
        .filter(job_grant::Column::JobId.eq(job_id))
        .all(db)
        .await
}

/// The grants of a job, as the rules see them.
pub async fn grants(db: &impl ConnectionTrait, job_id: Uuid) -> Result<Vec<Grant>, DbErr> {
    Ok(grant_rows(db, job_id)
        .await?
        .iter()
        .filter_map(Grant::of)
        .collect())
}

/// What `actor` may do with `job`, reading its grants only when they
/// could matter.
pub async fn allowed_on(
    db: &impl ConnectionTrait,
    actor: &Actor,
    job: &job::Model,
) -> Result<Allowed, DbErr> {
    // Nobody edits, deletes, shares, transfers or runs the hidden job of
    // ad-hoc commands through the job routes: its versions are other
    // people's commands, and a changed history would mislead its runs.
    if job.id == crate::runs::adhoc::JOB_ID {
        return Ok(Allowed::default());
    }
    let grants = if actor.role == Role::Operator && job.owner_id != Some(actor.id) {
        grants(db, job.id).await?
    } else {
        Vec::new()
    };
    Ok(allowed(actor, job.owner_id, &grants))
}

/// Refuses `action` on `job` unless `actor` may do it.
pub async fn require(
    db: &impl ConnectionTrait,
    actor: &Actor,
    job: &job::Model,
    action: Action,
) -> Result<(), AccessError> {
    if allowed_on(db, actor, job).await?.permits(action) {
        Ok(())
    } else {
        Err(denied(job, action))
    }
}

/// Refuses to cancel `r` unless `actor` is an admin, started it, or may
/// run its job. A run whose job was deleted can be cancelled only by
/// admins and by who started it.
pub async fn require_cancel(
    db: &impl ConnectionTrait,
    actor: &Actor,
    r: &run::Model,
) -> Result<(), AccessError> {
    if actor.role == Role::Admin || (actor.role == Role::Operator && r.created_by == Some(actor.id))
    {
        return Ok(());
    }
    let may_run = match job::Entity::find_by_id(r.job_id).one(db).await? {
        Some(j) => allowed_on(db, actor, &j).await?.run,
        None => false,
    };
    if may_run {
        Ok(())
    } else {
        Err(AccessError::Denied(format!(
            "you may not cancel this run of job {:?}: only admins, who started it, and who may run the job may",
            r.job_name
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role) -> Actor {
        Actor {
            id: Uuid::now_v7(),
            role,
        }
    }

    #[test]
    fn admins_may_everything_and_viewers_nothing() {
        let owner = Uuid::now_v7();
        let a = allowed(&actor(Role::Admin), Some(owner), &[]);
        assert!(a.run && a.edit && a.delete && a.manage_grants && a.transfer);
        let viewer = actor(Role::Viewer);
        let grants = [
            Grant {
                grantee: Grantee::User(viewer.id),
                permission: Permission::Edit,
            },
            Grant {
                grantee: Grantee::Role(Role::Viewer),
                permission: Permission::Edit,
            },
        ];
        assert_eq!(
            allowed(&viewer, Some(viewer.id), &grants),
            Allowed::default(),
            "a viewer owning or granted a job still may not run it"
        );
        assert!(allowed(&actor(Role::Admin), None, &[]).run);
    }

    #[test]
    fn operators_may_what_they_own_or_are_granted() {
        let op = actor(Role::Operator);
        let other = Uuid::now_v7();
        let own = allowed(&op, Some(op.id), &[]);
        assert!(own.run && own.edit && own.delete && own.manage_grants);
        assert!(!own.transfer, "only admins transfer");

        assert_eq!(allowed(&op, Some(other), &[]), Allowed::default());
        assert_eq!(allowed(&op, None, &[]), Allowed::default());

        let run = Grant {
            grantee: Grantee::User(op.id),
            permission: Permission::Run,
        };
        let a = allowed(&op, Some(other), &[run]);
        assert!(a.run && !a.edit && !a.delete && !a.manage_grants);

        let edit_all = Grant {
            grantee: Grantee::Role(Role::Operator),
            permission: Permission::Edit,
        };
        let a = allowed(&op, Some(other), &[run, edit_all]);
        assert!(
            a.run && a.edit && !a.delete && !a.manage_grants,
            "the best grant counts"
        );

        let someone_else = Grant {
            grantee: Grantee::User(other),
            permission: Permission::Edit,
        };
        assert_eq!(allowed(&op, None, &[someone_else]), Allowed::default());
    }

    #[test]
    fn stored_rows_become_grants_or_nothing() {
        let row = |user_id, role: Option<&str>, access: &str| job_grant::Model {
            id: Uuid::now_v7(),
            job_id: Uuid::now_v7(),
            user_id,
            role: role.map(str::to_owned),
            access: access.to_owned(),
            granted_by: None,
            granted_at: chrono::Utc::now().fixed_offset(),
        };
        let u = Uuid::now_v7();
        assert_eq!(
            Grant::of(&row(Some(u), None, "edit")),
            Some(Grant {
                grantee: Grantee::User(u),
                permission: Permission::Edit
            })
        );
        assert_eq!(
            Grant::of(&row(None, Some("operator"), "run")).map(|g| g.grantee),
            Some(Grantee::Role(Role::Operator))
        );
        assert_eq!(Grant::of(&row(None, Some("admin"), "run")), None);
        assert_eq!(Grant::of(&row(Some(u), None, "own")), None);
        assert_eq!(Grant::of(&row(Some(u), Some("operator"), "run")), None);
    }
}
