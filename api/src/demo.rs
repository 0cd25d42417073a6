//! The demo job `opsconductor dev` creates: local steps, one parameter, one
//! templated value, runnable with no targets configured.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde_json::json;
use uuid::Uuid;

use crate::store::{job, job_version, user};

/// Name of the demo job.
pub const DEMO_JOB: &str = "demo-hello";

/// The demo definition.
pub fn definition() -> serde_json::Value {
    json!({
        "name": DEMO_JOB,
        "description": "Says hello from the worker host. Run it with: POST /api/v1/jobs/{id}/run {\"parameters\": {\"who\": \"you\"}}",
        "parameters": {
            "who": {"type": "string", "description": "Whom to greet", "default": "world", "pattern": "[A-Za-z0-9 _.-]{1,40}"}
        },
        "steps": [
            {"id": "greet", "name": "Greet", "type": "local.exec", "with": {"command": "echo Hello, {{ who }}, from $(hostname)"}},
            {"id": "facts", "name": "Worker facts", "type": "local.exec", "with": {"command": "uname -sr; date -u +%Y-%m-%dT%H:%M:%SZ"}},
            {"id": "pause", "name": "A short pause", "type": "wait", "with": {"seconds": 1}},
            {"id": "report", "name": "Report", "type": "local.exec",
             "with": {"command": "echo greeted with exit code {{ steps.greet.exit_code }} in run {{ run.id }} of {{ job.name }}"}}
        ]
    })
}

/// The admin who owns the demo: the bootstrap admin when it is one, else
/// the oldest active admin.
pub async fn owner(
    db: &sea_orm::DatabaseConnection,
    bootstrap_admin: &str,
) -> Result<Option<Uuid>, sea_orm::DbErr> {
    use sea_orm::QueryOrder as _;
    let admins = || {
        user::Entity::find()
            .filter(user::Column::Role.eq(user::Role::Admin))
            .filter(user::Column::Active.eq(true))
    };
    if let Some(u) = admins()
        .filter(user::Column::Username.eq(bootstrap_admin))
        .one(db)
        .await?
    {
        return Ok(Some(u.id));
    }
    Ok(admins()
        .order_by_asc(user::Column::CreatedAt)
        .one(db)
        .await?
        .map(|u| u.id))
}

/// Creates the demo job unless a job of that name exists; its id when
/// created. Its steps run on the worker host, which a version may do only
/// when an admin saved it: `owner` is that admin (the bootstrap admin).
pub async fn ensure(
    db: &sea_orm::DatabaseConnection,
    owner: Option<Uuid>,
) -> Result<Option<Uuid>, sea_orm::DbErr> {
    if let Some(existing) = job::Entity::find()
        .filter(job::Column::Name.eq(DEMO_JOB))
        .one(db)
        .await?
    {
        // A demo made before versions needed an admin author gets its owner.
        if let Some(owner) = owner {
            job_version::Entity::update_many()
                .col_expr(
                    job_version::Column::CreatedBy,
                    sea_orm::sea_query::Expr::value(owner),
                )
                .filter(job_version::Column::JobId.eq(existing.id))
                .filter(job_version::Column::CreatedBy.is_null())
                .exec(db)
                .await?;
            // And so does a demo the ownership migration left without one.
            job::Entity::update_many()
                .col_expr(job::Column::OwnerId, sea_orm::sea_query::Expr::value(owner))
                .filter(job::Column::Id.eq(existing.id))
                .filter(job::Column::OwnerId.is_null())
                .exec(db)
                .await?;
        }
        return Ok(None);
    }
    let id = Uuid::now_v7();
    let now = Utc::now().fixed_offset();
    let txn = db.begin().await?;
    job::ActiveModel {
        id: Set(id),
        name: Set(DEMO_JOB.to_owned()),
        description: Set("Says hello from the worker host.".to_owned()),
        active: Set(true),
        current_version: Set(1),
        created_by: Set(owner),
        owner_id: Set(owner),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    job_version::ActiveModel {
        job_id: Set(id),
        version: Set(1),
        definition: Set(definition()),
        created_by: Set(owner),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(Some(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_definition_is_valid() {
        let def: opsc_proto::job::JobDefinition = serde_json::from_value(definition()).unwrap();
        let errors = opsc_proto::job_check::check(&def, opsc_proto::job::STEP_TYPES);
        assert!(errors.is_empty(), "{errors:?}");
    }
}
