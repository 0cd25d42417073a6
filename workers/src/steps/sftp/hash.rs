//! SHA-256 of worker files, of bytes, and of target files: `sha256sum` over
//! an exec channel (SFTP v3 has no hash extension), or the file read back
//! through SFTP where `sha256sum` cannot run.

use std::path::Path;
use std::sync::Arc;

use sha2::{Digest as _, Sha256};
use tokio::io::AsyncReadExt as _;
use tokio_util::sync::CancellationToken;

use super::TransferError;
use super::client::Sftp;
use super::pipe::{self, Ends};
use crate::ssh::{Ended, RemoteCommand, Session};
use crate::template::shell_quote;

/// Lower-case hex.
pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a worker file, hex.
pub async fn of_local(path: &Path) -> Result<String, TransferError> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| TransferError::local("read", path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0_u8; 64 * 1024];
    loop {
        match file.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) => return Err(TransferError::local("read", path, e)),
        }
    }
    Ok(hex(&hasher.finalize()))
}

/// The hash in the first line of `sha256sum` output, if it is one. (GNU
/// prefixes the line with `\` when the name has odd characters.)
pub fn parse_sha256sum(stdout: &str) -> Option<String> {
    let line = stdout.lines().next()?.trim_start_matches('\\');
    let hash = line.get(..64)?;
    let ends = line[64..].is_empty() || line[64..].starts_with(' ');
    (ends && hash.bytes().all(|b| b.is_ascii_hexdigit())).then(|| hash.to_ascii_lowercase())
}

/// How a target file's hash was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `sha256sum` on the target.
    Sha256sum,
    /// Read back through SFTP and hashed on the worker.
    SftpRead,
}

impl Via {
    /// For the summary.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha256sum => "sha256sum",
            Self::SftpRead => "sftp-read",
        }
    }
}

/// `sha256sum` of a target file, `None` when it cannot run there (not
/// installed, no shell access, an SFTP-only account).
pub async fn by_sha256sum(
    session: &Arc<Session>,
    path: &str,
    sudo: bool,
    cancel: &CancellationToken,
) -> Result<Option<String>, TransferError> {
    let line = format!("sha256sum -- {}", shell_quote(path));
    let command = RemoteCommand { line: &line, sudo };
    match session
        .exec_input(command, &mut tokio::io::empty(), 4096, cancel)
        .await
    {
        Ok(Ended::Finished(out)) if out.exit_code == Some(0) => Ok(parse_sha256sum(&out.stdout)),
        Ok(Ended::Finished(_)) | Err(_) => Ok(None),
        Ok(Ended::Stopped) => Err(TransferError::Cancelled),
        Ok(Ended::NotStopped(why)) => Err(TransferError::NotStopped(why)),
    }
}

/// SHA-256 of a target file: `sha256sum` when it runs there, else the file
/// read back through SFTP.
pub async fn of_remote(
    session: &Arc<Session>,
    sftp: &Sftp,
    path: &str,
    cancel: &CancellationToken,
) -> Result<(String, Via), TransferError> {
    if let Some(h) = by_sha256sum(session, path, false, cancel).await? {
        return Ok((h, Via::Sha256sum));
    }
    let handle = sftp.open_read(path).await?;
    let mut hasher = Sha256::new();
    let ends = Ends {
        local: Path::new("(hash)"),
        remote: path,
    };
    let read = pipe::download(sftp, &handle, &mut tokio::io::sink(), &mut hasher, ends).await;
    let closed = sftp.close(&handle, path).await;
    read?;
    closed?;
    Ok((hex(&hasher.finalize()), Via::SftpRead))
}

/// A reader that hashes what passes through it and remembers a read error
/// (which a channel would otherwise report only as its own failure).
#[derive(Debug)]
pub struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    /// Bytes read so far.
    pub bytes: u64,
    /// The first read error, as text.
    pub failed: Option<String>,
}

impl<R> Hashing<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
            failed: None,
        }
    }

    /// The hash of everything read, hex.
    pub fn finish(self) -> String {
        hex(&self.hasher.finalize())
    }
}

impl<R: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Hashing<R> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = std::pin::Pin::new(&mut this.inner).poll_read(cx, buf);
        match &polled {
            std::task::Poll::Ready(Ok(())) => {
                let new = &buf.filled()[before..];
                this.hasher.update(new);
                this.bytes += new.len() as u64;
            }
            std::task::Poll::Ready(Err(e)) => {
                this.failed.get_or_insert_with(|| e.to_string());
            }
            std::task::Poll::Pending => {}
        }
        polled
    }
}
