//! `sftp.upload` and `sftp.download`: one file each way.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Value, json};

use super::client::{self, Kind, Sftp};
use super::file::{self, Download, Remote, Upload};
use super::spec::{self, GetSpec, PutSource, PutSpec, required};
use super::{TransferError, paths};
use crate::steps::StepCall;

/// Default mode of inline content: it may hold secrets.
pub const CONTENT_MODE: u32 = 0o600;

/// Where a copy lands when `dest` names a directory (a trailing `/` or an
/// existing directory): the source's file name inside it.
pub(super) fn remote_dest(
    dest: &str,
    is_dir: bool,
    source_name: Option<&str>,
) -> Result<String, TransferError> {
    if dest.ends_with('/') || is_dir {
        let name = source_name.ok_or_else(|| {
            TransferError::Spec(format!(
                "with.dest {dest} is a directory; inline content needs a file name"
            ))
        })?;
        return Ok(paths::join(paths::trim(dest), name));
    }
    Ok(dest.to_owned())
}

/// A summary for a file left alone because `overwrite` is false.
fn kept(path: &str, started: Instant) -> Value {
    json!({"path": path, "changed": false, "reason": "exists and overwrite is false",
           "elapsed_ms": elapsed_ms(started)})
}

/// Milliseconds since `started`.
pub fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The source of an upload, opened.
pub struct Opened {
    /// Its bytes.
    pub reader: Box<dyn tokio::io::AsyncRead + Unpin + Send>,
    /// Its mode ([`CONTENT_MODE`] for inline content).
    pub mode: u32,
    /// Its modification time (none for inline content).
    pub mtime: Option<u32>,
    /// Its file name (none for inline content).
    pub name: Option<String>,
}

/// Opens a worker file (which must be a regular file) or inline content.
pub async fn open_source(source: PutSource<'_>) -> Result<Opened, TransferError> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = match source {
        PutSource::File(path) => path,
        PutSource::Content(text) => {
            return Ok(Opened {
                reader: Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
                mode: CONTENT_MODE,
                mtime: None,
                name: None,
            });
        }
    };
    let f = tokio::fs::File::open(path)
        .await
        .map_err(|e| TransferError::local("read", path, e))?;
    let meta = f
        .metadata()
        .await
        .map_err(|e| TransferError::local("read", path, e))?;
    if !meta.is_file() {
        return Err(TransferError::local(
            "copy",
            path,
            std::io::Error::other("not a regular file"),
        ));
    }
    Ok(Opened {
        reader: Box::new(f),
        mode: meta.permissions().mode() & 0o7777,
        mtime: file::mtime_secs(meta.modified()),
        name: Path::new(path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned()),
    })
}

/// `sftp.upload`.
pub async fn upload(call: &StepCall<'_>) -> Result<Value, TransferError> {
    let started = Instant::now();
    let spec: PutSpec = spec::parse(call.with)?;
    if spec.sudo {
        return Err(TransferError::Spec(
            "with.sudo: SFTP writes as the login user; use ssh.copy to write as root".to_owned(),
        ));
    }
    let source = spec.put_source()?;
    let dest = required("dest", &spec.dest)?;
    // Open the source first: a missing worker file fails before any connection.
    let Opened {
        mut reader,
        mode: source_mode,
        mtime: source_mtime,
        name: source_name,
    } = open_source(source).await?;
    let session = client::session(call).await?;
    let sftp = Sftp::open(&session, call.connections).await?;
    let existing = sftp.stat(paths::trim(dest)).await?;
    let to = remote_dest(
        dest,
        existing.is_some_and(|m| m.kind == Kind::Dir),
        source_name.as_deref(),
    )?;
    let existing = if to == dest {
        existing
    } else {
        sftp.stat(&to).await?
    };
    match existing {
        Some(m) if m.kind == Kind::Dir => {
            return Err(TransferError::remote("replace", &to, "it is a directory"));
        }
        Some(_) if !spec.overwrite => return Ok(kept(&to, started)),
        _ => {}
    }
    let parent = paths::parent(&to);
    if parent != "." && parent != "/" {
        match sftp.stat(parent).await? {
            Some(m) if m.kind == Kind::Dir => {}
            Some(_) => {
                return Err(TransferError::remote(
                    "write into",
                    parent,
                    "not a directory",
                ));
            }
            None if spec.create_dirs => sftp.mkdir(parent, 0o755, true).await?,
            None => {
                return Err(TransferError::remote(
                    "write into",
                    parent,
                    "no such directory (create_dirs is false)",
                ));
            }
        }
    }
    let source_path = PathBuf::from(spec.source.as_deref().unwrap_or("(content)"));
    let remote = Remote {
        session: &session,
        sftp: &sftp,
        cancel: call.cancel,
    };
    let done = file::upload(
        remote,
        Upload {
            from: &mut reader,
            from_path: &source_path,
            to: &to,
            mode: spec.mode.unwrap_or(source_mode),
            mtime: source_mtime.filter(|_| spec.preserve_mtime),
        },
    )
    .await?;
    Ok(
        json!({"path": to, "changed": true, "bytes": done.bytes, "sha256": done.sha256,
              "verified_by": done.via.as_str(), "elapsed_ms": elapsed_ms(started)}),
    )
}

/// `sftp.download`.
pub async fn download(call: &StepCall<'_>) -> Result<Value, TransferError> {
    let started = Instant::now();
    let spec: GetSpec = spec::parse(call.with)?;
    let source = required("source", &spec.source)?;
    let dest = required("dest", &spec.dest)?;
    let session = client::session(call).await?;
    let sftp = Sftp::open(&session, call.connections).await?;
    let meta = sftp
        .stat(source)
        .await?
        .ok_or_else(|| TransferError::remote("download", source, "no such file"))?;
    if meta.kind != Kind::File {
        return Err(TransferError::remote(
            "download",
            source,
            "not a regular file",
        ));
    }
    let dest_is_dir = tokio::fs::metadata(dest).await.is_ok_and(|m| m.is_dir());
    let to = PathBuf::from(remote_dest(
        dest,
        dest_is_dir,
        Some(paths::file_name(source)),
    )?);
    match tokio::fs::symlink_metadata(&to).await {
        Ok(m) if m.is_dir() => {
            return Err(TransferError::local(
                "replace",
                &to,
                std::io::Error::other("it is a directory"),
            ));
        }
        Ok(_) if !spec.overwrite => return Ok(kept(&to.display().to_string(), started)),
        _ => {}
    }
    if let Some(parent) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
        if spec.create_dirs {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| TransferError::local("create directory", parent, e))?;
        } else if !tokio::fs::metadata(parent).await.is_ok_and(|m| m.is_dir()) {
            return Err(TransferError::local(
                "write into",
                parent,
                std::io::Error::other("no such directory (create_dirs is false)"),
            ));
        }
    }
    let remote = Remote {
        session: &session,
        sftp: &sftp,
        cancel: call.cancel,
    };
    let done = file::download(
        remote,
        Download {
            from: source,
            to: &to,
            mode: spec.mode.unwrap_or(meta.mode),
            mtime: spec.preserve_mtime.then_some(meta.mtime),
        },
    )
    .await?;
    Ok(
        json!({"path": to, "changed": true, "bytes": done.bytes, "sha256": done.sha256,
              "verified_by": done.via.as_str(), "elapsed_ms": elapsed_ms(started)}),
    )
}
