//! Worker-side paths confined to the configured roots: a relative path is
//! taken from the work root; `..` is refused outright; the path must lie
//! under a root; and no part of it below the root may be a symlink (one
//! could lead anywhere after the check). Parts that do not exist yet are
//! made by the step as plain directories and files.

use std::path::{Component, Path, PathBuf};

/// What the step does with the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads it: it must exist.
    Read,
    /// Writes it (or below it): it may not exist yet.
    Write,
}

/// `raw` resolved inside `roots` (canonical directories), or why not.
pub fn confine(
    roots: &[PathBuf],
    work_root: &Path,
    raw: &str,
    access: Access,
) -> Result<PathBuf, String> {
    if raw.trim().is_empty() {
        return Err("a worker-side path must not be empty".to_owned());
    }
    if raw.contains('\0') {
        return Err("a worker-side path must not contain NUL".to_owned());
    }
    let given = Path::new(raw);
    let joined = if given.is_absolute() {
        given.to_path_buf()
    } else {
        work_root.join(given)
    };
    let mut path = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::ParentDir => {
                return Err(format!("worker-side path {raw:?}: `..` is not allowed"));
            }
            Component::CurDir => {}
            other => path.push(other),
        }
    }
    let Some(root) = roots.iter().find(|r| path.starts_with(r)) else {
        let list: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
        return Err(format!(
            "worker-side path {raw:?} is outside the worker's file roots ({}; worker.work_root, worker.file_roots)",
            list.join(", ")
        ));
    };
    let mut at = root.clone();
    let below = path.strip_prefix(root).unwrap_or(Path::new(""));
    let mut exists = true;
    for part in below.components() {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!(
                    "worker-side path {raw:?}: {} is a symlink, which is refused",
                    at.display()
                ));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                exists = false;
                break;
            }
            Err(e) => return Err(format!("worker-side path {raw:?}: {e}")),
        }
    }
    if access == Access::Read && !exists {
        return Err(format!("worker-side path {raw:?} does not exist"));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_a_root_without_dot_dot_or_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let other = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.join("in")).unwrap();
        std::fs::write(root.join("in/file"), "x").unwrap();
        std::os::unix::fs::symlink(other.path(), root.join("out")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("in/passwd")).unwrap();
        let roots = [root.clone()];
        let c = |raw: &str, a| confine(&roots, &root, raw, a);

        assert_eq!(c("in/file", Access::Read).unwrap(), root.join("in/file"));
        let abs = root.join("in/./file").display().to_string();
        assert_eq!(c(&abs, Access::Read).unwrap(), root.join("in/file"));
        assert_eq!(
            c("new/dir/file", Access::Write).unwrap(),
            root.join("new/dir/file")
        );

        for (raw, access, why) in [
            ("/etc/passwd", Access::Read, "outside"),
            ("/etc/opsconductor/master.key", Access::Read, "outside"),
            ("../x", Access::Write, "`..`"),
            ("in/../../x", Access::Write, "`..`"),
            ("out/file", Access::Write, "symlink"),
            ("in/passwd", Access::Read, "symlink"),
            ("in/missing", Access::Read, "does not exist"),
            ("", Access::Read, "empty"),
            ("a\0b", Access::Write, "NUL"),
        ] {
            let e = c(raw, access).unwrap_err();
            assert!(e.contains(why), "{raw:?}: {e}");
        }
        assert!(!other.path().join("file").exists());
    }
}
