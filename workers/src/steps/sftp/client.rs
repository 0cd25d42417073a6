//! SFTP v3 requests on one channel of the run's SSH connection, with
//! errors that name the path. Built on `russh-sftp`'s raw session so the
//! OpenSSH `posix-rename` extension can replace files atomically.

use std::sync::Arc;

use russh_sftp::client::RawSftpSession;
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{FileAttributes, OpenFlags, Packet, StatusCode};

use super::{TransferError, paths};
use crate::exec::target::TargetConnections;
use crate::ssh::{Session, SubsystemError};
use crate::steps::StepCall;

/// Seconds one SFTP request may take.
const REQUEST_TIMEOUT_SECS: u64 = 60;
/// File-type bits of a mode.
const S_IFMT: u32 = 0o170_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;

/// What a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symlink, device, socket or fifo.
    Other,
}

/// The attributes transfers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// What it is.
    pub kind: Kind,
    /// Size in bytes.
    pub size: u64,
    /// Permission bits (`0o7777`).
    pub mode: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: u32,
}

impl Meta {
    fn from_attrs(a: &FileAttributes) -> Self {
        let raw = a.permissions.unwrap_or(0);
        let kind = match raw & S_IFMT {
            S_IFDIR => Kind::Dir,
            S_IFREG => Kind::File,
            _ => Kind::Other,
        };
        Self {
            kind,
            size: a.size.unwrap_or(0),
            mode: raw & 0o7777,
            mtime: a.mtime.unwrap_or(0),
        }
    }
}

/// The reason text of an SFTP error.
pub fn reason(e: &SftpError) -> String {
    match e {
        SftpError::Status(s) => {
            let code = match s.status_code {
                StatusCode::NoSuchFile => "no such file or directory",
                StatusCode::PermissionDenied => "permission denied",
                StatusCode::OpUnsupported => "not supported by the server",
                StatusCode::NoConnection | StatusCode::ConnectionLost => "the connection was lost",
                _ => "",
            };
            let msg = s.error_message.trim();
            match (code, msg) {
                ("", "") => s.status_code.to_string(),
                ("", m) => m.to_owned(),
                (c, _) => c.to_owned(),
            }
        }
        SftpError::Timeout => format!("no answer within {REQUEST_TIMEOUT_SECS}s"),
        other => other.to_string(),
    }
}

fn is_missing(e: &SftpError) -> bool {
    matches!(e, SftpError::Status(s) if s.status_code == StatusCode::NoSuchFile)
}

fn sftp_string(out: &mut Vec<u8>, s: &str) -> Result<(), TransferError> {
    let len =
        u32::try_from(s.len()).map_err(|_| TransferError::Spec(format!("path too long: {s}")))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// An SFTP session on its own channel; closed when dropped.
pub struct Sftp {
    pub(super) raw: RawSftpSession,
    posix_rename: bool,
}

impl std::fmt::Debug for Sftp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sftp")
            .field("posix_rename", &self.posix_rename)
            .finish_non_exhaustive()
    }
}

/// The run's SSH session to the call's target.
pub async fn session(call: &StepCall<'_>) -> Result<Arc<Session>, TransferError> {
    let target = call
        .target
        .ok_or_else(|| TransferError::Spec("this step needs a target".to_owned()))?;
    call.connections
        .ssh(target, call.credentials, &call.host.egress)
        .await
        .map_err(TransferError::Ssh)
}

impl Sftp {
    /// Starts the `sftp` subsystem on a new channel of `session`.
    pub async fn open(
        session: &Session,
        connections: &TargetConnections,
    ) -> Result<Arc<Self>, TransferError> {
        let stream = match session.subsystem("sftp").await {
            Ok(s) => s,
            Err(SubsystemError::Refused(_)) => {
                return Err(TransferError::Ssh(
                    "the target refused the SFTP subsystem (use ssh.copy for hosts without SFTP)"
                        .to_owned(),
                ));
            }
            Err(e @ SubsystemError::Ssh(_)) => {
                connections.forget_ssh().await;
                return Err(TransferError::Ssh(e.to_string()));
            }
        };
        let raw = RawSftpSession::new(stream);
        raw.set_timeout(REQUEST_TIMEOUT_SECS);
        let version = raw
            .init()
            .await
            .map_err(|e| TransferError::Ssh(format!("SFTP start: {}", reason(&e))))?;
        let posix_rename = version
            .extensions
            .get("posix-rename@openssh.com")
            .is_some_and(|v| v == "1");
        Ok(Arc::new(Self { raw, posix_rename }))
    }

    /// The attributes of `path` (following symlinks), `None` when missing.
    pub async fn stat(&self, path: &str) -> Result<Option<Meta>, TransferError> {
        match self.raw.stat(path).await {
            Ok(a) => Ok(Some(Meta::from_attrs(&a.attrs))),
            Err(e) if is_missing(&e) => Ok(None),
            Err(e) => Err(TransferError::remote("stat", path, reason(&e))),
        }
    }

    /// Creates directory `path` (and, when `parents`, its missing
    /// ancestors); an existing directory is fine.
    pub async fn mkdir(&self, path: &str, mode: u32, parents: bool) -> Result<(), TransferError> {
        let mut chain = if parents {
            paths::ancestors(path)
        } else {
            Vec::new()
        };
        chain.push(paths::trim(path).to_owned());
        for dir in chain {
            match self.stat(&dir).await? {
                Some(m) if m.kind == Kind::Dir => continue,
                Some(_) => {
                    return Err(TransferError::remote(
                        "create directory",
                        &dir,
                        "a file of that name exists",
                    ));
                }
                None => {}
            }
            let attrs = FileAttributes {
                permissions: Some(mode),
                ..FileAttributes::empty()
            };
            if let Err(e) = self.raw.mkdir(dir.as_str(), attrs).await {
                // Lost a race with another creator: fine when it is a directory now.
                if !matches!(self.stat(&dir).await?, Some(m) if m.kind == Kind::Dir) {
                    return Err(TransferError::remote("create directory", &dir, reason(&e)));
                }
            }
        }
        Ok(())
    }

    /// The entries of directory `path` (without `.` and `..`), attributes
    /// not following symlinks.
    pub async fn list(&self, path: &str) -> Result<Vec<(String, Meta)>, TransferError> {
        let fail = |e: SftpError| TransferError::remote("list", path, reason(&e));
        let handle = self.raw.opendir(path).await.map_err(fail)?.handle;
        let mut out = Vec::new();
        loop {
            match self.raw.readdir(handle.as_str()).await {
                Ok(name) => {
                    for f in name.files {
                        if f.filename == "." || f.filename == ".." {
                            continue;
                        }
                        if let Err(why) = super::paths::safe_name(&f.filename) {
                            let _ = self.raw.close(handle.as_str()).await;
                            return Err(TransferError::remote("list", path, why));
                        }
                        let meta = Meta::from_attrs(&f.attrs);
                        out.push((f.filename, meta));
                    }
                }
                Err(SftpError::Status(s)) if s.status_code == StatusCode::Eof => break,
                Err(e) => {
                    let _ = self.raw.close(handle.as_str()).await;
                    return Err(fail(e));
                }
            }
        }
        let _ = self.raw.close(handle).await;
        Ok(out)
    }

    /// Opens `path` for reading; its handle.
    pub async fn open_read(&self, path: &str) -> Result<String, TransferError> {
        self.raw
            .open(path, OpenFlags::READ, FileAttributes::empty())
            .await
            .map(|h| h.handle)
            .map_err(|e| TransferError::remote("open", path, reason(&e)))
    }

    /// Creates `path`, which must not exist, readable only by the owner
    /// until [`Self::set_meta`]; its handle. Errors name `shown` (the
    /// destination the temporary file stands for).
    pub async fn create_new(&self, path: &str, shown: &str) -> Result<String, TransferError> {
        let attrs = FileAttributes {
            permissions: Some(0o600),
            ..FileAttributes::empty()
        };
        let flags = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::EXCLUDE | OpenFlags::TRUNCATE;
        self.raw
            .open(path, flags, attrs)
            .await
            .map(|h| h.handle)
            .map_err(|e| TransferError::remote("create", shown, reason(&e)))
    }

    /// Closes a handle; for a written file this confirms the writes.
    pub async fn close(&self, handle: &str, path: &str) -> Result<(), TransferError> {
        self.raw
            .close(handle)
            .await
            .map(drop)
            .map_err(|e| TransferError::remote("close", path, reason(&e)))
    }

    /// Sets the permission bits and, when given, access and modification time.
    pub async fn set_meta(
        &self,
        path: &str,
        mode: Option<u32>,
        mtime: Option<u32>,
    ) -> Result<(), TransferError> {
        let attrs = FileAttributes {
            permissions: mode,
            atime: mtime,
            mtime,
            ..FileAttributes::empty()
        };
        self.raw
            .setstat(path, attrs)
            .await
            .map(drop)
            .map_err(|e| TransferError::remote("set the mode and time of", path, reason(&e)))
    }

    /// Removes file (or symlink) `path`.
    pub async fn remove_file(&self, path: &str) -> Result<(), TransferError> {
        self.raw
            .remove(path)
            .await
            .map(drop)
            .map_err(|e| TransferError::remote("remove", path, reason(&e)))
    }

    /// Removes empty directory `path`.
    pub async fn remove_dir(&self, path: &str) -> Result<(), TransferError> {
        self.raw
            .rmdir(path)
            .await
            .map(drop)
            .map_err(|e| TransferError::remote("remove directory", path, reason(&e)))
    }

    /// Moves `from` to `to`, replacing `to`: atomically with OpenSSH's
    /// `posix-rename`; otherwise (plain SFTP v3 refuses to overwrite) by
    /// removing `to` first.
    pub async fn replace(&self, from: &str, to: &str) -> Result<(), TransferError> {
        let fail = |e: &SftpError| TransferError::remote("rename into place", to, reason(e));
        if self.posix_rename {
            let mut data = Vec::new();
            sftp_string(&mut data, from)?;
            sftp_string(&mut data, to)?;
            return match self.raw.extended("posix-rename@openssh.com", data).await {
                Ok(Packet::Status(s)) if s.status_code == StatusCode::Ok => Ok(()),
                Ok(Packet::Status(s)) => Err(fail(&SftpError::Status(s))),
                Ok(_) => Err(TransferError::remote(
                    "rename into place",
                    to,
                    "unexpected answer",
                )),
                Err(e) => Err(fail(&e)),
            };
        }
        match self.raw.rename(from, to).await {
            Ok(_) => Ok(()),
            Err(first) => {
                if self.stat(to).await?.is_none() {
                    return Err(fail(&first));
                }
                self.remove_file(to).await?;
                self.raw
                    .rename(from, to)
                    .await
                    .map(drop)
                    .map_err(|e| fail(&e))
            }
        }
    }
}
