//! Dispatches: the api's resolved, sealed work orders to the workers of one
//! pool (`<p>.cmd.run.dispatch.<pool>`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::commands::Trigger;
use crate::envelope::Routed;
use crate::events::ShardRef;
use crate::job::JobDefinition;
use crate::probe::{HostKey, HostKeyPolicy};
use crate::{EventType, Subjects};

/// The job a dispatch runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct JobRef {
    /// Job id.
    pub id: Uuid,
    /// Job name.
    pub name: String,
    /// The version that runs.
    pub version: u32,
    /// Who saved that version (absent for versions made by the system).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Uuid>,
}

/// SSH settings of a dispatched target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DispatchSsh {
    /// Port.
    pub port: u16,
    /// Credential (its material is in the sealed secrets).
    pub credential_id: Uuid,
    /// Connect timeout.
    pub connect_timeout_secs: u32,
    /// Policy for an unpinned key (a run never pins: only tests do).
    pub host_key_policy: HostKeyPolicy,
    /// The pinned key.
    #[serde(default)]
    pub pinned: Option<HostKey>,
}

/// WinRM settings of a dispatched target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DispatchWinrm {
    /// HTTPS.
    pub https: bool,
    /// Port.
    pub port: u16,
    /// Verify the certificate.
    pub verify_tls: bool,
    /// Credential.
    pub credential_id: Uuid,
}

/// HTTP settings of a dispatched target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DispatchHttp {
    /// Base URL.
    pub base_url: String,
    /// Credential.
    #[serde(default)]
    pub credential_id: Option<Uuid>,
    /// Verify certificates.
    pub verify_tls: bool,
}

/// One target of a dispatch, resolved from the inventory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DispatchTarget {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Host name or address.
    pub hostname: String,
    /// OS family.
    pub os_type: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// Facts of the last connection test.
    #[serde(default)]
    pub facts: BTreeMap<String, String>,
    /// SSH settings.
    #[serde(default)]
    pub ssh: Option<DispatchSsh>,
    /// WinRM settings.
    #[serde(default)]
    pub winrm: Option<DispatchWinrm>,
    /// HTTP settings.
    #[serde(default)]
    pub http: Option<DispatchHttp>,
    /// Ids of the steps that run on this target.
    pub steps: Vec<String>,
}

/// `<p>.cmd.run.dispatch.<pool>`: execute (a shard of) a run.
///
/// With no targets, the steps run once on the worker. Secret parameters and
/// the credentials the targets need travel only in `sealed`, sealed for the
/// pool and bound to `<run_id>/<shard index>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunDispatch {
    /// The run.
    pub run_id: Uuid,
    /// Which shard this is.
    pub shard: ShardRef,
    /// The pool whose workers execute it.
    pub pool: String,
    /// Targets of this shard that may run at once. The shards' shares add
    /// up to the job's `parallelism`, so the limit holds for the whole run
    /// across every shard and worker.
    pub parallelism: u32,
    /// The job.
    pub job: JobRef,
    /// The job version's definition.
    pub definition: JobDefinition,
    /// Non-secret parameter values (defaults applied).
    pub parameters: BTreeMap<String, serde_json::Value>,
    /// Sealed [`DispatchSecrets`] (base64), absent when there are none.
    #[serde(default)]
    pub sealed: Option<String>,
    /// The targets of this shard.
    #[serde(default)]
    pub targets: Vec<DispatchTarget>,
    /// Who started the run.
    pub trigger: Trigger,
    /// When the run was accepted.
    pub accepted_at: DateTime<Utc>,
    /// The run must end by then (run timeout).
    pub deadline: DateTime<Utc>,
}

impl RunDispatch {
    /// The seal context of this dispatch's secrets.
    pub fn seal_context(&self) -> String {
        format!("{}/{}", self.run_id, self.shard.index)
    }
}

impl EventType for RunDispatch {
    const TYPE: &'static str = "io.opsconductor.cmd.run.dispatch.v1";
    const SCHEMA: &'static str = "commands/run.dispatch.v1.json";
}

impl Routed for RunDispatch {
    fn subject(&self, subjects: &Subjects) -> String {
        subjects.run_dispatch(&self.pool)
    }
}

/// What travels sealed in a dispatch.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct DispatchSecrets {
    /// Secret parameter values.
    #[serde(default)]
    pub parameters: BTreeMap<String, serde_json::Value>,
    /// Credential material by credential id.
    #[serde(default)]
    pub credentials: BTreeMap<Uuid, crate::material::CredentialMaterial>,
    /// The api's leave for the steps that reach into the worker host;
    /// sealed, so no other publisher can forge it.
    #[serde(default)]
    pub host: Option<HostGrant>,
}

/// Leave for a dispatch's steps to run on or touch the worker host: given
/// by the api only for a job version an admin saved, in a pool whose
/// configuration allows it, and only for this exact definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostGrant {
    /// The admin who saved the version.
    pub author: Uuid,
    /// What the pool allows.
    pub allowed: crate::job::HostCapabilities,
    /// [`JobDefinition::digest`] of the dispatched definition.
    pub definition: String,
}

impl std::fmt::Debug for DispatchSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DispatchSecrets(<redacted>)")
    }
}
