//! `sftp.sync`: makes the destination tree a copy of the source tree,
//! touching only what differs (rules in [`super::plan`]). Each copied file
//! goes through the verified temporary-name transfer of [`super::file`].
//!
//! Progress goes to stderr, one line per action; stdout gets one JSON
//! object with the counts.

use std::path::{Path, PathBuf};
use std::time::Instant;

use opsc_proto::events::OutputStream;
use serde_json::{Value, json};

use super::client::{self, Kind, Meta, Sftp};
use super::file::{self, Copied, Download, Remote, Upload};
use super::hash;
use super::plan::{self, Plan, Tree, Why};
use super::single::elapsed_ms;
use super::spec::{self, Direction, SyncSpec, required};
use super::{TransferError, paths, tree};
use crate::steps::StepCall;

/// Names shown of conflicting entries.
const SHOWN: usize = 5;

/// Both roots and the connection.
struct Sync<'a> {
    remote: Remote<'a>,
    direction: Direction,
    /// The worker-side root.
    local: PathBuf,
    /// The target-side root.
    target: String,
}

impl Sync<'_> {
    /// The worker path of `rel`: only plain names below the root, and,
    /// when writing there (a download), no symlink on the way (one could
    /// lead the write anywhere); `leaf_may_link` allows the last part to be
    /// one (removing a link removes the link, not what it points to).
    fn local_path(&self, rel: &str, leaf_may_link: bool) -> Result<PathBuf, TransferError> {
        let refuse = |at: &Path, why: &str| {
            TransferError::local("sync", at, std::io::Error::other(why.to_owned()))
        };
        let mut at = self.local.clone();
        let parts: Vec<_> = Path::new(rel).components().collect();
        for (i, part) in parts.iter().enumerate() {
            let std::path::Component::Normal(name) = part else {
                return Err(refuse(&at, "the path leaves the sync root: refused"));
            };
            at.push(name);
            let leaf = i + 1 == parts.len();
            if self.direction == Direction::Download
                && !(leaf && leaf_may_link)
                && std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink())
            {
                return Err(refuse(&at, "is a symlink; a sync never writes through one"));
            }
        }
        Ok(at)
    }

    fn target_path(&self, rel: &str) -> String {
        paths::join(&self.target, rel)
    }

    /// Removes a destination entry.
    async fn remove(&self, rel: &str, kind: Kind) -> Result<(), TransferError> {
        match self.direction {
            Direction::Upload if kind == Kind::Dir => {
                self.remote.sftp.remove_dir(&self.target_path(rel)).await
            }
            Direction::Upload => self.remote.sftp.remove_file(&self.target_path(rel)).await,
            Direction::Download => {
                let p = self.local_path(rel, true)?;
                let r = if kind == Kind::Dir {
                    tokio::fs::remove_dir(&p).await
                } else {
                    tokio::fs::remove_file(&p).await
                };
                r.map_err(|e| TransferError::local("remove", p, e))
            }
        }
    }

    /// Creates a destination directory.
    async fn mkdir(&self, rel: &str, mode: u32) -> Result<(), TransferError> {
        match self.direction {
            Direction::Upload => {
                self.remote
                    .sftp
                    .mkdir(&self.target_path(rel), mode, false)
                    .await
            }
            Direction::Download => {
                let p = self.local_path(rel, false)?;
                let mut b = tokio::fs::DirBuilder::new();
                b.mode(mode);
                b.create(&p)
                    .await
                    .map_err(|e| TransferError::local("create directory", &p, e))?;
                set_local_mode(&p, mode).await
            }
        }
    }

    /// Sets mode and mtime of an up-to-date destination entry.
    async fn touch(&self, t: &plan::Touch) -> Result<(), TransferError> {
        match self.direction {
            Direction::Upload => {
                let p = self.target_path(&t.path);
                self.remote.sftp.set_meta(&p, t.mode, t.mtime).await
            }
            Direction::Download => {
                let p = self.local_path(&t.path, false)?;
                if let Some(mode) = t.mode {
                    set_local_mode(&p, mode).await?;
                }
                if let Some(secs) = t.mtime {
                    let f = std::fs::File::options()
                        .write(true)
                        .open(&p)
                        .map_err(|e| TransferError::local("set the time of", &p, e))?;
                    let at =
                        std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::from(secs));
                    f.set_times(std::fs::FileTimes::new().set_modified(at).set_accessed(at))
                        .map_err(|e| TransferError::local("set the time of", &p, e))?;
                }
                Ok(())
            }
        }
    }

    /// SHA-256 of the source and the destination copy of `rel`.
    async fn hashes(&self, rel: &str) -> Result<(String, String), TransferError> {
        let local = hash::of_local(&self.local_path(rel, false)?).await?;
        let (target, _) = hash::of_remote(
            self.remote.session,
            self.remote.sftp,
            &self.target_path(rel),
            self.remote.cancel,
        )
        .await?;
        Ok(match self.direction {
            Direction::Upload => (local, target),
            Direction::Download => (target, local),
        })
    }

    /// Copies one file with the source's mode and mtime.
    async fn copy(&self, rel: &str, source: &Meta) -> Result<Copied, TransferError> {
        let local = self.local_path(rel, false)?;
        let target = self.target_path(rel);
        match self.direction {
            Direction::Upload => {
                let mut f = tokio::fs::File::open(&local)
                    .await
                    .map_err(|e| TransferError::local("read", &local, e))?;
                let job = Upload {
                    from: &mut f,
                    from_path: &local,
                    to: &target,
                    mode: source.mode,
                    mtime: Some(source.mtime),
                };
                file::upload(self.remote, job).await
            }
            Direction::Download => {
                let job = Download {
                    from: &target,
                    to: &local,
                    mode: source.mode,
                    mtime: Some(source.mtime),
                };
                file::download(self.remote, job).await
            }
        }
    }
}

async fn set_local_mode(path: &Path, mode: u32) -> Result<(), TransferError> {
    use std::os::unix::fs::PermissionsExt as _;
    tokio::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .await
        .map_err(|e| TransferError::local("set the mode of", path, e))
}

/// Both trees; the destination root is created when missing.
async fn trees(s: &Sync<'_>, source: &str) -> Result<(Tree, Tree), TransferError> {
    let missing_source = || match s.direction {
        Direction::Upload => TransferError::local(
            "sync",
            &s.local,
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ),
        Direction::Download => TransferError::remote("sync", source, "no such directory"),
    };
    Ok(match s.direction {
        Direction::Upload => {
            let src = tree::local(&s.local).await?.ok_or_else(missing_source)?;
            let dst = match tree::remote(s.remote.sftp, &s.target).await? {
                Some(t) => t,
                None => {
                    s.remote.sftp.mkdir(&s.target, 0o755, true).await?;
                    Tree::new()
                }
            };
            (src, dst)
        }
        Direction::Download => {
            let src = tree::remote(s.remote.sftp, &s.target)
                .await?
                .ok_or_else(missing_source)?;
            let dst = match tree::local(&s.local).await? {
                Some(t) => t,
                None => {
                    tokio::fs::create_dir_all(&s.local)
                        .await
                        .map_err(|e| TransferError::local("create directory", &s.local, e))?;
                    Tree::new()
                }
            };
            (src, dst)
        }
    })
}

/// Counts for the summary.
#[derive(Debug, Default)]
struct Counts {
    copied: u64,
    skipped: u64,
    deleted: u64,
    bytes: u64,
    dirs_created: u64,
    metadata_updated: u64,
}

/// `sftp.sync`.
pub async fn run(call: &StepCall<'_>) -> Result<Value, TransferError> {
    let started = Instant::now();
    let spec: SyncSpec = spec::parse(call.with)?;
    let source = required("source", &spec.source)?;
    let dest = required("dest", &spec.dest)?;
    let (local, target) = match spec.direction {
        Direction::Upload => (source, dest),
        Direction::Download => (dest, source),
    };
    let session = client::session(call).await?;
    let sftp = Sftp::open(&session, call.connections).await?;
    let s = Sync {
        remote: Remote {
            session: &session,
            sftp: &sftp,
            cancel: call.cancel,
        },
        direction: spec.direction,
        local: PathBuf::from(local),
        target: paths::trim(target).to_owned(),
    };
    let (src, dst) = trees(&s, source).await?;
    let mut plan = plan::plan(&src, &dst, spec.delete, spec.checksum);
    if !plan.conflicts.is_empty() {
        let shown: Vec<&str> = plan
            .conflicts
            .iter()
            .take(SHOWN)
            .map(String::as_str)
            .collect();
        return Err(TransferError::Spec(format!(
            "{} destination entr{} of another kind in the way ({}{}); set delete: true to replace them",
            plan.conflicts.len(),
            if plan.conflicts.len() == 1 {
                "y is"
            } else {
                "ies are"
            },
            shown.join(", "),
            if plan.conflicts.len() > SHOWN {
                ", …"
            } else {
                ""
            },
        )));
    }
    for path in &plan.ignored {
        let text = format!("skip {path}: not a regular file or directory");
        call.output.line(OutputStream::Stderr, &text).await;
    }
    let n = apply(&s, &mut plan, (&src, &dst), call).await?;
    Ok(
        json!({"direction": spec.direction.as_str(), "source": source, "dest": dest,
              "copied": n.copied, "skipped": n.skipped, "deleted": n.deleted, "bytes": n.bytes,
              "dirs_created": n.dirs_created, "metadata_updated": n.metadata_updated,
              "ignored": plan.ignored.len(), "elapsed_ms": elapsed_ms(started)}),
    )
}

/// Runs the plan: removals, directories, content comparisons, copies,
/// metadata.
async fn apply(
    s: &Sync<'_>,
    plan: &mut Plan,
    (src, dst): (&Tree, &Tree),
    call: &StepCall<'_>,
) -> Result<Counts, TransferError> {
    let mut n = Counts::default();
    let say = |text: String| async move { call.output.line(OutputStream::Stderr, &text).await };
    let live = || {
        if call.cancel.is_cancelled() {
            Err(TransferError::Cancelled)
        } else {
            Ok(())
        }
    };
    for (path, kind) in &plan.remove {
        live()?;
        s.remove(path, *kind).await?;
        say(format!("deleted {path}")).await;
        n.deleted += 1;
    }
    for (path, mode) in &plan.mkdir {
        live()?;
        s.mkdir(path, *mode).await?;
        n.dirs_created += 1;
    }
    for path in std::mem::take(&mut plan.compare) {
        live()?;
        let (a, b) = s.hashes(&path).await?;
        if a == b {
            n.skipped += 1;
            if let (Some(sm), Some(dm)) = (src.get(&path), dst.get(&path)) {
                plan.touch.extend(plan::touch_for(&path, sm, dm, true));
            }
        } else {
            plan.copy.push((path, Why::Content));
        }
    }
    for (path, why) in &plan.copy {
        live()?;
        let Some(meta) = src.get(path) else { continue };
        let done = s.copy(path, meta).await?;
        say(format!(
            "copied {path} ({}, {} bytes)",
            why.as_str(),
            done.bytes
        ))
        .await;
        n.copied += 1;
        n.bytes += done.bytes;
    }
    n.skipped += plan.up_to_date.len() as u64;
    for t in &plan.touch {
        live()?;
        s.touch(t).await?;
        n.metadata_updated += 1;
    }
    Ok(n)
}
