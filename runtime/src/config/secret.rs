//! The one reader for secrets that are set either directly or as a file
//! (`security.master_key` or `security.master_key_file`, and so on): a
//! mounted Kubernetes Secret is a file, an environment variable a value.

use std::path::Path;

use secrecy::SecretString;

use super::ConfigError;

/// The secret of a `(value setting, value)` / `(file setting, path)` pair,
/// and the setting it came from; `None` when neither is set. Both set is an
/// error; a file's trailing line end is dropped.
pub(crate) fn value_or_file(
    value: (&'static str, Option<&SecretString>),
    file: (&'static str, Option<&Path>),
) -> Result<Option<(SecretString, &'static str)>, ConfigError> {
    match (value.1, file.1) {
        (Some(_), Some(_)) => Err(ConfigError::new(
            value.0,
            format!("set either {} or {}, not both", value.0, file.0),
        )),
        (Some(v), None) => Ok(Some((v.clone(), value.0))),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new(file.0, format!("cannot read {}: {e}", path.display()))
            })?;
            let text = text.trim_end_matches(['\r', '\n']).to_owned();
            Ok(Some((SecretString::from(text), file.0)))
        }
        (None, None) => Ok(None),
    }
}

/// [`value_or_file`] for a key: its file must not be readable by other
/// users (no permission bits for others; group bits only for a group this
/// process is in, as Kubernetes' `fsGroup` makes them), else it is refused
/// with the mode and the command that fixes it.
pub(crate) fn key_value_or_file(
    value: (&'static str, Option<&SecretString>),
    file: (&'static str, Option<&Path>),
) -> Result<Option<(SecretString, &'static str)>, ConfigError> {
    if value.1.is_none()
        && let Some(path) = file.1
    {
        private(file.0, path)?;
    }
    value_or_file(value, file)
}

fn private(setting: &'static str, path: &Path) -> Result<(), ConfigError> {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(meta) = std::fs::metadata(path) else {
        // Reading it says what is wrong.
        return Ok(());
    };
    let mode = meta.mode() & 0o777;
    let loose = mode & 0o007 != 0 || (mode & 0o070 != 0 && !own_groups().contains(&meta.gid()));
    if loose {
        return Err(ConfigError::new(
            setting,
            format!(
                "{} is readable by other users (mode {mode:04o}): make it private, e.g. chmod 600 {}",
                path.display(),
                path.display()
            ),
        ));
    }
    Ok(())
}

/// This process's real, effective and supplementary group ids.
fn own_groups() -> Vec<u32> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .filter_map(|l| l.strip_prefix("Gid:").or_else(|| l.strip_prefix("Groups:")))
        .flat_map(str::split_whitespace)
        .filter_map(|g| g.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    #[test]
    fn one_of_value_or_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, "from-file\n").unwrap();
        let v = SecretString::from("direct");
        let (text, key) = value_or_file(("a", None), ("a_file", Some(&path)))
            .unwrap()
            .unwrap();
        assert_eq!((text.expose_secret(), key), ("from-file", "a_file"));
        let (text, key) = value_or_file(("a", Some(&v)), ("a_file", None))
            .unwrap()
            .unwrap();
        assert_eq!((text.expose_secret(), key), ("direct", "a"));
        assert!(
            value_or_file(("a", None), ("a_file", None))
                .unwrap()
                .is_none()
        );
        let both = value_or_file(("a", Some(&v)), ("a_file", Some(&path))).unwrap_err();
        assert!(both.to_string().contains("not both"), "{both}");
        let missing =
            value_or_file(("a", None), ("a_file", Some(&dir.path().join("nope")))).unwrap_err();
        assert!(missing.to_string().contains("cannot read"), "{missing}");
    }

    #[test]
    fn a_key_file_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, "key\n").unwrap();
        let set =
            |mode| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        set(0o644);
        let e = key_value_or_file(("k", None), ("k_file", Some(&path))).unwrap_err();
        assert!(
            e.to_string().contains("mode 0644") && e.to_string().contains("chmod 600"),
            "{e}"
        );
        set(0o600);
        assert!(
            key_value_or_file(("k", None), ("k_file", Some(&path)))
                .unwrap()
                .is_some()
        );
        set(0o400);
        assert!(
            key_value_or_file(("k", None), ("k_file", Some(&path)))
                .unwrap()
                .is_some()
        );
        // Group-readable by this process's own group (Kubernetes' fsGroup).
        set(0o440);
        assert!(
            key_value_or_file(("k", None), ("k_file", Some(&path)))
                .unwrap()
                .is_some()
        );
    }
}
