//! One file, verified: written under a temporary name beside the
//! destination, its SHA-256 compared with the source's, then renamed into
//! place. On any failure (or cancel) the temporary file is removed and the
//! destination is untouched.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest as _, Sha256};
use tokio::io::AsyncRead;
use tokio_util::sync::CancellationToken;

use super::client::Sftp;
use super::hash::{self, Via};
use super::pipe::{self, Ends};
use super::{TransferError, paths};
use crate::ssh::Session;

/// How long cleanup after a failure may take.
const CLEANUP: Duration = Duration::from_secs(5);

/// The connection a transfer uses.
#[derive(Debug, Clone, Copy)]
pub struct Remote<'a> {
    /// For `sha256sum`.
    pub session: &'a Arc<Session>,
    /// For the data.
    pub sftp: &'a Arc<Sftp>,
    /// Stops the transfer.
    pub cancel: &'a CancellationToken,
}

/// A file copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// Bytes transferred.
    pub bytes: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// How the target side was hashed.
    pub via: Via,
}

/// What to upload.
pub struct Upload<'a> {
    /// The bytes (a worker file or inline content).
    pub from: &'a mut (dyn AsyncRead + Unpin + Send),
    /// Names the source in errors.
    pub from_path: &'a Path,
    /// The target-side destination.
    pub to: &'a str,
    /// Mode of the copy.
    pub mode: u32,
    /// Modification time of the copy (seconds), or now.
    pub mtime: Option<u32>,
}

impl std::fmt::Debug for Upload<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
}

/// Runs `work` unless cancelled first.
async fn cancellable<T>(
    cancel: &CancellationToken,
    work: impl Future<Output = Result<T, TransferError>>,
) -> Result<T, TransferError> {
    tokio::select! {
        r = work => r,
        () = cancel.cancelled() => Err(TransferError::Cancelled),
    }
}

/// A temporary file on the target, removed in the background unless
/// disarmed, also when the step's future is dropped on timeout.
struct RemoteTemp {
    /// Keeps the connection open until the removal is done.
    session: Arc<Session>,
    sftp: Arc<Sftp>,
    path: String,
    armed: bool,
}

impl Drop for RemoteTemp {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (session, sftp) = (self.session.clone(), self.sftp.clone());
        let path = std::mem::take(&mut self.path);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = tokio::time::timeout(CLEANUP, sftp.remove_file(&path)).await;
                drop(session);
            });
        }
    }
}

/// A temporary file on the worker, removed unless disarmed.
struct LocalTemp {
    path: PathBuf,
    armed: bool,
}

impl Drop for LocalTemp {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Uploads one file through a temporary name; verified before the rename.
pub async fn upload(remote: Remote<'_>, job: Upload<'_>) -> Result<Copied, TransferError> {
    let sftp = remote.sftp;
    let mut tmp = RemoteTemp {
        session: remote.session.clone(),
        sftp: sftp.clone(),
        path: paths::temp_beside(job.to),
        armed: false,
    };
    let work = async {
        let handle = sftp.create_new(&tmp.path, job.to).await?;
        tmp.armed = true;
        let mut hasher = Sha256::new();
        let ends = Ends {
            local: job.from_path,
            remote: job.to,
        };
        let written = pipe::upload(sftp, &handle, job.from, &mut hasher, ends).await;
        let closed = sftp.close(&handle, job.to).await;
        let bytes = written?;
        closed?;
        sftp.set_meta(&tmp.path, Some(job.mode), job.mtime).await?;
        let sent = hash::hex(&hasher.finalize());
        let (landed, via) = hash::of_remote(remote.session, sftp, &tmp.path, remote.cancel).await?;
        if landed != sent {
            return Err(TransferError::Mismatch {
                path: job.to.to_owned(),
                source_sha256: sent,
                copy_sha256: landed,
            });
        }
        sftp.replace(&tmp.path, job.to).await?;
        tmp.armed = false;
        Ok(Copied {
            bytes,
            sha256: sent,
            via,
        })
    };
    cancellable(remote.cancel, work).await
}

/// What to download.
#[derive(Debug, Clone, Copy)]
pub struct Download<'a> {
    /// The target-side source.
    pub from: &'a str,
    /// The worker-side destination.
    pub to: &'a Path,
    /// Mode of the copy.
    pub mode: u32,
    /// Modification time of the copy (seconds), or now.
    pub mtime: Option<u32>,
}

/// `path`'s temporary sibling on the worker.
fn local_temp(path: &Path) -> PathBuf {
    let name = path.to_string_lossy();
    PathBuf::from(paths::temp_beside(&name))
}

/// Downloads one file through a temporary name; verified before the rename.
pub async fn download(remote: Remote<'_>, job: Download<'_>) -> Result<Copied, TransferError> {
    let sftp = remote.sftp;
    let mut tmp = LocalTemp {
        path: local_temp(job.to),
        armed: false,
    };
    let work = async {
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp.path)
            .await
            .map_err(|e| TransferError::local("create", job.to, e))?;
        tmp.armed = true;
        let handle = sftp.open_read(job.from).await?;
        let mut hasher = Sha256::new();
        let ends = Ends {
            local: job.to,
            remote: job.from,
        };
        let read = pipe::download(sftp, &handle, &mut file, &mut hasher, ends).await;
        let closed = sftp.close(&handle, job.from).await;
        let bytes = read?;
        closed?;
        file.sync_all()
            .await
            .map_err(|e| TransferError::local("write", job.to, e))?;
        let file = file.into_std().await;
        set_local_meta(&file, job.to, job.mode, job.mtime)?;
        drop(file);
        let received = hash::hex(&hasher.finalize());
        // The target's own hash where sha256sum runs; else what SFTP sent.
        let (source, via) =
            match hash::by_sha256sum(remote.session, job.from, false, remote.cancel).await? {
                Some(h) => (h, Via::Sha256sum),
                None => (received, Via::SftpRead),
            };
        let landed = hash::of_local(&tmp.path).await?;
        if landed != source {
            return Err(TransferError::Mismatch {
                path: job.to.display().to_string(),
                source_sha256: source,
                copy_sha256: landed,
            });
        }
        tokio::fs::rename(&tmp.path, job.to)
            .await
            .map_err(|e| TransferError::local("rename into place", job.to, e))?;
        tmp.armed = false;
        Ok(Copied {
            bytes,
            sha256: landed,
            via,
        })
    };
    cancellable(remote.cancel, work).await
}

/// Sets mode and times of an open worker file.
fn set_local_meta(
    file: &std::fs::File,
    path: &Path,
    mode: u32,
    mtime: Option<u32>,
) -> Result<(), TransferError> {
    use std::os::unix::fs::PermissionsExt as _;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(|e| TransferError::local("set the mode of", path, e))?;
    if let Some(secs) = mtime {
        let t = UNIX_EPOCH + Duration::from_secs(u64::from(secs));
        file.set_times(std::fs::FileTimes::new().set_modified(t).set_accessed(t))
            .map_err(|e| TransferError::local("set the time of", path, e))?;
    }
    Ok(())
}

/// Seconds since the epoch of a worker file's modification time.
pub fn mtime_secs(time: std::io::Result<SystemTime>) -> Option<u32> {
    let secs = time.ok()?.duration_since(UNIX_EPOCH).ok()?.as_secs();
    u32::try_from(secs).ok()
}
