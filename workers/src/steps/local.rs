//! `local.exec`: a command on the worker host (cron replacement).
//!
//! `with`: `command` (required; interpolated values are shell-quoted),
//! `shell` (default `/bin/sh`), `env` (object), `cwd` (inside the worker's
//! file roots; default the work root). The command runs in its own process
//! group, which is killed on timeout or cancel.
//!
//! It starts with a cleared environment: only the variables named in
//! `worker.env_pass` (by default `PATH`, `LANG`, `LC_ALL`, `TZ`), `HOME`
//! and `PWD` set to its working directory, and the step's own `env`. None
//! of the worker's settings or keys reach it.

use std::process::Stdio;

use opsc_proto::events::OutputStream;
use tokio::io::AsyncReadExt as _;

use super::{StepCall, StepOutcome, StepType, env_of, text};
use crate::exec::output::OutputSink;
use crate::host::Access;
use crate::template::Quoting;

/// The `with` keys this step reads (the step catalogue's schema must list
/// exactly these).
#[cfg(test)]
pub const WITH_KEYS: &[&str] = &["command", "shell", "env", "cwd"];

/// The `local.exec` step.
#[derive(Debug)]
pub struct LocalExec;

async fn pump(
    mut from: impl tokio::io::AsyncRead + Unpin,
    stream: OutputStream,
    sink: &OutputSink,
) {
    let mut buf = vec![0_u8; 8192];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => sink.chunk(stream, &buf[..n]).await,
        }
    }
}

fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[async_trait::async_trait]
impl StepType for LocalExec {
    fn quoting(&self, key: &str) -> Quoting {
        if key == "command" {
            Quoting::Shell
        } else {
            Quoting::None
        }
    }

    fn needs_target(&self) -> bool {
        false
    }

    async fn run(&self, call: StepCall<'_>) -> StepOutcome {
        let Some(command) = text(call.with, "command").filter(|c| !c.trim().is_empty()) else {
            return StepOutcome::failed("with.command is required", None);
        };
        let env = match env_of(call.with) {
            Ok(env) => env,
            Err(e) => return StepOutcome::failed(e, None),
        };
        let shell = text(call.with, "shell").unwrap_or("/bin/sh");
        let cwd = match text(call.with, "cwd") {
            Some(raw) => match call.host.confine(raw, Access::Read) {
                Ok(dir) => dir,
                Err(e) => return StepOutcome::failed(format!("with.cwd: {e}"), None),
            },
            None => call.host.work_root.clone(),
        };
        let mut cmd = tokio::process::Command::new(shell);
        cmd.arg("-c")
            .arg(command)
            .env_clear()
            .envs(call.host.env.iter().map(|(k, v)| (k, v)))
            .env("HOME", &call.host.work_root)
            .env("PWD", &cwd)
            .envs(env)
            .current_dir(&cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return StepOutcome::failed(format!("cannot start {shell}: {e}"), None),
        };
        let pid = child.id();
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            kill_group(pid);
            return StepOutcome::failed("no output pipes", None);
        };
        let io = async {
            tokio::join!(
                pump(stdout, OutputStream::Stdout, call.output),
                pump(stderr, OutputStream::Stderr, call.output)
            );
            child.wait().await
        };
        tokio::select! {
            status = io => match status {
                Ok(status) => StepOutcome::from_exit(status.code()),
                Err(e) => StepOutcome::failed(format!("waiting for the command failed: {e}"), None),
            },
            () = call.cancel.cancelled() => {
                kill_group(pid);
                StepOutcome::failed("interrupted", None)
            }
        }
    }
}
