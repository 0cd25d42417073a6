//! What a worker may do on its own host, and where: the pool's
//! capabilities (`[pools]`), the working root `local.exec` commands start
//! in, the roots worker-side paths must lie in, and the environment a
//! command inherits (only `worker.env_pass`); and where its steps may
//! connect (the pool's egress policy, [`crate::egress`]).
//!
//! A step that reaches into the host (see `Step::host_use`) runs only when
//! both this worker's configuration and the dispatch's sealed grant allow
//! it, and the grant was given for exactly the dispatched definition: the
//! api gives one only for versions an admin saved, in pools that allow it.

mod paths;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use opsc_proto::dispatch::{HostGrant, RunDispatch};
use opsc_proto::job::{HostCapabilities, HostUse};
use opsc_runtime::config::{PoolsConfig, WorkerConfig};

pub use paths::Access;

use crate::egress::Egress;

/// This worker's host policy, built once at start.
#[derive(Debug, Clone)]
pub struct Host {
    /// What this worker's pool may do, by this worker's configuration.
    pub allowed: HostCapabilities,
    /// Where commands start; canonical.
    pub work_root: PathBuf,
    /// Every root worker-side paths may lie in (the work root first); canonical.
    pub roots: Vec<PathBuf>,
    /// The environment a command starts with.
    pub env: Vec<(String, OsString)>,
    /// Where steps and connection tests may connect.
    pub egress: Arc<Egress>,
}

impl Host {
    /// The policy of a worker of `worker.pool`. Creates the work root (mode
    /// 0700) when the pool may use the host; a missing file root, or a root
    /// that cannot be made, is an error naming the setting.
    pub fn from_config(worker: &WorkerConfig, pools: &PoolsConfig) -> anyhow::Result<Self> {
        let allowed = pools.of(&worker.pool);
        let mut work_root = worker.work_root.clone();
        if allowed.local_exec || allowed.host_files {
            if !work_root.is_absolute() {
                anyhow::bail!(
                    "configuration: worker.work_root (OPSC_WORKER_WORK_ROOT): must be an absolute path"
                );
            }
            make_private_dir(&work_root).map_err(|e| {
                anyhow::anyhow!(
                    "configuration: worker.work_root (OPSC_WORKER_WORK_ROOT): cannot create {}: {e}",
                    work_root.display()
                )
            })?;
            work_root = work_root.canonicalize()?;
        }
        let mut roots = vec![work_root.clone()];
        if allowed.host_files {
            for root in &worker.file_roots {
                let canonical = Path::new(root).canonicalize().map_err(|e| {
                    anyhow::anyhow!(
                        "configuration: worker.file_roots (OPSC_WORKER_FILE_ROOTS): {root}: {e}"
                    )
                })?;
                roots.push(canonical);
            }
        }
        let env = worker
            .env_pass
            .iter()
            .filter_map(|name| std::env::var_os(name).map(|v| (name.clone(), v)))
            .collect();
        Ok(Self {
            allowed,
            work_root,
            roots,
            env,
            egress: Arc::new(Egress::from_config(worker)?),
        })
    }

    /// A policy that allows nothing on the host and the default egress
    /// policy (tests, tools).
    pub fn none() -> Self {
        let root = std::env::temp_dir();
        Self {
            allowed: HostCapabilities::default(),
            work_root: root.clone(),
            roots: vec![root],
            env: Vec::new(),
            egress: Arc::new(Egress::default()),
        }
    }

    /// The same with another egress policy.
    #[must_use]
    pub fn with_egress(mut self, egress: Egress) -> Self {
        self.egress = Arc::new(egress);
        self
    }

    /// Why a step that reaches into the host `how` may not run, if it may
    /// not: this worker's pool must allow it, and so must the dispatch's
    /// grant, given for this very definition.
    pub fn permit(
        &self,
        d: &RunDispatch,
        grant: Option<&HostGrant>,
        how: HostUse,
    ) -> Result<(), String> {
        if !how.allowed_by(self.allowed) {
            return Err(format!(
                "this worker's pool {:?} does not allow a step that {} (pools.{} in the worker's configuration)",
                d.pool,
                how.describe(),
                how.capability()
            ));
        }
        let Some(grant) = grant else {
            return Err(format!(
                "a step that {} needs the api's sealed grant, which this dispatch lacks: only a job version an admin saved may reach into the worker host",
                how.describe()
            ));
        };
        if grant.definition != d.definition.digest() {
            return Err(
                "the dispatch's grant was given for another definition: refused".to_owned(),
            );
        }
        if !how.allowed_by(grant.allowed) {
            return Err(format!(
                "the api's grant does not allow a step that {} in pool {:?}",
                how.describe(),
                d.pool
            ));
        }
        Ok(())
    }

    /// `raw` as a path inside one of the roots (see [`paths`]).
    pub fn confine(&self, raw: &str, access: Access) -> Result<PathBuf, String> {
        paths::confine(&self.roots, &self.work_root, raw, access)
    }
}

/// Creates `dir` (and its parents) with mode 0700 when missing; refuses an
/// existing one that is a symlink or not a directory.
fn make_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(std::io::Error::other("it exists and is not a directory")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use opsc_proto::commands::{Trigger, TriggerKind};
    use opsc_proto::dispatch::JobRef;
    use opsc_proto::events::ShardRef;

    use super::*;

    fn dispatch(command: &str) -> RunDispatch {
        RunDispatch {
            run_id: uuid::Uuid::nil(),
            shard: ShardRef { index: 0, count: 1 },
            pool: "default".into(),
            parallelism: 1,
            job: JobRef {
                id: uuid::Uuid::nil(),
                name: "j".into(),
                version: 1,
                author: None,
            },
            definition: serde_json::from_value(serde_json::json!({"name": "j",
                "steps": [{"id": "a", "type": "local.exec", "with": {"command": command}}]}))
            .unwrap(),
            parameters: Default::default(),
            sealed: None,
            targets: Vec::new(),
            trigger: Trigger::new(TriggerKind::Manual, "t"),
            accepted_at: chrono::Utc::now(),
            deadline: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_host_step_needs_the_pool_and_a_grant_for_this_very_definition() {
        let all = HostCapabilities {
            local_exec: true,
            host_files: true,
        };
        let mut host = Host::none();
        let d = dispatch("id");
        let grant = HostGrant {
            author: uuid::Uuid::nil(),
            allowed: all,
            definition: d.definition.digest(),
        };
        let e = host
            .permit(&d, Some(&grant), HostUse::LocalExec)
            .unwrap_err();
        assert!(e.contains("pools.local_exec"), "{e}");
        host.allowed = all;
        host.permit(&d, Some(&grant), HostUse::LocalExec).unwrap();
        let e = host.permit(&d, None, HostUse::LocalExec).unwrap_err();
        assert!(e.contains("sealed grant"), "{e}");
        // A grant lifted from one dispatch into another definition.
        let other = dispatch("cat /etc/shadow");
        let e = host
            .permit(&other, Some(&grant), HostUse::LocalExec)
            .unwrap_err();
        assert!(e.contains("another definition"), "{e}");
        let narrow = HostGrant {
            allowed: HostCapabilities {
                local_exec: false,
                host_files: true,
            },
            ..grant
        };
        let e = host
            .permit(&d, Some(&narrow), HostUse::LocalExec)
            .unwrap_err();
        assert!(e.contains("does not allow"), "{e}");
        host.permit(&d, Some(&narrow), HostUse::Files("source"))
            .unwrap();
    }

    #[test]
    fn the_work_root_is_made_private_and_missing_file_roots_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut worker = WorkerConfig {
            work_root: dir.path().join("a/work"),
            ..WorkerConfig::default()
        };
        let pools = PoolsConfig {
            local_exec: vec!["default".into()],
            host_files: vec!["default".into()],
        };
        let host = Host::from_config(&worker, &pools).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&host.work_root)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        worker.file_roots = vec!["/nonexistent/files".into()];
        let e = Host::from_config(&worker, &pools).unwrap_err().to_string();
        assert!(e.contains("worker.file_roots"), "{e}");
        worker.work_root = "relative".into();
        let e = Host::from_config(&worker, &pools).unwrap_err().to_string();
        assert!(e.contains("absolute"), "{e}");
    }
}
