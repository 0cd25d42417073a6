//! Connections to one target, opened on first use and shared by every step
//! of the run on that target.

use crate::egress::Egress;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use opsc_proto::dispatch::DispatchTarget;
use opsc_proto::material::CredentialMaterial;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::ssh::{self, HostKeyCheck, Session, SshLogin};

/// Open connections to one target.
#[derive(Debug, Default)]
pub struct TargetConnections {
    ssh: Mutex<Option<Arc<Session>>>,
}

impl TargetConnections {
    /// The SSH session, connecting (with the pinned host key) when needed.
    pub async fn ssh(
        &self,
        target: &DispatchTarget,
        credentials: &BTreeMap<Uuid, CredentialMaterial>,
        egress: &Egress,
    ) -> Result<Arc<Session>, String> {
        let mut slot = self.ssh.lock().await;
        if let Some(s) = slot.as_ref().filter(|s| s.is_open()) {
            return Ok(s.clone());
        }
        let settings = target
            .ssh
            .as_ref()
            .ok_or_else(|| format!("target {} has no SSH settings", target.name))?;
        let material = credentials
            .get(&settings.credential_id)
            .cloned()
            .ok_or_else(|| format!("the credential of target {} was not sent", target.name))?;
        let login = SshLogin::from_material(material)?;
        let check = HostKeyCheck {
            policy: settings.host_key_policy,
            pinned: settings.pinned.clone(),
        };
        // A run never pins a key: an unpinned key must first be accepted by a
        // connection test (accept-new) or approved by an admin.
        if check.pinned.is_none() {
            return Err(format!(
                "target {} has no pinned SSH host key: run a connection test (accept-new) or approve its key",
                target.name
            ));
        }
        let timeout = Duration::from_secs(u64::from(settings.connect_timeout_secs.max(1)));
        let to = ssh::Endpoint {
            host: &target.hostname,
            port: settings.port,
            egress,
        };
        let session = ssh::connect(to, timeout, check, &login)
            .await
            .map_err(|e| format!("{} ({}): {}", target.name, e.stage.as_str(), e.message))?;
        let session = Arc::new(session);
        *slot = Some(session.clone());
        Ok(session)
    }

    /// Drops a broken SSH session so the next step reconnects.
    pub async fn forget_ssh(&self) {
        self.ssh.lock().await.take();
    }

    /// Closes everything (end of the run on this target).
    pub async fn close(&self) {
        let taken = self.ssh.lock().await.take();
        if let Some(Ok(s)) = taken.map(Arc::try_unwrap) {
            s.close().await;
        }
    }
}
