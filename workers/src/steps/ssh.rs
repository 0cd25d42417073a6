//! `ssh.exec`: a command on the target over SSH, on the run's one
//! connection to that target.
//!
//! `with`: `command` (required; interpolated values are shell-quoted),
//! `sudo` (bool: run through `sudo -n`), `env` (object, exported before the
//! command), `cwd`.

use super::{StepCall, StepOutcome, StepType, env_of, text};
use crate::template::{Quoting, shell_quote};

/// The `ssh.exec` step.
#[derive(Debug)]
pub struct SshExec;

/// The remote command line for `command` with `env`, `cwd` and `sudo`.
fn command_line(command: &str, env: &[(String, String)], cwd: Option<&str>, sudo: bool) -> String {
    let mut line = String::new();
    for (k, v) in env {
        line.push_str(&format!("export {k}={}; ", shell_quote(v)));
    }
    if let Some(cwd) = cwd {
        line.push_str(&format!("cd {} && ", shell_quote(cwd)));
    }
    line.push_str(command);
    if sudo {
        format!("sudo -n -- sh -c {}", shell_quote(&line))
    } else {
        line
    }
}

#[async_trait::async_trait]
impl StepType for SshExec {
    fn quoting(&self, key: &str) -> Quoting {
        if key == "command" {
            Quoting::Shell
        } else {
            Quoting::None
        }
    }

    fn needs_target(&self) -> bool {
        true
    }

    async fn run(&self, call: StepCall<'_>) -> StepOutcome {
        let Some(command) = text(call.with, "command").filter(|c| !c.trim().is_empty()) else {
            return StepOutcome::failed("with.command is required", None);
        };
        let Some(target) = call.target else {
            return StepOutcome::failed("ssh.exec needs a target", None);
        };
        let env = match env_of(call.with) {
            Ok(env) => env,
            Err(e) => return StepOutcome::failed(e, None),
        };
        let sudo = call
            .with
            .get("sudo")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        let line = command_line(command, &env, text(call.with, "cwd"), sudo);
        let session = match call.connections.ssh(target, call.credentials).await {
            Ok(s) => s,
            Err(e) => return StepOutcome::failed(e, None),
        };
        match session.exec_stream(&line, call.output, call.cancel).await {
            Ok(Some(code)) => StepOutcome::from_exit(i32::try_from(code).ok()),
            Ok(None) if call.cancel.is_cancelled() => StepOutcome::failed("interrupted", None),
            Ok(None) => StepOutcome::from_exit(None),
            Err(e) => {
                call.connections.forget_ssh().await;
                StepOutcome::failed(format!("SSH: {e}"), None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_cwd_and_sudo_wrap_the_command_quoted() {
        let env = vec![("NAME".to_owned(), "a b'c".to_owned())];
        assert_eq!(
            command_line("echo $NAME", &env, Some("/tmp/x y"), false),
            "export NAME='a b'\\''c'; cd '/tmp/x y' && echo $NAME"
        );
        assert_eq!(
            command_line("id -u", &[], None, true),
            "sudo -n -- sh -c 'id -u'"
        );
    }
}
