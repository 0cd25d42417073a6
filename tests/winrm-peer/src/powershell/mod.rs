//! A very small PowerShell (see the crate documentation for what it
//! interprets). Output is written as it is produced; error records go to
//! stderr as CLIXML when the script ends, the way `powershell.exe` writes
//! them when its output is redirected. What it does not interpret fails as
//! PowerShell fails: an error record and a non-zero exit code.

mod cmdlets;
mod dotnet;
mod errors;
mod expr;
mod scan;
mod value;

use std::collections::HashMap;

use crate::host::Host;
use crate::process::{CTRL_C_EXIT, Console, Context};
use errors::{PsError, Reach};
use value::Value;

/// Keywords of control flow and definitions, none of which is interpreted.
const UNSUPPORTED_KEYWORDS: [&str; 14] = [
    "if", "elseif", "else", "foreach", "for", "while", "do", "function", "filter", "try", "trap",
    "switch", "param", "return",
];

/// The state of one script run.
struct Interp<'h> {
    host: &'h Host,
    console: &'h Console,
    /// The process: account, environment, and its current directory (what
    /// .NET methods resolve relative paths against).
    ctx: Context,
    /// The PowerShell location (`Set-Location`), which .NET does not see.
    location: String,
    vars: HashMap<String, Value>,
    /// `$ErrorActionPreference` is `Stop`.
    stop_on_error: bool,
    /// Files opened with `[IO.File]::Open`; `None` once closed.
    streams: Vec<Option<crate::fs::FullPath>>,
    errors: Vec<String>,
}

/// How a statement ended the script, if it did.
enum Flow {
    Next,
    Exit(i32),
}

/// Runs a script as `powershell.exe -EncodedCommand` would, in `ctx`;
/// returns the exit code.
pub(crate) fn run(host: &Host, ctx: Context, console: &Console, script: &str) -> i32 {
    let location = ctx.cwd.clone();
    let mut it = Interp {
        host,
        console,
        ctx,
        location,
        vars: HashMap::new(),
        stop_on_error: false,
        streams: Vec::new(),
        errors: Vec::new(),
    };
    let code = it.script(script);
    console.err(errors::clixml(&it.errors).as_bytes());
    code
}

impl Interp<'_> {
    fn script(&mut self, script: &str) -> i32 {
        let statements = match scan::statements(script) {
            Ok(s) => s,
            Err(message) => {
                let e = PsError::parse("", &message);
                self.errors.push(errors::record(&e, 1, script));
                return 1;
            }
        };
        let mut exit_code = 0;
        for (line_no, stmt) in statements {
            if self.console.stopped() {
                return CTRL_C_EXIT;
            }
            match self.statement(&stmt) {
                Ok(Flow::Next) => exit_code = 0,
                Ok(Flow::Exit(code)) => return code,
                Err(e) => {
                    let stop = e.reach == Reach::Script || self.stop_on_error;
                    if e.shown {
                        self.errors.push(errors::record(&e, line_no, &stmt));
                    }
                    exit_code = 1;
                    if stop {
                        break;
                    }
                }
            }
        }
        if self.console.stopped() {
            CTRL_C_EXIT
        } else {
            exit_code
        }
    }

    fn statement(&mut self, stmt: &str) -> Result<Flow, PsError> {
        let (first, rest) = stmt.split_once(char::is_whitespace).unwrap_or((stmt, ""));
        let keyword = first.to_ascii_lowercase();
        if keyword == "exit" {
            let code = if rest.trim().is_empty() {
                0
            } else {
                let v = self.expression(rest.trim())?;
                v.int().ok_or_else(|| {
                    PsError::unsupported(&format!("exit with the value {}", v.text()))
                })?
            };
            return Ok(Flow::Exit(i32::try_from(code).unwrap_or(1)));
        }
        if keyword == "throw" {
            let message = if rest.trim().is_empty() {
                "ScriptHalted".to_owned()
            } else {
                self.expression(rest.trim())?.text()
            };
            let mut e = PsError::new(
                "",
                message.clone(),
                format!("OperationStopped: ({message}:String) [], RuntimeException"),
                &message,
            );
            e.command = message;
            e.reach = Reach::Script;
            return Err(e);
        }
        let keyword = keyword.trim_end_matches(['(', '{']);
        if UNSUPPORTED_KEYWORDS.contains(&keyword) {
            return Err(PsError::unsupported(keyword));
        }
        if let Some((name, rhs)) = assignment(stmt) {
            let value = self.pipeline(rhs)?;
            self.assign(name, value);
            return Ok(Flow::Next);
        }
        let value = self.pipeline(stmt)?;
        self.emit(&value);
        Ok(Flow::Next)
    }

    fn assign(&mut self, name: &str, value: Value) {
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("env:") {
            let value = (!matches!(value, Value::Null)).then(|| value.text());
            self.ctx.set_var(&name[4..], value);
            return;
        }
        if lower == "null" {
            return;
        }
        if lower == "erroractionpreference" {
            self.stop_on_error = value.text().eq_ignore_ascii_case("stop");
        }
        self.vars.insert(lower, value);
    }

    /// A statement that is not an assignment: a command or an expression.
    fn pipeline(&mut self, src: &str) -> Result<Value, PsError> {
        let src = src.trim();
        let stages = scan::split_top(src, |c| c == '|')
            .ok_or_else(|| PsError::parse(src, "A string or bracket does not close."))?;
        if stages.len() > 1 {
            return Err(PsError::unsupported("pipelines"));
        }
        let starts_expression = src.starts_with(['$', '(', '[', '@'])
            || src.starts_with(|c: char| c.is_ascii_digit())
            || src.starts_with(scan::is_single_quote)
            || src.starts_with(scan::is_double_quote)
            || (src.starts_with('-') && src[1..].starts_with(|c: char| c.is_ascii_digit()));
        if starts_expression {
            self.expression(src)
        } else if src.starts_with(['&', '.']) {
            Err(PsError::unsupported("the call and dot-source operators"))
        } else {
            self.command(src)
        }
    }

    fn emit(&mut self, value: &Value) {
        let text = value.display(self.host);
        self.console.out(text.as_bytes());
    }

    fn variable(&self, name: &str) -> Value {
        let lower = name.to_ascii_lowercase();
        if let Some(var) = lower.strip_prefix("env:") {
            return match var {
                "computername" => Value::Str(self.host.hostname.clone()),
                "username" => Value::Str(self.ctx.user.clone()),
                "userdomain" => Value::Str(self.host.user_domain().to_owned()),
                _ => self
                    .ctx
                    .var(var)
                    .map_or(Value::Null, |v| Value::Str(v.to_owned())),
            };
        }
        match lower.as_str() {
            "psversiontable" => Value::VersionTable,
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            "pwd" => Value::Location(self.location.clone()),
            "home" => Value::Str(format!("C:\\Users\\{}", self.ctx.user)),
            _ => self.vars.get(&lower).cloned().unwrap_or(Value::Null),
        }
    }
}

/// `$name = rhs` (also `$env:NAME`), not `$a == b`.
fn assignment(stmt: &str) -> Option<(&str, &str)> {
    let rest = stmt.strip_prefix('$')?;
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(rest.len());
    let name = &rest[..end];
    let rhs = rest[end..].trim_start().strip_prefix('=')?;
    (!name.is_empty() && !rhs.starts_with('=')).then_some((name, rhs.trim()))
}

#[cfg(test)]
mod tests;
