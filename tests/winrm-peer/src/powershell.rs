//! A very small PowerShell: statements one per line or `;`-separated,
//! variables, double-quoted strings with `$var`, `$env:NAME` and `$( )`
//! interpolation, member access, and a handful of commands (see the crate
//! documentation). Errors go to stderr as CLIXML error records, the way
//! `powershell.exe` writes them when its output is redirected.

use std::collections::HashMap;

use crate::host::{Host, Outcome};

#[derive(Debug, Clone)]
enum Value {
    Null,
    Str(String),
    /// A `Win32_OperatingSystem` instance.
    Os,
    /// `$PSVersionTable`.
    VersionTable,
    /// A `System.Version`.
    Version(String),
}

/// A statement's failure.
#[derive(Debug)]
struct PsError {
    command: String,
    message: String,
    category: String,
}

impl PsError {
    fn not_found(name: &str) -> Self {
        Self {
            command: name.to_owned(),
            message: format!(
                "The term '{name}' is not recognized as the name of a cmdlet, function, script file, or operable \
                 program. Check the spelling of the name, or if a path was included, verify that the path is correct \
                 and try again."
            ),
            category: format!("ObjectNotFound: ({name}:String) [], CommandNotFoundException"),
        }
    }

    fn unsupported(what: &str) -> Self {
        Self {
            command: what.to_owned(),
            message: format!("'{what}' is not supported by this WinRM test peer."),
            category: "NotImplemented: (:) [], NotSupportedException".into(),
        }
    }
}

struct Interp<'h> {
    host: &'h Host,
    user: &'h str,
    vars: HashMap<String, Value>,
    stdout: String,
    errors: Vec<String>,
    stop: bool,
}

/// Runs a script and reports what powershell.exe would.
pub(crate) fn run(host: &Host, user: &str, script: &str) -> Outcome {
    let mut it = Interp {
        host,
        user,
        vars: HashMap::new(),
        stdout: String::new(),
        errors: Vec::new(),
        stop: false,
    };
    let mut exit_code = 0;
    for (line_no, stmt) in statements(script) {
        if let Some(rest) = keyword(&stmt, "exit") {
            exit_code = rest.trim().parse().unwrap_or(0);
            break;
        }
        match it.statement(&stmt) {
            Ok(()) => exit_code = 0,
            Err(e) => {
                it.errors.push(record(&e, line_no, &stmt));
                exit_code = 1;
                if it.stop {
                    break;
                }
            }
        }
    }
    Outcome {
        stdout: it.stdout.into_bytes(),
        stderr: clixml(&it.errors).into_bytes(),
        exit_code,
    }
}

/// Splits on newlines and on `;` outside quotes and parentheses.
fn statements(script: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in script.lines().enumerate() {
        for part in split_top(line, |c| c == ';') {
            let part = part.trim();
            if !part.is_empty() && !part.starts_with('#') {
                out.push((i + 1, part.to_owned()));
            }
        }
    }
    out
}

/// Splits where `sep` matches outside quotes, parentheses and `$( )`.
fn split_top(s: &str, sep: impl Fn(char) -> bool) -> Vec<&str> {
    let (mut parts, mut depth, mut quote, mut start) = (Vec::new(), 0i32, None, 0);
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, c) if depth == 0 && sep(c) => {
                parts.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn keyword<'a>(stmt: &'a str, word: &str) -> Option<&'a str> {
    let (first, rest) = stmt.split_once(char::is_whitespace).unwrap_or((stmt, ""));
    first.eq_ignore_ascii_case(word).then_some(rest)
}

impl Interp<'_> {
    fn statement(&mut self, stmt: &str) -> Result<(), PsError> {
        if stmt.starts_with('$')
            && let Some((lhs, rhs)) = stmt.split_once('=')
            && !rhs.starts_with('=')
            && lhs
                .trim()
                .chars()
                .skip(1)
                .all(|c| c.is_alphanumeric() || c == '_' || c == ':')
        {
            let value = self.command_or_expr(rhs.trim())?;
            let name = lhs.trim()[1..].to_ascii_lowercase();
            if name == "erroractionpreference" {
                self.stop = text(&value).eq_ignore_ascii_case("stop");
            }
            self.vars.insert(name, value);
            return Ok(());
        }
        let value = self.command_or_expr(stmt)?;
        self.emit(&value);
        Ok(())
    }

    fn emit(&mut self, value: &Value) {
        let line = match value {
            Value::Null => return,
            Value::Os => {
                let f = &self.host.facts;
                let build = f.os_version.rsplit('.').next().unwrap_or_default();
                format!(
                    "\r\nSystemDirectory : C:\\Windows\\system32\r\nBuildNumber     : {build}\r\n\
                     Version         : {}\r\nCaption         : {}\r\n",
                    f.os_version, f.os_caption
                )
            }
            other => text(other),
        };
        self.stdout.push_str(&line);
        self.stdout.push_str("\r\n");
    }

    /// A statement in command mode (`Verb-Noun args`) or an expression.
    fn command_or_expr(&mut self, stmt: &str) -> Result<Value, PsError> {
        if stmt.starts_with(['"', '\'', '$', '(']) || stmt.starts_with(|c: char| c.is_ascii_digit())
        {
            return self.expr(stmt);
        }
        if split_top(stmt, |c| c == '|').len() > 1 {
            return Err(PsError::unsupported("pipelines"));
        }
        let words = split_top(stmt, char::is_whitespace)
            .into_iter()
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>();
        let (name, args) = words.split_first().map_or(("", &[][..]), |(n, a)| (*n, a));
        let args: Vec<&str> = args
            .iter()
            .copied()
            .filter(|a| !a.starts_with('-'))
            .collect();
        match name.to_ascii_lowercase().as_str() {
            "write-output" | "echo" | "write" | "write-host" => {
                for a in &args[..args.len().saturating_sub(1)] {
                    let v = self.expr(a)?;
                    self.emit(&v);
                }
                args.last().map_or(Ok(Value::Null), |a| self.expr(a))
            }
            "write-error" => {
                let message = args
                    .iter()
                    .map(|a| self.expr(a).map(|v| text(&v)))
                    .collect::<Result<Vec<_>, _>>()?;
                Err(PsError {
                    command: name.to_owned(),
                    message: message.join(" "),
                    category: "NotSpecified: (:) [Write-Error], WriteErrorException".into(),
                })
            }
            "hostname" | "hostname.exe" => Ok(Value::Str(self.host.hostname.clone())),
            "get-ciminstance" | "get-wmiobject" => match args.first() {
                Some(class)
                    if class
                        .trim_matches(['\'', '"'])
                        .eq_ignore_ascii_case("Win32_OperatingSystem") =>
                {
                    Ok(Value::Os)
                }
                _ => Err(PsError::unsupported(&format!("{name} {}", args.join(" ")))),
            },
            "if" | "foreach" | "for" | "while" | "function" | "try" | "switch" => {
                Err(PsError::unsupported(name))
            }
            _ => Err(PsError::not_found(name)),
        }
    }

    fn expr(&mut self, e: &str) -> Result<Value, PsError> {
        let e = e.trim();
        if let Some(inner) = e.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            return Ok(Value::Str(self.interpolate(inner)?));
        }
        if let Some(inner) = e.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            return Ok(Value::Str(inner.replace("''", "'")));
        }
        let (base, members) = if let Some(rest) = e.strip_prefix('(') {
            let close = matching_paren(rest).ok_or_else(|| PsError::unsupported(e))?;
            (
                self.command_or_expr(rest[..close].trim())?,
                &rest[close + 1..],
            )
        } else if let Some(var) = e.strip_prefix('$') {
            let end = var
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(var.len());
            (self.variable(&var[..end]), &var[end..])
        } else {
            return Ok(Value::Str(e.to_owned()));
        };
        members
            .split('.')
            .filter(|m| !m.is_empty())
            .try_fold(base, |v, m| Ok(member(self.host, &v, m)))
    }

    fn variable(&self, name: &str) -> Value {
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "env:computername" => Value::Str(self.host.hostname.clone()),
            "env:username" => Value::Str(self.user.to_owned()),
            "env:userdomain" => Value::Str(self.host.user_domain().to_owned()),
            "psversiontable" => Value::VersionTable,
            "true" => Value::Str("True".into()),
            "false" => Value::Str("False".into()),
            _ => self.vars.get(&lower).cloned().unwrap_or(Value::Null),
        }
    }

    fn interpolate(&mut self, s: &str) -> Result<String, PsError> {
        let mut out = String::new();
        let mut rest = s;
        while let Some(pos) = rest.find(['$', '`']) {
            out.push_str(&rest[..pos]);
            let tail = &rest[pos..];
            if let Some(esc) = tail.strip_prefix('`') {
                let mut chars = esc.chars();
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    Some(c) => out.push(c),
                    None => {}
                }
                rest = chars.as_str();
            } else if let Some(sub) = tail.strip_prefix("$(") {
                let close = matching_paren(sub).ok_or_else(|| PsError::unsupported(tail))?;
                let v = self.command_or_expr(sub[..close].trim())?;
                out.push_str(&text(&v));
                rest = &sub[close + 1..];
            } else {
                let var = &tail[1..];
                let end = var
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(var.len());
                if end == 0 {
                    out.push('$');
                } else {
                    out.push_str(&text(&self.variable(&var[..end])));
                }
                rest = &var[end..];
            }
        }
        out.push_str(rest);
        Ok(out.replace("\"\"", "\""))
    }
}

/// The index of the `)` closing an already opened `(`.
fn matching_paren(s: &str) -> Option<usize> {
    let mut depth = 1;
    for (i, c) in s.char_indices() {
        depth += match c {
            '(' => 1,
            ')' => -1,
            _ => 0,
        };
        if depth == 0 {
            return Some(i);
        }
    }
    None
}

fn member(host: &Host, v: &Value, m: &str) -> Value {
    let m = m.trim_end_matches("()").to_ascii_lowercase();
    let f = &host.facts;
    match (v, m.as_str()) {
        (Value::Os, "caption") => Value::Str(f.os_caption.clone()),
        (Value::Os, "version") => Value::Str(f.os_version.clone()),
        (Value::Os, "csname") => Value::Str(host.hostname.clone()),
        (Value::Os, "buildnumber") => {
            Value::Str(f.os_version.rsplit('.').next().unwrap_or_default().into())
        }
        (Value::Os, "osarchitecture") => Value::Str("64-bit".into()),
        (Value::VersionTable, "psversion") => Value::Version(f.powershell_version.clone()),
        (Value::VersionTable, "psedition") => Value::Str("Desktop".into()),
        (Value::Version(s), "major" | "minor" | "build" | "revision") => {
            let i = ["major", "minor", "build", "revision"]
                .iter()
                .position(|p| *p == m)
                .unwrap_or(0);
            Value::Str(s.split('.').nth(i).unwrap_or("-1").into())
        }
        (Value::Str(s), "toupper") => Value::Str(s.to_uppercase()),
        (Value::Str(s), "tolower") => Value::Str(s.to_lowercase()),
        (Value::Str(s), "trim") => Value::Str(s.trim().into()),
        (Value::Str(s), "length") => Value::Str(s.chars().count().to_string()),
        (v, "tostring") => Value::Str(text(v)),
        _ => Value::Null,
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Str(s) | Value::Version(s) => s.clone(),
        Value::Os => "Win32_OperatingSystem".into(),
        Value::VersionTable => "System.Management.Automation.PSVersionHashTable".into(),
    }
}

/// An error record as the console host formats it.
fn record(e: &PsError, line_no: usize, stmt: &str) -> String {
    let underline = "~".repeat(e.command.chars().count().max(1));
    let id = e.category.rsplit(", ").next().unwrap_or_default();
    format!(
        "{} : {}\r\nAt line:{line_no} char:1\r\n+ {stmt}\r\n+ {underline}\r\n    + CategoryInfo          : {}\r\n    \
         + FullyQualifiedErrorId : {id}\r\n \r\n",
        e.command, e.message, e.category
    )
}

/// Error records serialized the way powershell.exe writes redirected stderr.
fn clixml(errors: &[String]) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">",
    );
    for line in errors.iter().flat_map(|e| e.split_inclusive("\r\n")) {
        let escaped = crate::soap::escape(line)
            .replace('\r', "_x000D_")
            .replace('\n', "_x000A_");
        out.push_str(&format!("<S S=\"Error\">{escaped}</S>"));
    }
    out.push_str("</Objs>");
    out
}
