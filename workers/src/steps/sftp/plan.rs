//! What `sftp.sync` does, decided from the two trees alone (no I/O), so the
//! rules can be tested on their own.
//!
//! A file is copied when it is new, its size differs, or its mtime differs
//! (with `checksum`, same-size files are compared by content instead of
//! mtime). Up-to-date entries whose mode differs get their mode set.
//! With `delete`, destination entries the source lacks are removed, deepest
//! first; an entry of another kind in the way (a directory where the source
//! has a file, or the reverse) is removed too, and without `delete` it is a
//! conflict that fails the step before anything changes. Source entries
//! that are neither files nor directories (symlinks, devices) are skipped.

use std::collections::BTreeMap;

use super::client::{Kind, Meta};

/// Entries under a root by relative `/`-separated path (the root itself is
/// not an entry).
pub type Tree = BTreeMap<String, Meta>;

/// Why a file is copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// Not at the destination.
    New,
    /// Sizes differ.
    Size,
    /// Modification times differ.
    Mtime,
    /// Contents differ (checksum mode).
    Content,
    /// Something of another kind was in the way.
    Kind,
}

impl Why {
    /// For progress lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Size => "size differs",
            Self::Mtime => "mtime differs",
            Self::Content => "content differs",
            Self::Kind => "replaces another kind",
        }
    }
}

/// An up-to-date entry whose metadata needs setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touch {
    /// Relative path.
    pub path: String,
    /// Mode to set.
    pub mode: Option<u32>,
    /// Modification time to set.
    pub mtime: Option<u32>,
}

/// The actions of one sync, in the order they run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Destination entries to remove, deepest first.
    pub remove: Vec<(String, Kind)>,
    /// Directories to create, parents first, with their mode.
    pub mkdir: Vec<(String, u32)>,
    /// Same-size files whose contents decide (checksum mode).
    pub compare: Vec<String>,
    /// Files to copy.
    pub copy: Vec<(String, Why)>,
    /// Metadata to set on up-to-date entries.
    pub touch: Vec<Touch>,
    /// Files already up to date.
    pub up_to_date: Vec<String>,
    /// Source entries that are neither files nor directories.
    pub ignored: Vec<String>,
    /// Kind clashes that only `delete` may resolve.
    pub conflicts: Vec<String>,
}

fn depth(path: &str) -> usize {
    path.matches('/').count()
}

impl Plan {
    /// Something of another kind is at `path`: removed with `delete`, a
    /// conflict without. Whether it goes.
    fn in_the_way(&mut self, path: &str, kind: Kind, delete: bool) -> bool {
        if delete {
            self.remove.push((path.to_owned(), kind));
        } else {
            self.conflicts.push(path.to_owned());
        }
        delete
    }
}

/// What `touch` an up-to-date entry needs, if any.
pub fn touch_for(path: &str, source: &Meta, dest: &Meta, fix_mtime: bool) -> Option<Touch> {
    let mode = (source.mode != dest.mode).then_some(source.mode);
    let mtime = (fix_mtime && source.mtime != dest.mtime).then_some(source.mtime);
    (mode.is_some() || mtime.is_some()).then(|| Touch {
        path: path.to_owned(),
        mode,
        mtime,
    })
}

/// The plan that makes `dest` a copy of `source`.
pub fn plan(source: &Tree, dest: &Tree, delete: bool, checksum: bool) -> Plan {
    let mut p = Plan::default();
    for (path, s) in source {
        let d = dest.get(path);
        match (s.kind, d) {
            (Kind::Other, _) => p.ignored.push(path.clone()),
            (Kind::Dir, None) => p.mkdir.push((path.clone(), s.mode)),
            (Kind::Dir, Some(d)) if d.kind == Kind::Dir => {
                p.touch.extend(touch_for(path, s, d, false));
            }
            (Kind::Dir, Some(d)) => {
                if p.in_the_way(path, d.kind, delete) {
                    p.mkdir.push((path.clone(), s.mode));
                }
            }
            (Kind::File, None) => p.copy.push((path.clone(), Why::New)),
            (Kind::File, Some(d)) => match d.kind {
                Kind::File if d.size != s.size => p.copy.push((path.clone(), Why::Size)),
                Kind::File if checksum => p.compare.push(path.clone()),
                Kind::File if d.mtime != s.mtime => p.copy.push((path.clone(), Why::Mtime)),
                Kind::File => {
                    p.up_to_date.push(path.clone());
                    p.touch.extend(touch_for(path, s, d, false));
                }
                // A rename replaces a symlink (not what it points to).
                Kind::Other => p.copy.push((path.clone(), Why::Kind)),
                Kind::Dir => {
                    if p.in_the_way(path, d.kind, delete) {
                        p.copy.push((path.clone(), Why::Kind));
                    }
                }
            },
        }
    }
    if delete {
        for (path, d) in dest {
            if !source.contains_key(path) {
                p.remove.push((path.clone(), d.kind));
            }
        }
    }
    p.remove
        .sort_by(|a, b| depth(&b.0).cmp(&depth(&a.0)).then_with(|| a.0.cmp(&b.0)));
    p
}
