//! `winrm.copy`: a file from the worker (or inline text) to the target, in
//! base64 chunks appended to a temporary file, checked by SHA-256, then
//! moved into place and checked again.

use std::time::Duration;

use opsc_proto::events::OutputStream;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncReadExt as _;
use tokio_util::sync::CancellationToken;

use super::spec::{CopySpec, Source};
use super::{Remote, command_failed, describe, scripts};
use crate::steps::{StepCall, StepOutcome, StepType};
use crate::template::Quoting;
use crate::winrm::{Session, Shell, ShellOptions};

/// Removing a temporary file after a failure must not hold up the step.
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(10);

/// The `winrm.copy` step.
#[derive(Debug)]
pub struct WinrmCopy;

/// Why a copy stopped.
#[derive(Debug)]
enum Stop {
    Interrupted,
    Failed(String),
}

/// The bytes to send, a chunk at a time.
enum Chunks {
    File(tokio::fs::File),
    Inline(Vec<u8>, usize),
}

impl Chunks {
    async fn open(source: &Source) -> Result<Self, String> {
        match source {
            Source::Inline(text) => Ok(Self::Inline(text.clone().into_bytes(), 0)),
            Source::File(path) => {
                let unreadable =
                    |e: std::io::Error| format!("with.source: cannot read {path}: {e}");
                let meta = tokio::fs::metadata(path).await.map_err(unreadable)?;
                if !meta.is_file() {
                    return Err(format!("with.source: {path} is not a file"));
                }
                Ok(Self::File(
                    tokio::fs::File::open(path).await.map_err(unreadable)?,
                ))
            }
        }
    }

    /// Up to [`scripts::CHUNK`] bytes; fewer only at the end.
    async fn next(&mut self) -> std::io::Result<Vec<u8>> {
        match self {
            Self::Inline(bytes, at) => {
                let end = (*at + scripts::CHUNK).min(bytes.len());
                let chunk = bytes[*at..end].to_vec();
                *at = end;
                Ok(chunk)
            }
            Self::File(file) => {
                let mut chunk = vec![0_u8; scripts::CHUNK];
                let mut filled = 0;
                while filled < chunk.len() {
                    match file.read(&mut chunk[filled..]).await? {
                        0 => break,
                        n => filled += n,
                    }
                }
                chunk.truncate(filled);
                Ok(chunk)
            }
        }
    }
}

#[async_trait::async_trait]
impl StepType for WinrmCopy {
    fn quoting(&self, _key: &str) -> Quoting {
        // Every value is data: the step quotes what it sends itself.
        Quoting::None
    }

    fn needs_target(&self) -> bool {
        true
    }

    fn idempotent(&self) -> bool {
        true
    }

    async fn run(&self, call: StepCall<'_>) -> StepOutcome {
        let spec = match CopySpec::parse(call.with) {
            Ok(s) => s,
            Err(e) => return StepOutcome::failed(e, None),
        };
        let remote = match Remote::of(&call, "winrm.copy") {
            Ok(r) => r,
            Err(e) => return StepOutcome::failed(e, None),
        };
        let mut chunks = match Chunks::open(&spec.source).await {
            Ok(c) => c,
            Err(e) => return StepOutcome::failed(e, None),
        };
        let session = match remote.open(&call, &ShellOptions::default()).await {
            Ok(Some(s)) => s,
            Ok(None) => return StepOutcome::failed("interrupted", None),
            Err(e) => return StepOutcome::failed(e, None),
        };
        let id = uuid::Uuid::new_v4().simple().to_string();
        let copy = Copy {
            session: &session,
            cancel: call.cancel,
            temp: format!("{}.opsc-{}.part", spec.dest, &id[..12]),
            spec: &spec,
        };
        let mut wrote = false;
        let result = copy.run(&mut chunks, &mut wrote).await;
        if result.is_err() && wrote {
            copy.remove_temp().await;
        }
        session.close().await;
        match result {
            Ok(summary) => {
                call.output.line(OutputStream::Stdout, &summary).await;
                StepOutcome::ok(None)
            }
            Err(Stop::Interrupted) => StepOutcome::failed("interrupted", None),
            Err(Stop::Failed(e)) => StepOutcome::failed(e, None),
        }
    }
}

/// One copy in progress.
struct Copy<'a> {
    session: &'a Session,
    cancel: &'a CancellationToken,
    spec: &'a CopySpec,
    /// The temporary file next to `dest`.
    temp: String,
}

impl Copy<'_> {
    /// Sends everything; the summary line. `wrote` turns true once the
    /// temporary file may exist.
    async fn run(&self, chunks: &mut Chunks, wrote: &mut bool) -> Result<String, Stop> {
        let spec = self.spec;
        let answer = self
            .script(
                "inspecting the destination",
                &scripts::inspect(&spec.dest, &spec.parent),
            )
            .await?;
        let found = scripts::parse_found(&answer).ok_or_else(|| {
            Stop::Failed(format!(
                "inspecting the destination gave an unexpected answer: {}",
                crate::winrm::excerpt(&answer)
            ))
        })?;
        if found.dir {
            return Err(Stop::Failed(format!("{} is a directory", spec.dest)));
        }
        if found.file && !spec.overwrite {
            return Err(Stop::Failed(format!(
                "{} exists and with.overwrite is false",
                spec.dest
            )));
        }
        if !found.parent && !spec.create_dirs {
            return Err(Stop::Failed(format!(
                "the directory {} does not exist and with.create_dirs is false",
                spec.parent
            )));
        }
        let mkdir = (!found.parent).then_some(spec.parent.as_str());
        let mut hasher = Sha256::new();
        let (mut total, mut index) = (0_u64, 0_usize);
        loop {
            let bytes = chunks
                .next()
                .await
                .map_err(|e| Stop::Failed(format!("with.source: reading failed: {e}")))?;
            if index > 0 && bytes.is_empty() {
                break;
            }
            hasher.update(&bytes);
            total += bytes.len() as u64;
            *wrote = true;
            let script = scripts::chunk(&self.temp, index, &bytes, mkdir.filter(|_| index == 0));
            self.script(&format!("writing chunk {}", index + 1), &script)
                .await?;
            index += 1;
            if bytes.len() < scripts::CHUNK {
                break;
            }
        }
        let local: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        let sent = self
            .script("hashing the sent file", &scripts::hash(&self.temp))
            .await?;
        if sent.trim() != local {
            return Err(Stop::Failed(format!(
                "the sent file's SHA-256 is {}, not {local}: the transfer was corrupted",
                sent.trim()
            )));
        }
        let placed = self
            .script(
                "moving the file into place",
                &scripts::put_in_place(&self.temp, &spec.dest, spec.overwrite),
            )
            .await?;
        if placed.trim() != local {
            return Err(Stop::Failed(format!(
                "{} has SHA-256 {} after the move, not {local}",
                spec.dest,
                placed.trim()
            )));
        }
        Ok(format!(
            "copied {total} bytes to {} in {index} chunk(s), sha256 {local}",
            spec.dest
        ))
    }

    /// Runs a helper script; its stdout, if it exited 0.
    async fn script(&self, what: &str, text: &str) -> Result<String, Stop> {
        match self
            .session
            .collect(Shell::PowerShell, text, self.cancel)
            .await
        {
            Err(e) => Err(Stop::Failed(format!("{what}: {}", describe(e)))),
            Ok(None) => Err(Stop::Interrupted),
            Ok(Some(out)) if out.exit_code != 0 => Err(Stop::Failed(command_failed(
                what,
                out.exit_code,
                &out.stderr,
            ))),
            Ok(Some(out)) => Ok(out.stdout),
        }
    }

    /// Removes the temporary file (best effort, even after a cancel).
    async fn remove_temp(&self) {
        let never = CancellationToken::new();
        let script = scripts::remove(&self.temp);
        let removing = self.session.collect(Shell::PowerShell, &script, &never);
        if tokio::time::timeout(CLEANUP_TIMEOUT, removing)
            .await
            .is_err()
        {
            tracing::debug!(temp = %self.temp, "Temporary file not removed in time.");
        }
    }
}
