//! `winrm.exec` and `winrm.copy`: work on a Windows target over WinRM
//! (the target's `winrm` settings and `winrm` credential), through
//! [`crate::winrm`]. Each step opens its own shell and deletes it when it
//! ends; a step stopped by its timeout or a cancel has its command
//! terminated and its shell deleted.
//!
//! `winrm.exec` `with`:
//! * `script`: PowerShell (run with `-NoProfile -NonInteractive
//!   -EncodedCommand`); values interpolated into it are PowerShell
//!   single-quoted literals; or
//! * `command`: a `cmd` command line; values interpolated into it are
//!   double-quoted, and a value `cmd` would still expand (holding `"`, `%`,
//!   `!` or a line break) fails the render;
//! * `shell` (optional): `powershell` or `cmd`, which must match the key;
//! * `env` (object): for `script`, `$env:NAME = '<value>'` lines before the
//!   script; for `command`, the shell's environment (WinRS
//!   `rsp:Environment`), so no `cmd` quoting is involved;
//! * `cwd`: for `script`, `Set-Location -LiteralPath` before it (failing the
//!   script if missing); for `command`, the shell's working directory.
//!
//! Output streams to the run's log as each Receive brings it; the exit code
//! decides the outcome. Not idempotent.
//!
//! `winrm.copy` `with`: `source` (a file on the worker host) or `content`
//! (text, written as UTF-8), `dest` (a full Windows path), `overwrite`
//! (default true), `create_dirs` (default true). The bytes travel in
//! base64 chunks ([`scripts::CHUNK`]) appended to a temporary file next to
//! `dest`, which is checked against the local SHA-256, moved into place,
//! and checked again; on failure the temporary file is removed. Prints one
//! summary line. Idempotent.

mod copy;
mod exec;
mod scripts;
mod spec;
#[cfg(test)]
mod tests;

use std::time::Duration;

use opsc_proto::probe::FailureStage;

pub use copy::WinrmCopy;
pub use exec::WinrmExec;

use super::StepCall;
use crate::winrm::{Endpoint, Failure, Session, ShellOptions, Target, WinrmLogin};

/// Allowed to resolve, connect, authenticate and create the shell.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one Receive waits for output before asking again.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(20);

/// A failure as the step reports it.
fn describe((stage, message): Failure) -> String {
    format!("WinRM ({}): {message}", stage.as_str())
}

/// The target's WinRM settings and login.
struct Remote {
    hostname: String,
    endpoint: Endpoint,
    login: WinrmLogin,
}

impl Remote {
    fn of(call: &StepCall<'_>, step: &str) -> Result<Self, String> {
        let target = call
            .target
            .ok_or_else(|| format!("{step} needs a target"))?;
        let settings = target
            .winrm
            .as_ref()
            .ok_or_else(|| format!("target {} has no WinRM settings", target.name))?;
        let material = call
            .credentials
            .get(&settings.credential_id)
            .cloned()
            .ok_or_else(|| format!("the credential of target {} was not sent", target.name))?;
        Ok(Self {
            hostname: target.hostname.clone(),
            endpoint: settings.into(),
            login: WinrmLogin::from_material(material)?,
        })
    }

    /// Opens a shell; `None` when the step was cancelled first.
    async fn open(
        &self,
        call: &StepCall<'_>,
        options: &ShellOptions,
    ) -> Result<Option<Session>, String> {
        let target = Target {
            hostname: &self.hostname,
            endpoint: self.endpoint,
            login: &self.login,
            connect_timeout: CONNECT_TIMEOUT,
            egress: &call.host.egress,
        };
        tokio::select! {
            s = Session::open(&target, options, OPERATION_TIMEOUT) => s.map(Some).map_err(describe),
            () = call.cancel.cancelled() => Ok(None),
        }
    }
}

/// The failure of a command that ran but did not exit 0.
fn command_failed(what: &str, exit_code: i32, stderr: &str) -> String {
    describe((
        FailureStage::Command,
        format!(
            "{what} exited with {exit_code}: {}",
            crate::winrm::excerpt(stderr)
        ),
    ))
}
