//! Listing a directory tree on the worker or on the target, without
//! following symlinks. Temporary files of transfers in progress
//! (`.<name>.opsc-<random>.tmp`) are left out on both sides.

use std::path::Path;

use super::client::{Kind, Meta, Sftp};
use super::file::mtime_secs;
use super::plan::Tree;
use super::{TransferError, paths};

/// Most entries one sync handles; a bigger tree is refused rather than
/// filling the worker's memory.
pub const MAX_ENTRIES: usize = 200_000;

fn too_many(root: &str) -> TransferError {
    TransferError::Spec(format!(
        "{root} has more than {MAX_ENTRIES} entries; sync a smaller tree"
    ))
}

/// `a/b` from the relative parent `a` and name `b`.
fn rel(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}/{name}")
    }
}

/// The meta of a worker entry.
fn local_meta(m: &std::fs::Metadata) -> Meta {
    use std::os::unix::fs::PermissionsExt as _;
    let kind = if m.is_dir() {
        Kind::Dir
    } else if m.is_file() {
        Kind::File
    } else {
        Kind::Other
    };
    Meta {
        kind,
        size: m.len(),
        mode: m.permissions().mode() & 0o7777,
        mtime: mtime_secs(m.modified()).unwrap_or(0),
    }
}

/// The tree under worker directory `root`; `None` when `root` is missing.
pub async fn local(root: &Path) -> Result<Option<Tree>, TransferError> {
    match tokio::fs::metadata(root).await {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(TransferError::local(
                "sync",
                root,
                std::io::Error::other("not a directory"),
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(TransferError::local("read", root, e)),
    }
    let mut tree = Tree::new();
    let mut pending = vec![String::new()];
    while let Some(dir) = pending.pop() {
        let abs = root.join(&dir);
        let mut entries = tokio::fs::read_dir(&abs)
            .await
            .map_err(|e| TransferError::local("list", &abs, e))?;
        loop {
            let entry = match entries.next_entry().await {
                Ok(Some(e)) => e,
                Ok(None) => break,
                Err(e) => return Err(TransferError::local("list", &abs, e)),
            };
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err(TransferError::local(
                    "sync",
                    entry.path(),
                    std::io::Error::other("the name is not UTF-8"),
                ));
            };
            if paths::is_temp(name) {
                continue;
            }
            let meta = entry
                .metadata()
                .await
                .map_err(|e| TransferError::local("stat", entry.path(), e))?;
            let path = rel(&dir, name);
            let meta = local_meta(&meta);
            if meta.kind == Kind::Dir {
                pending.push(path.clone());
            }
            tree.insert(path, meta);
            if tree.len() > MAX_ENTRIES {
                return Err(too_many(&root.display().to_string()));
            }
        }
    }
    Ok(Some(tree))
}

/// The tree under target directory `root`; `None` when `root` is missing.
pub async fn remote(sftp: &Sftp, root: &str) -> Result<Option<Tree>, TransferError> {
    match sftp.stat(root).await? {
        Some(m) if m.kind == Kind::Dir => {}
        Some(_) => return Err(TransferError::remote("sync", root, "not a directory")),
        None => return Ok(None),
    }
    let mut tree = Tree::new();
    let mut pending = vec![String::new()];
    while let Some(dir) = pending.pop() {
        let abs = if dir.is_empty() {
            root.to_owned()
        } else {
            paths::join(root, &dir)
        };
        for (name, meta) in sftp.list(&abs).await? {
            if paths::is_temp(&name) {
                continue;
            }
            let path = rel(&dir, &name);
            if meta.kind == Kind::Dir {
                pending.push(path.clone());
            }
            tree.insert(path, meta);
            if tree.len() > MAX_ENTRIES {
                return Err(too_many(root));
            }
        }
    }
    Ok(Some(tree))
}
