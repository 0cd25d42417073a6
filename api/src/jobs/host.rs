//! Which job versions may reach into the worker host: a version with a
//! step that runs a command there (`local.exec`) or uses a worker-side path
//! is stored only when an admin saves it and the job's pool allows that
//! step (`[pools]` in the configuration). Admission checks again for the
//! pool each shard runs in, and the worker once more (see `docs/security.md`).

use opsc_proto::job::{HostCapabilities, HostUse, JobDefinition, Step};
use opsc_runtime::config::PoolsConfig;

use super::JobError;
use super::access::Actor;
use crate::store::user::Role;

/// Who stores a version, and the pool capabilities in force.
#[derive(Debug, Clone, Copy)]
pub struct Author<'a> {
    /// The user saving it, with their effective role.
    pub actor: Actor,
    /// What each pool may do.
    pub pools: &'a PoolsConfig,
}

impl Author<'_> {
    /// Whether the author is an admin (by their effective role).
    pub fn admin(&self) -> bool {
        self.actor.role == Role::Admin
    }
}

/// The pool a definition's untargeted steps run in when none is set.
pub const DEFAULT_POOL: &str = "default";

/// Why `step` (which reaches into the host `how`) may not be stored or
/// run: its author is not (or no longer) an admin, or `pool` does not
/// allow it; `None` when it may.
pub fn refusal(
    step: &Step,
    how: HostUse,
    admin: bool,
    pool: &str,
    caps: HostCapabilities,
) -> Option<String> {
    let what = format!("step {:?} ({}) {}", step.id, step.kind, how.describe());
    if !admin {
        return Some(format!(
            "{what}: only a job version an active admin saved may reach into the worker host"
        ));
    }
    (!how.allowed_by(caps)).then(|| {
        format!(
            "{what} in pool {pool:?}, which does not allow it: add the pool to pools.{} in the configuration",
            how.capability()
        )
    })
}

/// Refuses to store `def` for `author` when it reaches into the worker host
/// and they are not an admin, or its pool does not allow it.
pub fn permit(def: &JobDefinition, author: &Author<'_>) -> Result<(), JobError> {
    let pool = def.pool.as_deref().unwrap_or(DEFAULT_POOL);
    let caps = author.pools.of(pool);
    for step in &def.steps {
        let Some(how) = step.host_use() else { continue };
        if let Some(why) = refusal(step, how, author.admin(), pool, caps) {
            return Err(JobError::Forbidden(why));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn def(steps: &serde_json::Value, pool: Option<&str>) -> JobDefinition {
        serde_json::from_value(serde_json::json!({"name": "j", "pool": pool, "steps": steps}))
            .unwrap()
    }

    #[test]
    fn only_admins_in_allowing_pools_may_store_host_steps() {
        let pools = PoolsConfig {
            local_exec: vec!["default".into()],
            host_files: vec!["files".into()],
        };
        let local = def(
            &serde_json::json!([{"id": "a", "type": "local.exec", "with": {"command": "id"}}]),
            None,
        );
        let as_ = |admin| Author {
            actor: Actor {
                id: Uuid::nil(),
                role: if admin { Role::Admin } else { Role::Operator },
            },
            pools: &pools,
        };
        assert!(permit(&local, &as_(true)).is_ok());
        let e = permit(&local, &as_(false)).unwrap_err().to_string();
        assert!(
            e.contains("only a job version an active admin saved") && e.contains("\"a\""),
            "{e}"
        );

        let elsewhere = def(
            &serde_json::json!([{"id": "a", "type": "local.exec", "with": {"command": "id"}}]),
            Some("files"),
        );
        let e = permit(&elsewhere, &as_(true)).unwrap_err().to_string();
        assert!(
            e.contains("pools.local_exec") && e.contains("\"files\""),
            "{e}"
        );

        let upload = |with: serde_json::Value, pool| {
            def(
                &serde_json::json!([{"id": "u", "type": "sftp.upload", "with": with}]),
                pool,
            )
        };
        let inline = upload(serde_json::json!({"content": "x", "dest": "/tmp/x"}), None);
        assert!(
            permit(&inline, &as_(false)).is_ok(),
            "inline content touches no worker path"
        );
        let file = upload(
            serde_json::json!({"source": "/etc/passwd", "dest": "/tmp/x"}),
            None,
        );
        let e = permit(&file, &as_(false)).unwrap_err().to_string();
        assert!(e.contains("with.source"), "{e}");
        assert!(
            permit(&file, &as_(true))
                .unwrap_err()
                .to_string()
                .contains("pools.host_files")
        );
        let file = upload(
            serde_json::json!({"source": "/srv/x", "dest": "/tmp/x"}),
            Some("files"),
        );
        assert!(permit(&file, &as_(true)).is_ok());
        let http = def(
            &serde_json::json!([{"id": "h", "type": "wait", "with": {"seconds": 1}}]),
            None,
        );
        assert!(permit(&http, &as_(false)).is_ok());
    }
}
