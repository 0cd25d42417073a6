//! File transfer to and from a target over the run's SSH connection:
//! `sftp.upload`, `sftp.download`, `sftp.sync` (SFTP v3 subsystem) and
//! `ssh.copy` (a plain exec channel, for hosts whose SFTP is disabled).
//!
//! Worker-side paths are files of the worker host: operators mount what
//! jobs transfer into the workers (a volume in Kubernetes). Target-side
//! relative paths resolve from the login user's home directory.
//!
//! Every file lands under a temporary name in its destination directory and
//! is renamed into place only after its SHA-256 matched, so a reader never
//! sees a partial file. Each step prints one JSON object on stdout (so
//! `steps.<id>.json` works) and progress lines on stderr.
//!
//! All four are idempotent: copying a fixed source again leaves the same
//! destination.
//!
//! Cancel and timeout stop what runs on the target: the remote commands
//! (`cat`, `sha256sum`, …) in their own process group, killed over a second
//! channel; the SFTP channel is closed (which ends the server's SFTP
//! process) once the temporary file has been removed through it.
//!
//! Files: `spec` (settings), `client` (SFTP requests), `pipe` (pipelined
//! reads and writes), `hash`, `paths`, `file` (one verified file), `single`
//! (the upload and download steps), `plan`/`tree`/`sync` (`sftp.sync`),
//! `copy` (`ssh.copy`).

mod client;
mod copy;
mod file;
mod hash;
mod paths;
mod pipe;
mod plan;
mod single;
mod spec;
mod sync;
mod tree;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use opsc_proto::events::OutputStream;
use serde_json::Value;

use super::{StepCall, StepOutcome, StepType};
use crate::template::Quoting;

/// Why a transfer failed. Messages name the path and the reason and never
/// carry file contents or credentials.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The settings are wrong.
    #[error("{0}")]
    Spec(String),
    /// A worker-side file operation failed.
    #[error("cannot {action} {} on the worker: {source}", path.display())]
    Local {
        /// What was tried, e.g. `read`.
        action: &'static str,
        /// The worker-side path.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A target-side file operation failed.
    #[error("cannot {action} {path} on the target: {reason}")]
    Remote {
        /// What was tried, e.g. `create`.
        action: &'static str,
        /// The target-side path.
        path: String,
        /// Why it failed.
        reason: String,
    },
    /// The connection or a channel failed.
    #[error("SSH: {0}")]
    Ssh(String),
    /// The copy's checksum differs from the source's.
    #[error(
        "checksum mismatch for {path}: the source has sha256 {source_sha256}, the copy {copy_sha256}"
    )]
    Mismatch {
        /// The destination.
        path: String,
        /// SHA-256 of the source.
        source_sha256: String,
        /// SHA-256 of the copy.
        copy_sha256: String,
    },
    /// The step was cancelled or timed out.
    #[error("interrupted")]
    Cancelled,
    /// The step was cancelled, but its remote command could not be
    /// confirmed stopped.
    #[error("cancelled; the remote command could not be stopped: {0}")]
    NotStopped(String),
}

impl TransferError {
    fn local(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Local {
            action,
            path: path.into(),
            source,
        }
    }

    fn remote(action: &'static str, path: &str, reason: impl Into<String>) -> Self {
        Self::Remote {
            action,
            path: path.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Prints the summary as one JSON line, or fails with the error.
async fn finish(call: &StepCall<'_>, result: Result<Value, TransferError>) -> StepOutcome {
    match result {
        Ok(summary) => {
            call.output
                .line(OutputStream::Stdout, &summary.to_string())
                .await;
            StepOutcome::ok(None)
        }
        Err(e) => {
            if matches!(e, TransferError::NotStopped(_)) {
                // Also in the output: a cancelled step's error is replaced
                // by the run's reason.
                call.output
                    .line(OutputStream::Stderr, &format!("opsconductor: {e}"))
                    .await;
            }
            StepOutcome::failed(e.to_string(), None)
        }
    }
}

/// The `sftp.upload` step: one worker file (or inline `content`) to the target.
#[derive(Debug)]
pub struct SftpUpload;

/// The `sftp.download` step: one target file to the worker.
#[derive(Debug)]
pub struct SftpDownload;

/// The `sftp.sync` step: a directory tree, only what changed.
#[derive(Debug)]
pub struct SftpSync;

/// The `ssh.copy` step: one file (or inline `content`) without SFTP.
#[derive(Debug)]
pub struct SshCopy;

#[async_trait::async_trait]
impl StepType for SftpUpload {
    fn quoting(&self, _key: &str) -> Quoting {
        Quoting::None
    }
    fn needs_target(&self) -> bool {
        true
    }
    fn idempotent(&self) -> bool {
        true
    }
    async fn run(&self, call: StepCall<'_>) -> StepOutcome {
        let result = single::upload(&call).await;
        finish(&call, result).await
    }
}

#[async_trait::async_trait]
impl StepType for SftpDownload {
    fn quoting(&self, _key: &str) -> Quoting {
        Quoting::None
    }
    fn needs_target(&self) -> bool {
        true
    }
    fn idempotent(&self) -> bool {
        true
    }
    async fn run(&self, call: StepCall<'_>) -> StepOutcome {
        let result = single::download(&call).await;
        finish(&call, result).await
    }
}

#[async_trait::async_trait]
impl StepType for SftpSync {
    fn quoting(&self, _key: &str) -> Quoting {
        Quoting::None
    }
    fn needs_target(&self) -> bool {
        true
    }
    fn idempotent(&self) -> bool {
        true
    }
    async fn run(&self, call: StepCall<'_>) -> StepOutcome {
        let result = sync::run(&call).await;
        finish(&call, result).await
    }
}

#[async_trait::async_trait]
impl StepType for SshCopy {
    fn quoting(&self, _key: &str) -> Quoting {
        Quoting::None
    }
    fn needs_target(&self) -> bool {
        true
    }
    fn idempotent(&self) -> bool {
        true
    }
    async fn run(&self, call: StepCall<'_>) -> StepOutcome {
        let result = copy::run(&call).await;
        finish(&call, result).await
    }
}
