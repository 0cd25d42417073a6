//! The `with` settings of `winrm.exec` and `winrm.copy`, checked before
//! anything connects.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::steps::env_of;
use crate::winrm::Shell;

/// `winrm.exec` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExecWith {
    #[serde(default)]
    script: Option<String>,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    shell: Option<ShellName>,
    /// Read through [`env_of`]; declared so it is not refused as unknown.
    #[serde(default, rename = "env")]
    _env: Option<Value>,
    #[serde(default)]
    cwd: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ShellName {
    Powershell,
    Cmd,
}

/// `winrm.exec`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ExecSpec {
    /// PowerShell for `script`, cmd for `command`.
    pub shell: Shell,
    /// The script or command line.
    pub text: String,
    pub env: Vec<(String, String)>,
    pub cwd: Option<String>,
}

fn parse<T: for<'de> Deserialize<'de>>(with: &BTreeMap<String, Value>) -> Result<T, String> {
    let object = Value::Object(with.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    serde_json::from_value(object).map_err(|e| format!("with: {e}"))
}

impl ExecSpec {
    pub(super) fn parse(with: &BTreeMap<String, Value>) -> Result<Self, String> {
        let w: ExecWith = parse(with)?;
        let (shell, text) = match (w.script, w.command) {
            (Some(_), Some(_)) => {
                return Err("give with.script (PowerShell) or with.command (cmd), not both".into());
            }
            (Some(s), None) => (Shell::PowerShell, s),
            (None, Some(c)) => (Shell::Cmd, c),
            (None, None) => {
                return Err("with.script (PowerShell) or with.command (cmd) is required".into());
            }
        };
        if text.trim().is_empty() {
            return Err("the script or command is empty".into());
        }
        match (w.shell, shell) {
            (Some(ShellName::Cmd), Shell::PowerShell) => {
                return Err(
                    "with.shell is cmd but with.script is PowerShell: use with.command for cmd"
                        .into(),
                );
            }
            (Some(ShellName::Powershell), Shell::Cmd) => {
                return Err(
                    "with.shell is powershell but with.command is a cmd line: use with.script for PowerShell".into(),
                );
            }
            _ => {}
        }
        let cwd = w.cwd.filter(|c| !c.trim().is_empty());
        if let Some(c) = &cwd
            && c.contains(['\r', '\n', '\0'])
        {
            return Err("with.cwd must be one line".into());
        }
        Ok(Self {
            shell,
            text,
            env: env_of(with)?,
            cwd,
        })
    }
}

/// `winrm.copy` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CopyWith {
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    content: Option<String>,
    dest: String,
    #[serde(default)]
    overwrite: Option<bool>,
    #[serde(default)]
    create_dirs: Option<bool>,
}

/// Where the bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Source {
    /// A file on the worker host.
    File(String),
    /// The text itself (UTF-8).
    Inline(String),
}

/// `winrm.copy`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CopySpec {
    pub source: Source,
    /// Full Windows path, `\`-separated.
    pub dest: String,
    /// The directory `dest` is in.
    pub parent: String,
    pub overwrite: bool,
    pub create_dirs: bool,
}

impl CopySpec {
    pub(super) fn parse(with: &BTreeMap<String, Value>) -> Result<Self, String> {
        let w: CopyWith = parse(with)?;
        let source = match (w.source, w.content) {
            (Some(_), Some(_)) => return Err("give with.source or with.content, not both".into()),
            (Some(s), None) if !s.trim().is_empty() => Source::File(s),
            (None, Some(c)) => Source::Inline(c),
            _ => {
                return Err(
                    "with.source (a file on the worker) or with.content is required".into(),
                );
            }
        };
        let (dest, parent) = windows_path(&w.dest)?;
        Ok(Self {
            source,
            dest,
            parent,
            overwrite: w.overwrite.unwrap_or(true),
            create_dirs: w.create_dirs.unwrap_or(true),
        })
    }
}

/// A full Windows file path (`C:\dir\file` or `\\server\share\dir\file`,
/// `/` accepted as `\`) and its directory.
pub(super) fn windows_path(raw: &str) -> Result<(String, String), String> {
    let path = raw.trim().replace('/', "\\");
    let bad = || {
        format!("with.dest must be a full Windows file path like C:\\dir\\file.txt, not {raw:?}")
    };
    let b = path.as_bytes();
    let root_len = if b.len() > 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\' {
        3
    } else if let Some(unc) = path.strip_prefix("\\\\") {
        // `\\server\share\` is the root.
        let mut parts = unc.splitn(3, '\\');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(server), Some(share), Some(_)) if !server.is_empty() && !share.is_empty() => {
                2 + server.len() + 1 + share.len() + 1
            }
            _ => return Err(bad()),
        }
    } else {
        return Err(bad());
    };
    let rest = &path[root_len..];
    let invalid = |c: char| matches!(c, '<' | '>' | '"' | '|' | '?' | '*' | ':') || c.is_control();
    if rest.is_empty()
        || rest.ends_with('\\')
        || rest.contains(invalid)
        || rest
            .split('\\')
            .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return Err(bad());
    }
    let parent = match path.rfind('\\') {
        Some(i) if i + 1 == root_len => path[..root_len].to_owned(),
        Some(i) => path[..i].to_owned(),
        None => return Err(bad()),
    };
    Ok((path, parent))
}
