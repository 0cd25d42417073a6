//! Target-side path text (always `/`-separated) and temporary names.

/// `path` without trailing slashes (`/` stays `/`).
pub fn trim(path: &str) -> &str {
    let t = path.trim_end_matches('/');
    if t.is_empty() && path.starts_with('/') {
        "/"
    } else {
        t
    }
}

/// The directory part of `path`: `"."` for a bare name.
pub fn parent(path: &str) -> &str {
    let path = trim(path);
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => ".",
    }
}

/// The last component of `path`.
pub fn file_name(path: &str) -> &str {
    let path = trim(path);
    path.rsplit('/').next().unwrap_or(path)
}

/// `dir/name`.
pub fn join(dir: &str, name: &str) -> String {
    match dir {
        "" | "." => name.to_owned(),
        d if d.ends_with('/') => format!("{d}{name}"),
        d => format!("{d}/{name}"),
    }
}

/// A name next to `path` for writing before the rename into place: hidden,
/// unique, and recognisable as ours (`.<name>.opsc-<random>.tmp`).
pub fn temp_beside(path: &str) -> String {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    join(
        parent(path),
        &format!(".{}.opsc-{}.tmp", file_name(path), &tag[..12]),
    )
}

/// Whether `name` is one of our temporary names.
pub fn is_temp(name: &str) -> bool {
    name.starts_with('.') && name.contains(".opsc-") && name.ends_with(".tmp")
}

/// Refuses a name a target sent in a directory listing that could lead
/// out of the directory it came from: empty, `.`, `..`, or holding a
/// separator (`/` or `\\`) or NUL. A hostile target may send such names;
/// they are never joined to a local path.
pub fn safe_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
        return Err(format!(
            "the target listed an unsafe file name {name:?} (empty, `.`, `..`, a separator or NUL): refused"
        ));
    }
    Ok(())
}

/// The ancestors of `path` that need to exist, outermost first
/// (`a/b/c` → `a`, `a/b`; `/x/y` → `/x`).
pub fn ancestors(path: &str) -> Vec<String> {
    let path = trim(path);
    let mut out = Vec::new();
    let mut at = parent(path);
    while at != "/" && at != "." {
        out.push(at.to_owned());
        at = parent(at);
    }
    out.reverse();
    out
}
