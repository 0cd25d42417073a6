//! The PowerShell the steps send. Every value is a single-quoted literal
//! ([`powershell_quote`]); nothing the job author wrote is interpreted
//! except `with.script` itself.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::template::powershell_quote as q;

/// Raw bytes per `winrm.copy` chunk. The chunk travels base64 inside a
/// script that itself travels base64 of UTF-16 (`-EncodedCommand`): about
/// 3.6 times its size, so 24 KiB make an envelope of about 90 KB, well under
/// the 150 KiB `MaxEnvelopeSizekb` of older hosts (500 KiB today).
pub(super) const CHUNK: usize = 24 * 1024;

/// `with.script` preceded by `env` and `cwd`.
pub(super) fn exec_script(script: &str, env: &[(String, String)], cwd: Option<&str>) -> String {
    let mut out = String::new();
    for (k, v) in env {
        out.push_str(&format!("$env:{k} = {}\n", q(v)));
    }
    if let Some(cwd) = cwd {
        out.push_str(&format!(
            "Set-Location -LiteralPath {} -ErrorAction Stop\n",
            q(cwd)
        ));
    }
    out.push_str(script);
    out
}

const STRICT: &str = "$ErrorActionPreference = 'Stop'\n$ProgressPreference = 'SilentlyContinue'\n";

/// Prints whether `dest` is a file, whether it is a directory, and whether
/// its directory exists: three `True`/`False` lines.
pub(super) fn inspect(dest: &str, parent: &str) -> String {
    format!(
        "{STRICT}[IO.File]::Exists({d})\n[IO.Directory]::Exists({d})\n[IO.Directory]::Exists({p})\n",
        d = q(dest),
        p = q(parent)
    )
}

/// What [`inspect`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Found {
    pub file: bool,
    pub dir: bool,
    pub parent: bool,
}

/// Reads the output of [`inspect`].
pub(super) fn parse_found(stdout: &str) -> Option<Found> {
    let flags: Vec<bool> = stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l {
            "True" => Some(true),
            "False" => Some(false),
            _ => None,
        })
        .collect::<Option<_>>()?;
    match flags[..] {
        [file, dir, parent] => Some(Found { file, dir, parent }),
        _ => None,
    }
}

/// Writes chunk number `index` to `temp`: the first creates (or empties)
/// the file, the others append. `mkdir` creates the directory first.
pub(super) fn chunk(temp: &str, index: usize, bytes: &[u8], mkdir: Option<&str>) -> String {
    let mut out = String::from(STRICT);
    if let Some(dir) = mkdir {
        out.push_str(&format!(
            "$null = [IO.Directory]::CreateDirectory({})\n",
            q(dir)
        ));
    }
    let data = q(&B64.encode(bytes));
    if index == 0 {
        out.push_str(&format!(
            "[IO.File]::WriteAllBytes({}, [Convert]::FromBase64String({data}))\n",
            q(temp)
        ));
    } else {
        out.push_str(&format!(
            "$b = [Convert]::FromBase64String({data})\n$s = [IO.File]::Open({}, [IO.FileMode]::Append)\n\
             $s.Write($b, 0, $b.Length)\n$s.Close()\n",
            q(temp)
        ));
    }
    out
}

/// Prints the SHA-256 of `path` (upper-case hex).
pub(super) fn hash(path: &str) -> String {
    format!(
        "{STRICT}(Get-FileHash -Algorithm SHA256 -LiteralPath {}).Hash\n",
        q(path)
    )
}

/// Moves `temp` onto `dest` (replacing it only with `overwrite`) and
/// prints the SHA-256 of what is now at `dest`.
pub(super) fn put_in_place(temp: &str, dest: &str, overwrite: bool) -> String {
    let force = if overwrite { " -Force" } else { "" };
    format!(
        "{STRICT}Move-Item -LiteralPath {} -Destination {}{force}\n(Get-FileHash -Algorithm SHA256 -LiteralPath {}).Hash\n",
        q(temp),
        q(dest),
        q(dest)
    )
}

/// Removes `temp` if it is there.
pub(super) fn remove(temp: &str) -> String {
    format!(
        "Remove-Item -LiteralPath {} -Force -ErrorAction SilentlyContinue\n",
        q(temp)
    )
}
