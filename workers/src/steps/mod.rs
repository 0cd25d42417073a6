//! Step types, one file each, registered by name in [`registry`].
//!
//! A step type receives its rendered `with` settings, the target (if any),
//! an output sink and a cancellation token, and returns its outcome. Adding
//! a type means one file here and one line in [`registry`].

mod http;
mod local;
pub mod notify;
mod sftp;
mod ssh;
mod wait;
mod winrm;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use opsc_proto::dispatch::DispatchTarget;
use opsc_proto::events::StepStatus;
pub use opsc_proto::job_check::notify::SendWhen;
use opsc_proto::material::CredentialMaterial;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::exec::output::OutputSink;
use crate::exec::target::TargetConnections;
use crate::template::Quoting;

/// What one execution of a step gets.
pub struct StepCall<'a> {
    /// Rendered settings.
    pub with: &'a BTreeMap<String, Value>,
    /// The target, when the step runs on one.
    pub target: Option<&'a DispatchTarget>,
    /// Connections to the target, opened on first use and reused by later steps.
    pub connections: &'a TargetConnections,
    /// Credential material by id.
    pub credentials: &'a BTreeMap<uuid::Uuid, CredentialMaterial>,
    /// What the step may do on the worker host, and where.
    pub host: &'a crate::host::Host,
    /// Where output lines go.
    pub output: &'a OutputSink,
    /// Cancelled on timeout or cancel.
    pub cancel: &'a CancellationToken,
    /// The run and step this call belongs to, and the bus (notify steps).
    pub run: &'a RunScope,
}

/// Where a step call sits: its run, job and step, and the bus of the
/// worker (absent when a step runs outside a dispatch, as in tests).
#[derive(Debug, Clone, Default)]
pub struct RunScope {
    /// The bus.
    pub bus: Option<opsc_runtime::bus::Bus>,
    /// The run.
    pub run_id: uuid::Uuid,
    /// Its job.
    pub job_id: uuid::Uuid,
    /// The job's name.
    pub job_name: String,
    /// The step.
    pub step_id: String,
}

impl std::fmt::Debug for StepCall<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepCall").finish_non_exhaustive()
    }
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOutcome {
    /// Status.
    pub status: StepStatus,
    /// Exit code of a command.
    pub exit_code: Option<i32>,
    /// Error text.
    pub error: Option<String>,
}

impl StepOutcome {
    /// Success with an optional exit code.
    pub fn ok(exit_code: Option<i32>) -> Self {
        Self {
            status: StepStatus::Succeeded,
            exit_code,
            error: None,
        }
    }

    /// Failure with a reason.
    pub fn failed(error: impl Into<String>, exit_code: Option<i32>) -> Self {
        Self {
            status: StepStatus::Failed,
            exit_code,
            error: Some(error.into()),
        }
    }

    /// The outcome of a command by exit code.
    pub fn from_exit(code: Option<i32>) -> Self {
        match code {
            Some(0) => Self::ok(Some(0)),
            Some(c) => Self::failed(format!("exited with {c}"), Some(c)),
            None => Self::failed("ended without an exit status (killed?)", None),
        }
    }
}

/// A step type.
#[async_trait::async_trait]
pub trait StepType: Send + Sync {
    /// How values interpolated into `with.<key>` are quoted.
    fn quoting(&self, key: &str) -> Quoting;
    /// Whether the step needs a target.
    fn needs_target(&self) -> bool;
    /// Whether running it twice is harmless (a redelivered run may then
    /// repeat it instead of failing as `worker_lost`).
    fn idempotent(&self) -> bool {
        false
    }
    /// When the step runs given the earlier steps of its target (by
    /// default only when none failed; a notify step may say otherwise in
    /// its `send` setting).
    fn runs_after(&self, _with: &BTreeMap<String, Value>) -> SendWhen {
        SendWhen::OnSuccess
    }
    /// Runs it.
    async fn run(&self, call: StepCall<'_>) -> StepOutcome;
}

/// Step types by name.
pub type Registry = HashMap<&'static str, Arc<dyn StepType>>;

/// Every step type this worker executes.
pub fn registry() -> Registry {
    let mut r: Registry = HashMap::new();
    r.insert("local.exec", Arc::new(local::LocalExec));
    r.insert("ssh.exec", Arc::new(ssh::SshExec));
    r.insert("sftp.upload", Arc::new(sftp::SftpUpload));
    r.insert("sftp.download", Arc::new(sftp::SftpDownload));
    r.insert("sftp.sync", Arc::new(sftp::SftpSync));
    r.insert("ssh.copy", Arc::new(sftp::SshCopy));
    r.insert("wait", Arc::new(wait::Wait));
    r.insert("winrm.exec", Arc::new(winrm::WinrmExec));
    r.insert("winrm.copy", Arc::new(winrm::WinrmCopy));
    http::register(&mut r);
    notify::register(&mut r);
    r
}

/// A string setting.
pub fn text<'a>(with: &'a BTreeMap<String, Value>, key: &str) -> Option<&'a str> {
    with.get(key).and_then(Value::as_str)
}

/// `env` as name → value (values rendered to text).
pub fn env_of(with: &BTreeMap<String, Value>) -> Result<Vec<(String, String)>, String> {
    let Some(env) = with.get("env") else {
        return Ok(Vec::new());
    };
    let map = env.as_object().ok_or("with.env must be an object")?;
    map.iter()
        .map(|(k, v)| {
            if k.is_empty()
                || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                || k.as_bytes()[0].is_ascii_digit()
            {
                return Err(format!("with.env: {k:?} is not a variable name"));
            }
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Ok((k.clone(), v))
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn every_registered_type_is_declared_in_the_contract() {
        let r = registry();
        for name in opsc_proto::job::STEP_TYPES {
            assert!(
                r.contains_key(name),
                "{name} is declared but not registered"
            );
        }
        assert_eq!(r.len(), opsc_proto::job::STEP_TYPES.len());
        for (name, step) in &r {
            let spec = opsc_proto::step_catalog::find(name)
                .unwrap_or_else(|| panic!("{name} has no step catalogue entry"));
            assert_eq!(spec.idempotent, step.idempotent(), "{name}: idempotent");
            assert_eq!(
                spec.needs_target,
                step.needs_target(),
                "{name}: needs_target"
            );
        }
    }

    /// The keys of a type's `with` schema, sorted.
    pub(crate) fn schema_keys(name: &str) -> Vec<String> {
        let spec = opsc_proto::step_catalog::find(name).unwrap();
        let mut keys: Vec<String> = spec.with_schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    /// The keys a strict (`deny_unknown_fields`) settings parser knows, as
    /// its error for an unknown key lists them, sorted. `parse` gets a
    /// `with` holding only an unknown key.
    pub(crate) fn serde_keys(parse: impl Fn(&BTreeMap<String, Value>) -> String) -> Vec<String> {
        let with = BTreeMap::from([("zz_not_a_setting".to_owned(), Value::Null)]);
        let error = parse(&with);
        let listed = error
            .split_once("expected one of ")
            .map(|(_, l)| l)
            .unwrap_or_else(|| panic!("no key list in {error:?}"));
        let mut keys: Vec<String> = listed
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        keys.sort();
        keys
    }

    #[test]
    fn hand_read_settings_are_the_schema_keys() {
        for (name, read) in [
            ("local.exec", local::WITH_KEYS),
            ("ssh.exec", ssh::WITH_KEYS),
            ("wait", wait::WITH_KEYS),
        ] {
            let mut read: Vec<String> = read.iter().map(|k| (*k).to_owned()).collect();
            read.sort();
            assert_eq!(read, schema_keys(name), "{name}");
        }
        let mut union: Vec<String> = [
            "notify.email",
            "notify.slack",
            "notify.teams",
            "notify.webhook",
        ]
        .into_iter()
        .flat_map(schema_keys)
        .collect();
        union.sort();
        union.dedup();
        let mut read: Vec<String> = notify::WITH_KEYS.iter().map(|k| (*k).to_owned()).collect();
        read.sort();
        assert_eq!(read, union, "notify.*");
    }

    #[test]
    fn env_names_are_checked() {
        let with: BTreeMap<String, Value> =
            serde_json::from_value(serde_json::json!({"env": {"A_1": "x", "N": 3}})).unwrap();
        assert_eq!(env_of(&with).unwrap().len(), 2);
        let bad: BTreeMap<String, Value> =
            serde_json::from_value(serde_json::json!({"env": {"A;rm": "x"}})).unwrap();
        assert!(env_of(&bad).is_err());
    }
}
