//! `ssh.copy`: one file (or inline `content`) to the target over an exec
//! channel, for hosts whose SFTP subsystem is disabled. The remote side is
//! POSIX `sh` with `cat`, `chmod`, `mv`, `touch` and `sha256sum`.
//!
//! The data goes to `cat` under a temporary name (`umask 077`, so nobody
//! else can read it meanwhile); the script then sets the mode (and mtime)
//! and prints `sha256sum` of it; only when that matches what was sent does
//! a second command `mv -f` it into place. Every path is shell-quoted.
//!
//! Cancel and timeout stop the script's process group on the target; its
//! `TERM` trap removes the temporary file, and so does a second command
//! afterwards.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::client;
use super::hash::{Hashing, parse_sha256sum};
use super::single::{Opened, elapsed_ms, open_source, remote_dest};
use super::spec::{self, PutSpec, required};
use super::{TransferError, paths};
use crate::ssh::{Ended, RemoteCommand, Session};
use crate::steps::StepCall;
use crate::template::shell_quote;

/// Output kept of each remote command.
const OUTPUT_CAP: usize = 16 * 1024;

/// The remote script that receives the data on its standard input.
#[derive(Debug, Clone)]
pub struct Receive<'a> {
    /// Temporary name beside the destination.
    pub tmp: &'a str,
    /// Directory to create first (`create_dirs`).
    pub mkdir: Option<&'a str>,
    /// Mode of the file.
    pub mode: u32,
    /// Modification time (seconds since the epoch).
    pub mtime: Option<u32>,
}

impl Receive<'_> {
    /// The shell text. On any failure (and when stopped by SIGTERM) the
    /// temporary file is removed and the failing command's status returned.
    pub fn script(&self) -> String {
        let tmp = shell_quote(self.tmp);
        let trap = shell_quote(&format!("rm -f -- {tmp}; exit 143"));
        let mut steps = Vec::new();
        if let Some(dir) = self.mkdir {
            steps.push(format!("mkdir -p -- {}", shell_quote(dir)));
        }
        steps.push("umask 077".to_owned());
        steps.push(format!("cat > {tmp}"));
        steps.push(format!("chmod {:04o} {tmp}", self.mode));
        if let Some(stamp) = self.mtime.and_then(touch_stamp) {
            steps.push(format!("TZ=UTC0 touch -m -t {stamp} {tmp}"));
        }
        steps.push(format!("sha256sum -- {tmp}"));
        format!(
            "trap {trap} TERM HUP\n{} || {{ rc=$?; rm -f -- {tmp}; exit $rc; }}",
            steps.join(" && ")
        )
    }
}

/// `touch -t` text (`CCYYMMDDhhmm.SS`, UTC) of `secs`.
pub fn touch_stamp(secs: u32) -> Option<String> {
    let t = chrono::DateTime::from_timestamp(i64::from(secs), 0)?;
    Some(t.format("%Y%m%d%H%M.%S").to_string())
}

/// Runs a short command without input; its exit status and standard error.
async fn short(
    session: &Arc<Session>,
    command: RemoteCommand<'_>,
    call: &StepCall<'_>,
) -> Result<(Option<u32>, String), TransferError> {
    match session
        .exec_input(command, &mut tokio::io::empty(), OUTPUT_CAP, call.cancel)
        .await
    {
        Ok(Ended::Finished(out)) => Ok((out.exit_code, out.stderr)),
        Ok(Ended::Stopped) => Err(TransferError::Cancelled),
        Ok(Ended::NotStopped(why)) => Err(TransferError::NotStopped(why)),
        Err(e) => {
            call.connections.forget_ssh().await;
            Err(TransferError::Ssh(e.to_string()))
        }
    }
}

/// The temporary file on the target, removed in the background unless
/// disarmed (also when the step's future is dropped on timeout).
struct CopyTemp {
    session: Arc<Session>,
    command: String,
    sudo: bool,
    armed: bool,
}

impl Drop for CopyTemp {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (session, line, sudo) = (
            self.session.clone(),
            std::mem::take(&mut self.command),
            self.sudo,
        );
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let quiet = tokio_util::sync::CancellationToken::new();
                let command = RemoteCommand { line: &line, sudo };
                let _ = tokio::time::timeout(
                    Duration::from_secs(5),
                    session.exec_input(command, &mut tokio::io::empty(), 0, &quiet),
                )
                .await;
            });
        }
    }
}

/// The reason text of a failed remote command.
fn failure(exit: Option<u32>, stderr: &str) -> String {
    let first = stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    match (exit, first) {
        (Some(127), _) => format!("a command is missing on the target: {first}"),
        (Some(c), "") => format!("exited with {c}"),
        (Some(c), m) => format!("{m} (exit {c})"),
        (None, "") => "ended without an exit status".to_owned(),
        (None, m) => format!("{m} (no exit status)"),
    }
}

/// `ssh.copy`.
pub async fn run(call: &StepCall<'_>) -> Result<Value, TransferError> {
    let started = Instant::now();
    let spec: PutSpec = spec::parse(call.with)?;
    let source = spec.put_source()?;
    let dest = required("dest", &spec.dest)?;
    let Opened {
        reader,
        mode,
        mtime,
        name,
    } = open_source(source).await?;
    let to = remote_dest(dest, false, name.as_deref())?;
    let session = client::session(call).await?;
    if !spec.overwrite {
        let test = format!("test -e {}", shell_quote(&to));
        let command = RemoteCommand {
            line: &test,
            sudo: spec.sudo,
        };
        let (exit, _) = short(&session, command, call).await?;
        if exit == Some(0) {
            return Ok(
                json!({"path": to, "changed": false, "reason": "exists and overwrite is false",
                             "elapsed_ms": elapsed_ms(started)}),
            );
        }
    }
    let tmp = paths::temp_beside(&to);
    let parent = paths::parent(&to);
    let receive = Receive {
        tmp: &tmp,
        mkdir: (spec.create_dirs && parent != "." && parent != "/").then_some(parent),
        mode: spec.mode.unwrap_or(mode),
        mtime: mtime.filter(|_| spec.preserve_mtime),
    };
    let mut guard = CopyTemp {
        session: session.clone(),
        command: format!("rm -f -- {}", shell_quote(&tmp)),
        sudo: spec.sudo,
        armed: true,
    };
    let mut input = Hashing::new(reader);
    let script = receive.script();
    let command = RemoteCommand {
        line: &script,
        sudo: spec.sudo,
    };
    let sent = session
        .exec_input(command, &mut input, OUTPUT_CAP, call.cancel)
        .await;
    let out = match sent {
        Ok(Ended::Finished(out)) => out,
        Ok(Ended::Stopped) => return Err(TransferError::Cancelled),
        Ok(Ended::NotStopped(why)) => return Err(TransferError::NotStopped(why)),
        Err(e) => {
            if let Some(why) = input.failed.take() {
                let path = spec.source.as_deref().unwrap_or("(content)");
                return Err(TransferError::local(
                    "read",
                    path,
                    std::io::Error::other(why),
                ));
            }
            call.connections.forget_ssh().await;
            return Err(TransferError::Ssh(e.to_string()));
        }
    };
    if out.exit_code != Some(0) {
        return Err(TransferError::remote(
            "write",
            &to,
            failure(out.exit_code, &out.stderr),
        ));
    }
    let bytes = input.bytes;
    let sent_hash = input.finish();
    let Some(landed) = parse_sha256sum(&out.stdout) else {
        return Err(TransferError::remote(
            "verify",
            &to,
            "sha256sum printed no hash",
        ));
    };
    if landed != sent_hash {
        return Err(TransferError::Mismatch {
            path: to,
            source_sha256: sent_hash,
            copy_sha256: landed,
        });
    }
    let mv = format!("mv -f -- {} {}", shell_quote(&tmp), shell_quote(&to));
    let command = RemoteCommand {
        line: &mv,
        sudo: spec.sudo,
    };
    let (exit, stderr) = short(&session, command, call).await?;
    if exit != Some(0) {
        return Err(TransferError::remote(
            "rename into place",
            &to,
            failure(exit, &stderr),
        ));
    }
    guard.armed = false;
    Ok(
        json!({"path": to, "changed": true, "bytes": bytes, "sha256": sent_hash,
              "verified_by": "sha256sum", "elapsed_ms": elapsed_ms(started)}),
    )
}
