//! Values: what expressions produce, how they read as text, how the console
//! shows them, and their properties.

use crate::host::Host;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    /// A `byte[]`.
    Bytes(Vec<u8>),
    /// An array of objects (`Get-Content` lines).
    List(Vec<Value>),
    /// A `Win32_OperatingSystem` instance.
    Os,
    /// `$PSVersionTable`.
    VersionTable,
    /// A `System.Version`.
    Version(String),
    /// What `Get-FileHash` returns.
    FileHash {
        algorithm: String,
        hash: String,
        path: String,
    },
    /// A `System.IO.FileStream`, by its index in the script's open streams.
    Stream(usize),
    /// A `System.IO.DirectoryInfo`, by full path.
    Dir(String),
    /// A `PathInfo` (`Get-Location`).
    Location(String),
    /// An enum value, e.g. `[IO.FileMode]::Append`: type and name.
    Enum(&'static str, String),
}

impl Value {
    /// The .NET type name, as error messages give it.
    pub(super) fn type_name(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "System.Boolean",
            Self::Int(_) => "System.Int32",
            Self::Str(_) => "System.String",
            Self::Bytes(_) => "System.Byte[]",
            Self::List(_) => "System.Object[]",
            Self::Os => "Microsoft.Management.Infrastructure.CimInstance",
            Self::VersionTable => "System.Management.Automation.PSVersionHashTable",
            Self::Version(_) => "System.Version",
            Self::FileHash { .. } => "System.Management.Automation.PSCustomObject",
            Self::Stream(_) => "System.IO.FileStream",
            Self::Dir(_) => "System.IO.DirectoryInfo",
            Self::Location(_) => "System.Management.Automation.PathInfo",
            Self::Enum(t, _) => t,
        }
    }

    /// As a string (`"$x"`, or an argument bound to a string parameter).
    pub(super) fn text(&self) -> String {
        match self {
            Self::Null => String::new(),
            Self::Bool(true) => "True".into(),
            Self::Bool(false) => "False".into(),
            Self::Int(i) => i.to_string(),
            Self::Str(s) | Self::Version(s) | Self::Dir(s) | Self::Location(s) => s.clone(),
            Self::Enum(_, name) => name.clone(),
            Self::Bytes(b) => b.iter().map(u8::to_string).collect::<Vec<_>>().join(" "),
            Self::List(items) => items.iter().map(Value::text).collect::<Vec<_>>().join(" "),
            Self::FileHash {
                algorithm,
                hash,
                path,
            } => format!("@{{Algorithm={algorithm}; Hash={hash}; Path={path}}}"),
            Self::Os => "Win32_OperatingSystem".into(),
            Self::VersionTable | Self::Stream(_) => self.type_name().into(),
        }
    }

    /// As a whole number, when it is one.
    pub(super) fn int(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            Self::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// How the console shows it: lines ending in CRLF.
    pub(super) fn display(&self, host: &Host) -> String {
        match self {
            Self::Null => String::new(),
            Self::Bytes(b) => b.iter().map(|x| format!("{x}\r\n")).collect(),
            Self::List(items) => items.iter().map(|v| v.display(host)).collect(),
            Self::Os => {
                let f = &host.facts;
                let build = f.os_version.rsplit('.').next().unwrap_or_default();
                format!(
                    "\r\nSystemDirectory : C:\\Windows\\system32\r\nBuildNumber     : {build}\r\n\
                     Version         : {}\r\nCaption         : {}\r\n\r\n",
                    f.os_version, f.os_caption
                )
            }
            Self::FileHash {
                algorithm,
                hash,
                path,
            } => format!(
                "\r\nAlgorithm : {algorithm}\r\nHash      : {hash}\r\nPath      : {path}\r\n\r\n"
            ),
            Self::Location(p) => format!("\r\nPath\r\n----\r\n{p}\r\n\r\n"),
            Self::Dir(p) => {
                let name = p.rsplit('\\').next().unwrap_or(p);
                format!("\r\nName : {name}\r\nFullName : {p}\r\n\r\n")
            }
            other => format!("{}\r\n", other.text()),
        }
    }

    /// A property; `$null` for one the object does not have (as PowerShell
    /// outside strict mode).
    pub(super) fn property(&self, host: &Host, name: &str) -> Value {
        let f = &host.facts;
        let name = name.to_ascii_lowercase();
        match (self, name.as_str()) {
            (Self::Os, "caption") => Self::Str(f.os_caption.clone()),
            (Self::Os, "version") => Self::Str(f.os_version.clone()),
            (Self::Os, "csname") => Self::Str(host.hostname.clone()),
            (Self::Os, "buildnumber") => {
                Self::Str(f.os_version.rsplit('.').next().unwrap_or_default().into())
            }
            (Self::Os, "osarchitecture") => Self::Str("64-bit".into()),
            (Self::VersionTable, "psversion") => Self::Version(f.powershell_version.clone()),
            (Self::VersionTable, "psedition") => Self::Str("Desktop".into()),
            (Self::Version(s), "major" | "minor" | "build" | "revision") => {
                let i = ["major", "minor", "build", "revision"]
                    .iter()
                    .position(|p| *p == name)
                    .unwrap_or(0);
                Self::Int(
                    s.split('.')
                        .nth(i)
                        .and_then(|x| x.parse().ok())
                        .unwrap_or(-1),
                )
            }
            (Self::Str(s), "length") => Self::Int(s.encode_utf16().count() as i64),
            (Self::Bytes(b), "length" | "count") => Self::Int(b.len() as i64),
            (Self::List(l), "length" | "count") => Self::Int(l.len() as i64),
            (Self::FileHash { hash, .. }, "hash") => Self::Str(hash.clone()),
            (Self::FileHash { algorithm, .. }, "algorithm") => Self::Str(algorithm.clone()),
            (Self::FileHash { path, .. }, "path") => Self::Str(path.clone()),
            (Self::Location(p), "path" | "providerpath") => Self::Str(p.clone()),
            (Self::Dir(p), "fullname") => Self::Str(p.clone()),
            (Self::Dir(p), "name") => Self::Str(p.rsplit('\\').next().unwrap_or(p).into()),
            _ => Self::Null,
        }
    }

    /// A method that needs nothing but the value; `None` when it has none
    /// by that name.
    pub(super) fn pure_method(&self, name: &str) -> Option<Value> {
        let name = name.to_ascii_lowercase();
        Some(match (self, name.as_str()) {
            (Self::Str(s), "toupper") => Self::Str(s.to_uppercase()),
            (Self::Str(s), "tolower") => Self::Str(s.to_lowercase()),
            (Self::Str(s), "trim") => Self::Str(s.trim().into()),
            (v, "tostring") if !matches!(v, Self::Null) => Self::Str(v.text()),
            _ => return None,
        })
    }
}
