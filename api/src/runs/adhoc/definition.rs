//! The one-step job definition an ad-hoc command runs as, checked by the
//! same rules as a saved job's ([`crate::jobs::validate`]), with every
//! problem located in the request's own terms (`/command`, not
//! `/steps/0/with/command`).

use opsc_proto::job::JobDefinition;
use opsc_proto::job_check::PathError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::job::JOB_NAME;

/// The id of the one step of an ad-hoc definition.
pub const STEP_ID: &str = "command";

/// Where an ad-hoc command runs, and so its step type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Executor {
    /// On each target over SSH (`ssh.exec`, the remote user's shell).
    #[default]
    Ssh,
    /// On each target over WinRM, as a PowerShell script (`winrm.exec`).
    Winrm,
    /// On the worker host (`local.exec`, `/bin/sh`): admins only, in a pool
    /// that allows `local_exec`.
    Local,
}

impl Executor {
    /// The step type it runs as.
    pub fn step_type(self) -> &'static str {
        match self {
            Self::Ssh => "ssh.exec",
            Self::Winrm => "winrm.exec",
            Self::Local => "local.exec",
        }
    }

    /// The `with` key holding the command.
    fn key(self) -> &'static str {
        match self {
            Self::Winrm => "script",
            Self::Ssh | Self::Local => "command",
        }
    }

    /// Whether the command runs on targets (else on the worker host).
    pub fn on_targets(self) -> bool {
        self != Self::Local
    }
}

/// What the definition is made of.
#[derive(Debug, Clone)]
pub struct Spec<'a> {
    /// The command line (a template, as in a job).
    pub command: &'a str,
    /// Where it runs.
    pub executor: Executor,
    /// Targets at once at most.
    pub parallelism: Option<u32>,
    /// Seconds the command (and the run) may take.
    pub timeout_secs: Option<u64>,
    /// The pool of a local command.
    pub pool: Option<&'a str>,
}

/// The description of a command: its first line, shortened.
fn describe(command: &str) -> String {
    let first = command.lines().next().unwrap_or_default().trim();
    let mut text: String = first.chars().take(120).collect();
    if text.len() < first.len() || command.trim().lines().count() > 1 {
        text.push('…');
    }
    text
}

/// Where a problem of the built definition lies in the request.
fn located(e: PathError, executor: Executor) -> PathError {
    let with = format!("/steps/0/with/{}", executor.key());
    let path = if e.path.starts_with(&with) {
        "/command".to_owned()
    } else if e.path == "/steps/0/timeout_secs" {
        "/timeout_secs".to_owned()
    } else if e.path.starts_with("/steps") || e.path == "/name" || e.path == "/description" {
        "/command".to_owned()
    } else {
        e.path
    };
    PathError::new(path, e.message)
}

/// The definition of `spec`, or every problem with it, located.
pub fn build(spec: &Spec<'_>) -> Result<JobDefinition, Vec<PathError>> {
    if spec.command.trim().is_empty() {
        return Err(vec![PathError::new("/command", "must not be empty")]);
    }
    let mut with = serde_json::Map::new();
    with.insert(spec.executor.key().to_owned(), json!(spec.command));
    let mut step = json!({
        "id": STEP_ID,
        "name": describe(spec.command),
        "type": spec.executor.step_type(),
        "with": Value::Object(with),
    });
    if let Some(t) = spec.timeout_secs {
        step["timeout_secs"] = json!(t);
    }
    let mut doc = json!({
        "name": JOB_NAME,
        "description": format!("ad-hoc: {}", describe(spec.command)),
        "steps": [step],
    });
    if let Some(p) = spec.parallelism {
        doc["parallelism"] = json!(p);
    }
    if let Some(t) = spec.timeout_secs {
        doc["timeout_secs"] = json!(t);
    }
    if let Some(pool) = spec.pool {
        doc["pool"] = json!(pool);
    }
    let def: JobDefinition = serde_json::from_value(doc).map_err(|e| {
        vec![PathError::new(
            "",
            format!("the command cannot be stored: {e}"),
        )]
    })?;
    let errors: Vec<PathError> = crate::jobs::validate(&def)
        .into_iter()
        .map(|e| located(e, spec.executor))
        .collect();
    if errors.is_empty() {
        Ok(def)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(command: &str, executor: Executor) -> Spec<'_> {
        Spec {
            command,
            executor,
            parallelism: None,
            timeout_secs: None,
            pool: None,
        }
    }

    #[test]
    fn each_executor_makes_one_step_of_its_type() {
        let def = build(&spec("uname -a", Executor::Ssh)).unwrap();
        assert_eq!(def.name, JOB_NAME);
        assert_eq!(def.steps.len(), 1);
        assert_eq!(def.steps[0].kind, "ssh.exec");
        assert_eq!(def.steps[0].with["command"], json!("uname -a"));
        let def = build(&spec("Get-Date", Executor::Winrm)).unwrap();
        assert_eq!(def.steps[0].kind, "winrm.exec");
        assert_eq!(def.steps[0].with["script"], json!("Get-Date"));
        let def = build(&Spec {
            pool: Some("default"),
            timeout_secs: Some(30),
            parallelism: Some(4),
            ..spec("id", Executor::Local)
        })
        .unwrap();
        assert_eq!(def.steps[0].kind, "local.exec");
        assert!(def.uses_host());
        assert_eq!(def.pool.as_deref(), Some("default"));
        assert_eq!((def.timeout_secs, def.parallelism), (Some(30), Some(4)));
        assert_eq!(def.steps[0].timeout_secs, Some(30));
    }

    #[test]
    fn problems_are_located_in_the_request() {
        let e = build(&spec("  ", Executor::Ssh)).unwrap_err();
        assert_eq!(e[0].path, "/command");
        let e = build(&spec("echo {{ nope.x }}", Executor::Ssh)).unwrap_err();
        assert!(e.iter().all(|e| e.path == "/command"), "{e:?}");
        let e = build(&spec("echo {{ unclosed", Executor::Ssh)).unwrap_err();
        assert!(e.iter().all(|e| e.path == "/command"), "{e:?}");
        assert!(build(&spec("echo {{ target.hostname }}", Executor::Ssh)).is_ok());
        let e = build(&Spec {
            parallelism: Some(0),
            ..spec("id", Executor::Ssh)
        })
        .unwrap_err();
        assert!(e.iter().any(|e| e.path == "/parallelism"), "{e:?}");
    }

    #[test]
    fn descriptions_are_the_first_line_shortened() {
        assert_eq!(describe("uname -a"), "uname -a");
        assert_eq!(describe("a\nb"), "a…");
        assert_eq!(describe(&"x".repeat(200)).chars().count(), 121);
    }
}
