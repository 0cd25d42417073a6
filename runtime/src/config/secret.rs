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
}
