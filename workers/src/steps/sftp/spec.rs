//! The `with` settings of the transfer steps, parsed strictly: an unknown
//! key is an error, not silently ignored.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::TransferError;

fn yes() -> bool {
    true
}

/// A boolean, also accepted as the text `"true"`/`"false"` (what a template
/// renders to).
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Value::deserialize(d)? {
        Value::Bool(b) => Ok(b),
        Value::String(s) if s.trim() == "true" => Ok(true),
        Value::String(s) if s.trim() == "false" => Ok(false),
        other => Err(serde::de::Error::custom(format!(
            "expected true or false, got {other}"
        ))),
    }
}

/// An octal mode written as text: `"0640"`, `"640"`, `"0o640"`, `"1777"`.
pub fn parse_mode(text: &str) -> Result<u32, String> {
    let digits = text.trim();
    let digits = digits.strip_prefix("0o").unwrap_or(digits);
    let valid = !digits.is_empty()
        && digits.len() <= 5
        && digits.bytes().all(|b| b.is_ascii_digit() && b < b'8');
    match u32::from_str_radix(digits, 8) {
        Ok(mode) if valid && mode <= 0o7777 => Ok(mode),
        _ => Err(format!(
            "mode {text:?} is not an octal file mode like \"0640\""
        )),
    }
}

fn mode<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => parse_mode(&s).map(Some).map_err(serde::de::Error::custom),
        other => Err(serde::de::Error::custom(format!(
            "mode must be an octal string like \"0640\", got {other}"
        ))),
    }
}

/// `sftp.upload` and `ssh.copy`: `source` (a worker file) or `content`
/// (inline text) to `dest` on the target.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutSpec {
    /// Worker-side file.
    #[serde(default)]
    pub source: Option<String>,
    /// Inline text, instead of `source`.
    #[serde(default)]
    pub content: Option<String>,
    /// Target-side path (a trailing `/` or an existing directory: the
    /// source's file name inside it).
    pub dest: String,
    /// File mode; default: the source's (inline content: `0600`).
    #[serde(default, deserialize_with = "mode")]
    pub mode: Option<u32>,
    /// Give the copy the source's modification time.
    #[serde(default = "yes", deserialize_with = "flag")]
    pub preserve_mtime: bool,
    /// Create missing parent directories.
    #[serde(default = "yes", deserialize_with = "flag")]
    pub create_dirs: bool,
    /// Replace an existing file; when false an existing file is left alone.
    #[serde(default = "yes", deserialize_with = "flag")]
    pub overwrite: bool,
    /// `ssh.copy` only: write as root through `sudo -n`.
    #[serde(default, deserialize_with = "flag")]
    pub sudo: bool,
}

/// `sftp.download`: `source` on the target to `dest` on the worker.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetSpec {
    /// Target-side file.
    pub source: String,
    /// Worker-side path (a trailing `/` or an existing directory: the
    /// source's file name inside it).
    pub dest: String,
    /// File mode; default: the source's.
    #[serde(default, deserialize_with = "mode")]
    pub mode: Option<u32>,
    /// Give the copy the source's modification time.
    #[serde(default = "yes", deserialize_with = "flag")]
    pub preserve_mtime: bool,
    /// Create missing parent directories.
    #[serde(default = "yes", deserialize_with = "flag")]
    pub create_dirs: bool,
    /// Replace an existing file; when false an existing file is left alone.
    #[serde(default = "yes", deserialize_with = "flag")]
    pub overwrite: bool,
}

/// Which way `sftp.sync` copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Worker → target.
    #[default]
    Upload,
    /// Target → worker.
    Download,
}

impl Direction {
    /// As written in the settings.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Upload => "upload",
            Self::Download => "download",
        }
    }
}

/// `sftp.sync`: the tree under `source` mirrored under `dest`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncSpec {
    /// The source directory (worker for `upload`, target for `download`).
    pub source: String,
    /// The destination directory, created when missing.
    pub dest: String,
    /// `upload` (default) or `download`.
    #[serde(default)]
    pub direction: Direction,
    /// Remove destination entries the source does not have.
    #[serde(default, deserialize_with = "flag")]
    pub delete: bool,
    /// Compare contents (SHA-256) of same-size files instead of mtimes.
    #[serde(default, deserialize_with = "flag")]
    pub checksum: bool,
}

/// Parses `with` into `T`; errors say which key is wrong.
pub fn parse<T: DeserializeOwned>(with: &BTreeMap<String, Value>) -> Result<T, TransferError> {
    let object: serde_json::Map<String, Value> =
        with.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    serde_json::from_value(Value::Object(object))
        .map_err(|e| TransferError::Spec(format!("with: {e}")))
}

/// A required path setting: not empty.
pub fn required<'a>(key: &str, value: &'a str) -> Result<&'a str, TransferError> {
    if value.trim().is_empty() {
        return Err(TransferError::Spec(format!("with.{key} must not be empty")));
    }
    Ok(value)
}

/// What `PutSpec` copies.
#[derive(Debug, Clone, Copy)]
pub enum PutSource<'a> {
    /// A worker file.
    File(&'a str),
    /// Inline text.
    Content(&'a str),
}

impl PutSpec {
    /// Exactly one of `source` and `content`.
    pub fn put_source(&self) -> Result<PutSource<'_>, TransferError> {
        match (&self.source, &self.content) {
            (Some(s), None) => Ok(PutSource::File(required("source", s)?)),
            (None, Some(c)) => Ok(PutSource::Content(c)),
            (Some(_), Some(_)) => Err(TransferError::Spec(
                "with: give either source or content, not both".to_owned(),
            )),
            (None, None) => Err(TransferError::Spec(
                "with.source (a worker file) or with.content is required".to_owned(),
            )),
        }
    }
}
