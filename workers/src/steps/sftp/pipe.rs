//! Pipelined SFTP reads and writes: up to [`WINDOW`] requests of [`CHUNK`]
//! bytes in flight, so a transfer is not one round trip per chunk.

use futures::StreamExt as _;
use futures::stream::{FuturesOrdered, FuturesUnordered};
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::StatusCode;
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

use super::TransferError;
use super::client::{Sftp, reason};

/// Bytes per request (every SFTP server accepts 32 KiB).
pub const CHUNK: usize = 32 * 1024;
/// Requests in flight.
pub const WINDOW: usize = 16;

/// Fills `buf` from `from` as far as it goes; the number of bytes read.
async fn fill(from: &mut (dyn AsyncRead + Unpin + Send), buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match from.read(&mut buf[n..]).await? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Where a local stream comes from or goes to, for error messages.
#[derive(Debug, Clone, Copy)]
pub struct Ends<'a> {
    /// The worker-side path (or a description of inline content).
    pub local: &'a std::path::Path,
    /// The target-side path.
    pub remote: &'a str,
}

/// Writes everything `from` yields into the open remote `handle`, hashing it
/// on the way. The number of bytes written.
pub async fn upload(
    sftp: &Sftp,
    handle: &str,
    from: &mut (dyn AsyncRead + Unpin + Send),
    hasher: &mut Sha256,
    ends: Ends<'_>,
) -> Result<u64, TransferError> {
    let mut in_flight = FuturesUnordered::new();
    let mut offset = 0_u64;
    let mut buf = vec![0_u8; CHUNK];
    let write_failed = |e: SftpError| TransferError::remote("write", ends.remote, reason(&e));
    loop {
        let n = fill(from, &mut buf)
            .await
            .map_err(|e| TransferError::local("read", ends.local, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        in_flight.push(sftp.raw.write(handle, offset, buf[..n].to_vec()));
        offset += n as u64;
        if in_flight.len() >= WINDOW
            && let Some(done) = in_flight.next().await
        {
            done.map_err(write_failed)?;
        }
    }
    while let Some(done) = in_flight.next().await {
        done.map_err(write_failed)?;
    }
    Ok(offset)
}

/// Reads the open remote `handle` to its end into `to`, hashing it on the
/// way. The number of bytes read.
pub async fn download(
    sftp: &Sftp,
    handle: &str,
    to: &mut (dyn AsyncWrite + Unpin + Send),
    hasher: &mut Sha256,
    ends: Ends<'_>,
) -> Result<u64, TransferError> {
    let read_failed = |e: SftpError| TransferError::remote("read", ends.remote, reason(&e));
    let chunk = CHUNK as u32;
    let mut in_flight = FuturesOrdered::new();
    // Next offset to request, and where the data received so far ends.
    let (mut next, mut at) = (0_u64, 0_u64);
    loop {
        while in_flight.len() < WINDOW {
            let offset = next;
            in_flight
                .push_back(async move { (offset, sftp.raw.read(handle, offset, chunk).await) });
            next += u64::from(chunk);
        }
        let Some((offset, result)) = in_flight.next().await else {
            break;
        };
        let data = match result {
            Ok(d) if d.data.is_empty() => break,
            Ok(d) => d.data,
            Err(SftpError::Status(s)) if s.status_code == StatusCode::Eof => break,
            Err(e) => return Err(read_failed(e)),
        };
        debug_assert_eq!(offset, at);
        to.write_all(&data)
            .await
            .map_err(|e| TransferError::local("write", ends.local, e))?;
        hasher.update(&data);
        at = offset + data.len() as u64;
        if data.len() < CHUNK {
            // A short read: what is in flight starts past the gap; ask again
            // from where this one ended.
            in_flight = FuturesOrdered::new();
            next = at;
        }
    }
    to.flush()
        .await
        .map_err(|e| TransferError::local("write", ends.local, e))?;
    Ok(at)
}
