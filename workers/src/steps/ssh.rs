//! `ssh.exec`: a command on the target over SSH, on the run's one
//! connection to that target.
//!
//! `with`: `command` (required; interpolated values are shell-quoted),
//! `sudo` (bool: run through `sudo -n`), `env` (object, exported before the
//! command), `cwd`.
//!
//! The command runs in a process group of its own on the target; cancel
//! and timeout stop that group (SIGTERM, then SIGKILL), and a cancelled
//! step whose group could not be stopped says so in its error and on its
//! standard error.

use opsc_proto::events::OutputStream;

use super::{StepCall, StepOutcome, StepType, env_of, text};
use crate::ssh::{Ended, RemoteCommand};
use crate::template::{Quoting, shell_quote};

/// The `with` keys this step reads (the step catalogue's schema must list
/// exactly these).
#[cfg(test)]
pub const WITH_KEYS: &[&str] = &["command", "sudo", "env", "cwd"];

/// The `ssh.exec` step.
#[derive(Debug)]
pub struct SshExec;

/// The remote command line for `command` with `env` and `cwd` (`sudo` is
/// applied around it by [`RemoteCommand`]).
fn command_line(command: &str, env: &[(String, String)], cwd: Option<&str>) -> String {
    let mut line = String::new();
    for (k, v) in env {
        line.push_str(&format!("export {k}={}; ", shell_quote(v)));
    }
    if let Some(cwd) = cwd {
        line.push_str(&format!("cd {} && ", shell_quote(cwd)));
    }
    line.push_str(command);
    line
}

/// The error of a cancelled step whose command may still run.
fn not_stopped(why: &str) -> String {
    format!("cancelled; the remote command could not be stopped: {why}")
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
        let line = command_line(command, &env, text(call.with, "cwd"));
        let session = match call
            .connections
            .ssh(target, call.credentials, &call.host.egress)
            .await
        {
            Ok(s) => s,
            Err(e) => return StepOutcome::failed(e, None),
        };
        let remote = RemoteCommand { line: &line, sudo };
        match session.exec_stream(remote, call.output, call.cancel).await {
            Ok(Ended::Finished(code)) => {
                StepOutcome::from_exit(code.and_then(|c| i32::try_from(c).ok()))
            }
            Ok(Ended::Stopped) => StepOutcome::failed("interrupted", None),
            Ok(Ended::NotStopped(why)) => {
                let error = not_stopped(&why);
                // Also in the output: a cancelled step's error is replaced
                // by the run's reason.
                call.output
                    .line(OutputStream::Stderr, &format!("opsconductor: {error}"))
                    .await;
                StepOutcome::failed(error, None)
            }
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
    fn env_and_cwd_prefix_the_command_quoted() {
        let env = vec![("NAME".to_owned(), "a b'c".to_owned())];
        assert_eq!(
            command_line("echo $NAME", &env, Some("/tmp/x y")),
            "export NAME='a b'\\''c'; cd '/tmp/x y' && echo $NAME"
        );
        assert_eq!(command_line("id -u", &[], None), "id -u");
    }

    #[test]
    fn sudo_wraps_the_reporting_wrapper() {
        let text = RemoteCommand {
            line: "id -u",
            sudo: true,
        }
        .text();
        assert!(text.starts_with("sudo -n -- sh -c 'opsc_c="), "{text}");
        let plain = RemoteCommand {
            line: "id -u",
            sudo: false,
        }
        .text();
        assert!(plain.starts_with("opsc_c='id -u'\n"), "{plain}");
    }
}
