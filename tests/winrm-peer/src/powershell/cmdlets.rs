//! Commands: parameter binding (named, `-Name:value`, switches,
//! positional, `-ErrorAction`) and the cmdlets this peer interprets.

use sha2::{Digest as _, Sha256};

use super::errors::{PsError, Reach};
use super::expr::ident_end;
use super::value::Value;
use super::{Interp, scan};
use crate::fs::FullPath;

/// A cmdlet's parameters: canonical name, aliases, and whether it is a switch.
struct Param {
    name: &'static str,
    aliases: &'static [&'static str],
    switch: bool,
}

const fn p(name: &'static str, aliases: &'static [&'static str]) -> Param {
    Param {
        name,
        aliases,
        switch: false,
    }
}

const fn switch(name: &'static str) -> Param {
    Param {
        name,
        aliases: &[],
        switch: true,
    }
}

const PATH: Param = p("Path", &[]);
const LITERAL: Param = p("LiteralPath", &["PSPath", "LP"]);
const FORCE: Param = switch("Force");

/// Each cmdlet: the name errors give, the names it is called by, its parameters.
const CMDLETS: &[(&str, &[&str], &[Param])] = &[
    (
        "Write-Output",
        &["write-output", "echo", "write"],
        &[switch("NoEnumerate")],
    ),
    ("Write-Host", &["write-host"], &[switch("NoNewline")]),
    ("Write-Error", &["write-error"], &[p("Message", &[])]),
    (
        "Set-Location",
        &["set-location", "cd", "sl", "chdir"],
        &[PATH, LITERAL],
    ),
    ("Get-Location", &["get-location", "gl", "pwd"], &[]),
    (
        "New-Item",
        &["new-item", "ni"],
        &[
            PATH,
            p("Name", &[]),
            p("ItemType", &["Type"]),
            p("Value", &[]),
            FORCE,
        ],
    ),
    (
        "Move-Item",
        &["move-item", "mv", "move", "mi"],
        &[PATH, LITERAL, p("Destination", &[]), FORCE],
    ),
    (
        "Remove-Item",
        &["remove-item", "rm", "del", "erase", "ri"],
        &[PATH, LITERAL, FORCE, switch("Recurse")],
    ),
    (
        "Get-FileHash",
        &["get-filehash"],
        &[PATH, LITERAL, p("Algorithm", &[])],
    ),
    (
        "Test-Path",
        &["test-path"],
        &[PATH, LITERAL, p("PathType", &["Type"])],
    ),
    (
        "Get-Content",
        &["get-content", "gc", "cat", "type"],
        &[PATH, LITERAL, switch("Raw"), p("Encoding", &[])],
    ),
    (
        "Start-Sleep",
        &["start-sleep", "sleep"],
        &[p("Seconds", &["s"]), p("Milliseconds", &["m", "ms"])],
    ),
    (
        "Get-CimInstance",
        &["get-ciminstance", "get-wmiobject", "gwmi"],
        &[p("ClassName", &["Class"])],
    ),
    ("hostname", &["hostname", "hostname.exe"], &[]),
];

/// What a command line bound to.
#[derive(Debug, Default)]
struct Bound {
    named: Vec<(&'static str, Value)>,
    positional: Vec<Value>,
}

impl Bound {
    fn get(&self, name: &str) -> Option<&Value> {
        self.named.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| matches!(v, Value::Bool(true)))
    }

    /// A parameter given by name or at position `pos`.
    fn arg(&self, names: &[&str], pos: usize) -> Option<&Value> {
        names
            .iter()
            .find_map(|n| self.get(n))
            .or_else(|| self.positional.get(pos))
    }
}

impl Interp<'_> {
    /// Runs `Name args...`.
    pub(super) fn command(&mut self, src: &str) -> Result<Value, PsError> {
        let name_end = src.find(char::is_whitespace).unwrap_or(src.len());
        let name = &src[..name_end];
        let lower = name.to_ascii_lowercase();
        let Some((canonical, params)) = CMDLETS
            .iter()
            .find(|(_, names, _)| names.contains(&lower.as_str()))
            .map(|(canonical, _, params)| (*canonical, *params))
        else {
            return Err(PsError::not_found(name));
        };
        let (bound, action) = self.bind(canonical, params, &src[name_end..])?;
        let result = self.invoke(canonical, &bound);
        result.map_err(|mut e| {
            match action.as_deref() {
                Some("stop") => e.reach = Reach::Script,
                Some("silentlycontinue" | "ignore") if e.reach == Reach::Item => e.shown = false,
                _ => {}
            }
            e
        })
    }

    /// Binds the arguments; also returns `-ErrorAction`, lower-cased.
    fn bind(
        &mut self,
        cmdlet: &str,
        params: &[Param],
        src: &str,
    ) -> Result<(Bound, Option<String>), PsError> {
        let mut bound = Bound::default();
        let mut action = None;
        let mut i = 0;
        loop {
            i += src[i..].len() - src[i..].trim_start().len();
            if i >= src.len() {
                break;
            }
            let is_param =
                src[i..].starts_with('-') && src[i + 1..].starts_with(|c: char| c.is_alphabetic());
            if !is_param {
                let (v, end) = self.word(src, i)?;
                bound.positional.push(v);
                i = end;
                continue;
            }
            let end = ident_end(src, i + 1);
            let given = &src[i + 1..end];
            i = end;
            let inline = src[i..].starts_with(':');
            if inline {
                i += 1;
            }
            let is = |p: &Param| {
                p.name.eq_ignore_ascii_case(given)
                    || p.aliases.iter().any(|a| a.eq_ignore_ascii_case(given))
            };
            if given.eq_ignore_ascii_case("ErrorAction") || given.eq_ignore_ascii_case("ea") {
                let (v, end) = self.next_word(cmdlet, "ErrorAction", src, i)?;
                action = Some(v.text().to_ascii_lowercase());
                i = end;
                continue;
            }
            let Some(param) = params.iter().find(|p| is(p)) else {
                return Err(PsError::no_parameter(cmdlet, given));
            };
            if param.switch && !inline {
                bound.named.push((param.name, Value::Bool(true)));
                continue;
            }
            let (v, end) = self.next_word(cmdlet, param.name, src, i)?;
            bound.named.push((param.name, v));
            i = end;
        }
        Ok((bound, action))
    }

    fn next_word(
        &mut self,
        cmdlet: &str,
        param: &str,
        src: &str,
        at: usize,
    ) -> Result<(Value, usize), PsError> {
        let at = at + src[at..].len() - src[at..].trim_start().len();
        if at >= src.len()
            || src[at..].starts_with('-')
                && !src[at + 1..].starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(PsError::missing_argument(cmdlet, param));
        }
        self.word(src, at)
    }

    /// One argument in argument mode: an expression, a number, or a bare word.
    fn word(&mut self, src: &str, at: usize) -> Result<(Value, usize), PsError> {
        let c = src[at..].chars().next().unwrap_or(' ');
        if matches!(c, '$' | '(' | '[' | '@')
            || scan::is_single_quote(c)
            || scan::is_double_quote(c)
        {
            return self.operand(src, at);
        }
        let end = src[at..]
            .find(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')'))
            .map_or(src.len(), |n| at + n);
        let text = &src[at..end];
        Ok((
            text.parse::<i64>()
                .map_or_else(|_| Value::Str(text.to_owned()), Value::Int),
            end,
        ))
    }

    /// `-Path` or `-LiteralPath` (or the first positional), resolved
    /// against the location; wildcards in `-Path` are refused.
    fn item_path(&self, cmdlet: &str, b: &Bound, pos: usize) -> Result<FullPath, PsError> {
        let (text, literal) = match (b.get("LiteralPath"), b.arg(&["Path"], pos)) {
            (Some(v), _) => (v.text(), true),
            (None, Some(v)) => (v.text(), false),
            (None, None) => return Err(PsError::missing_argument(cmdlet, "Path")),
        };
        if !literal && text.contains(['*', '?', '[']) {
            return Err(PsError::unsupported(&format!(
                "wildcards in -Path ({text})"
            )));
        }
        crate::fs::resolve(&self.location, &text)
            .ok_or_else(|| PsError::unsupported(&format!("the path {text}")))
    }

    fn invoke(&mut self, cmdlet: &str, b: &Bound) -> Result<Value, PsError> {
        match cmdlet {
            "Write-Output" => Ok(match b.positional.len() {
                0 => Value::Null,
                1 => b.positional[0].clone(),
                _ => Value::List(b.positional.clone()),
            }),
            "Write-Host" => {
                let text: Vec<String> = b.positional.iter().map(Value::text).collect();
                let end = if b.flag("NoNewline") { "" } else { "\r\n" };
                self.console
                    .out(format!("{}{end}", text.join(" ")).as_bytes());
                Ok(Value::Null)
            }
            "Write-Error" => {
                let message = b.arg(&["Message"], 0).map(Value::text).unwrap_or_default();
                Err(PsError::new(
                    "Write-Error",
                    message,
                    "NotSpecified: (:) [Write-Error], WriteErrorException".into(),
                    "Microsoft.PowerShell.Commands.WriteErrorException",
                )
                .item())
            }
            "Set-Location" => {
                let target = self.item_path(cmdlet, b, 0)?;
                if !self.fs().is_dir(&target) {
                    return Err(PsError::path_not_found(cmdlet, &target.display));
                }
                self.location = target.display;
                Ok(Value::Null)
            }
            "Get-Location" => Ok(Value::Location(self.location.clone())),
            "New-Item" => self.new_item(b),
            "Move-Item" => {
                let from = self.item_path(cmdlet, b, 0)?;
                let to_text = b
                    .arg(&["Destination"], 1)
                    .map(Value::text)
                    .ok_or_else(|| PsError::missing_argument(cmdlet, "Destination"))?;
                let to = crate::fs::resolve(&self.location, &to_text)
                    .ok_or_else(|| PsError::unsupported(&format!("the path {to_text}")))?;
                let mut fs = self.fs();
                if fs.is_dir(&from) {
                    return Err(PsError::unsupported("Move-Item on a directory"));
                }
                if !fs.is_file(&from) {
                    return Err(PsError::path_not_found(cmdlet, &from.display));
                }
                fs.move_file(&from, &to, b.flag("Force")).map_err(|e| {
                    PsError::new(
                        cmdlet,
                        e.message
                            .split(" : '")
                            .next()
                            .unwrap_or_default()
                            .to_owned(),
                        format!(
                            "WriteError: ({}:FileInfo) [Move-Item], {}",
                            from.display, e.kind
                        ),
                        "MoveFileInfoItemIOError,Microsoft.PowerShell.Commands.MoveItemCommand",
                    )
                    .item()
                })?;
                Ok(Value::Null)
            }
            "Remove-Item" => {
                let target = self.item_path(cmdlet, b, 0)?;
                let mut fs = self.fs();
                if fs.is_dir(&target) {
                    return Err(PsError::unsupported("Remove-Item on a directory"));
                }
                if !fs.is_file(&target) {
                    return Err(PsError::path_not_found(cmdlet, &target.display));
                }
                fs.delete_file(&target)
                    .map_err(|e| PsError::method("Delete", 1, &e))?;
                Ok(Value::Null)
            }
            "Get-FileHash" => {
                let algorithm = b.get("Algorithm").map_or("SHA256".into(), Value::text);
                if !algorithm.eq_ignore_ascii_case("SHA256") {
                    return Err(PsError::unsupported(&format!(
                        "Get-FileHash -Algorithm {algorithm}"
                    )));
                }
                let target = self.item_path(cmdlet, b, 0)?;
                let bytes = self
                    .fs()
                    .read(&target)
                    .map_err(|_| PsError::path_not_found(cmdlet, &target.display))?;
                let hash: String = Sha256::digest(&bytes)
                    .iter()
                    .map(|x| format!("{x:02X}"))
                    .collect();
                Ok(Value::FileHash {
                    algorithm: "SHA256".into(),
                    hash,
                    path: target.display,
                })
            }
            "Test-Path" => {
                let target = self.item_path(cmdlet, b, 0)?;
                let fs = self.fs();
                let kind = b.get("PathType").map(|v| v.text().to_ascii_lowercase());
                Ok(Value::Bool(match kind.as_deref() {
                    Some("leaf") => fs.is_file(&target),
                    Some("container") => fs.is_dir(&target),
                    _ => fs.is_file(&target) || fs.is_dir(&target),
                }))
            }
            "Get-Content" => {
                if let Some(enc) = b.get("Encoding").map(Value::text)
                    && !["utf8", "default", "ascii"].contains(&enc.to_ascii_lowercase().as_str())
                {
                    return Err(PsError::unsupported(&format!(
                        "Get-Content -Encoding {enc}"
                    )));
                }
                let target = self.item_path(cmdlet, b, 0)?;
                let bytes = self
                    .fs()
                    .read(&target)
                    .map_err(|_| PsError::path_not_found(cmdlet, &target.display))?;
                let text = String::from_utf8_lossy(&bytes)
                    .trim_start_matches('\u{feff}')
                    .to_owned();
                Ok(if b.flag("Raw") {
                    Value::Str(text)
                } else {
                    Value::List(text.lines().map(|l| Value::Str(l.to_owned())).collect())
                })
            }
            "Start-Sleep" => {
                let ms = match (b.arg(&["Seconds"], 0), b.get("Milliseconds")) {
                    (_, Some(ms)) => ms.int(),
                    (Some(s), None) => s.int().map(|s| s.saturating_mul(1000)),
                    (None, None) => return Err(PsError::missing_argument(cmdlet, "Seconds")),
                };
                let ms = ms.and_then(|m| u64::try_from(m).ok()).ok_or_else(|| {
                    PsError::unsupported("Start-Sleep with anything but a whole, positive number")
                })?;
                self.console.sleep(std::time::Duration::from_millis(ms));
                Ok(Value::Null)
            }
            "hostname" => Ok(Value::Str(self.host.hostname.clone())),
            _ => match b.arg(&["ClassName"], 0).map(Value::text) {
                Some(class) if class.eq_ignore_ascii_case("Win32_OperatingSystem") => Ok(Value::Os),
                other => Err(PsError::unsupported(&format!(
                    "{cmdlet} {}",
                    other.unwrap_or_default()
                ))),
            },
        }
    }

    fn new_item(&mut self, b: &Bound) -> Result<Value, PsError> {
        let mut target = self.item_path("New-Item", b, 0)?;
        if let Some(name) = b.get("Name").map(Value::text) {
            target = crate::fs::resolve(&target.display, &name)
                .ok_or_else(|| PsError::unsupported(&format!("the name {name}")))?;
        }
        let kind = b.get("ItemType").map(|v| v.text().to_ascii_lowercase());
        let exists = PsError::new(
            "New-Item",
            format!(
                "An item with the specified name {} already exists.",
                target.display
            ),
            format!(
                "ResourceExists: ({}:String) [New-Item], IOException",
                target.display
            ),
            "DirectoryExist,Microsoft.PowerShell.Commands.NewItemCommand",
        )
        .item();
        let mut fs = self.fs();
        match kind.as_deref() {
            Some("directory") => {
                if fs.is_file(&target) || (fs.is_dir(&target) && !b.flag("Force")) {
                    return Err(exists);
                }
                fs.create_dir_all(&target)
                    .map_err(|e| PsError::method("CreateDirectory", 1, &e))?;
                Ok(Value::Dir(target.display))
            }
            Some("file") | None => {
                if fs.is_file(&target) && !b.flag("Force") {
                    return Err(exists);
                }
                let value = b.get("Value").map(Value::text).unwrap_or_default();
                fs.write(&target, value.into_bytes())
                    .map_err(|e| PsError::method("Create", 1, &e))?;
                Ok(Value::Str(target.display))
            }
            Some(other) => Err(PsError::unsupported(&format!("New-Item -ItemType {other}"))),
        }
    }
}
