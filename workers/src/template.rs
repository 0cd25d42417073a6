//! Step templates: renders the strings of a step's `with` and evaluates its
//! `when`, with minijinja, in a sandbox.
//!
//! Templates see `params` (also each parameter by its bare name), `steps`
//! (results of earlier steps), `target`, `run` and `job`. The sandbox has no
//! loader (no includes or imports), no environment access, a fuel limit so a
//! loop cannot run forever, strict undefined variables, and a cap on the
//! rendered size.
//!
//! Nothing a template builds is unbounded either. Before rendering, the
//! template must pass the size rules of `opsc_proto::job_check::bounds`
//! (the same the api applies when a job is saved): no capturing blocks, no
//! `~`/`+`/slicing where a result is kept, `*` only on numbers, no growing
//! structures. Its filters and functions are bounded versions
//! ([`bounded`]): one text at most [`MAX_STRING_BYTES`], all of them
//! together at most [`MAX_BUILT_BYTES`] per render; text is joined where it
//! is kept with `concat(a, b, …)`. A template over a limit fails with
//! [`TemplateError::Limit`] at once, before it allocates.
//!
//! Quoting is done by the engine's formatter, not afterwards: with
//! [`Quoting::Shell`] every interpolated value is emitted single-quoted, so a
//! parameter like `x; touch /tmp/pwned` stays one word. There is deliberately
//! no way for a template to switch this off. That only holds where a word
//! stands, so a command template that puts a value inside quotes, a
//! comment, a here-document and the like is refused
//! ([`TemplateError::Refused`], `opsc_proto::job_check::quoting`), as it is
//! when the job is saved.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use minijinja::value::{Value as JValue, ValueKind};
use minijinja::{AutoEscape, Environment, ErrorKind, Output, State, UndefinedBehavior};
use opsc_proto::job_check::bounds::{self, Kind};
use opsc_proto::job_check::quoting::{self, Language};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use opsc_proto::job_check::bounds::{MAX_BUILT_BYTES, MAX_STRING_BYTES};

mod bounded;

use bounded::{Budget, Capped};

/// Instructions a render or evaluation may execute.
pub const FUEL: u64 = 500_000;

/// Largest rendered output, in bytes.
pub const MAX_OUTPUT_BYTES: usize = 1024 * 1024;

/// Shortest secret [`redact`] replaces; shorter ones would mask too much.
pub const MIN_SECRET_LEN: usize = 3;

/// Shortest line of a multi-line secret replaced on its own (shorter lines
/// such as `}` or `EOF` are too common to mask).
pub const MIN_LINE_SECRET_LEN: usize = 8;

/// Names of the context roots; parameters cannot shadow them.
const ROOTS: [&str; 5] = ["params", "steps", "target", "run", "job"];

/// What a template sees.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplateContext {
    /// Parameter values by name (also reachable by bare name).
    pub params: BTreeMap<String, Value>,
    /// Results of the steps that ran before, by step id.
    pub steps: BTreeMap<String, StepResult>,
    /// The target the step runs on: id, name, hostname, os_type, tags,
    /// metadata, facts. `None` for steps that address no target.
    pub target: Option<Value>,
    /// The run: id, trigger, started_at.
    pub run: Value,
    /// The job: id, name, version.
    pub job: Value,
}

/// The outcome of one earlier step, as templates see it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
    /// Its exit code, when it had one.
    pub exit_code: Option<i32>,
    /// Its final status, e.g. `succeeded`.
    pub status: String,
    /// `stdout` parsed as JSON, when it is JSON.
    pub json: Option<Value>,
}

impl StepResult {
    /// A result whose `json` is `stdout` parsed, when that parses.
    pub fn new(stdout: String, stderr: String, exit_code: Option<i32>, status: String) -> Self {
        let json = serde_json::from_str(stdout.trim()).ok();
        Self {
            stdout,
            stderr,
            exit_code,
            status,
            json,
        }
    }
}

/// How interpolated values are quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quoting {
    /// As they are (for text that no shell interprets).
    None,
    /// POSIX shell: `'…'`, a `'` inside as `'\''`.
    Shell,
    /// PowerShell: `'…'`, a single quote inside doubled.
    PowerShell,
    /// A `cmd.exe` command line: `"…"`. cmd has no escape that works inside
    /// quotes, so a value holding `"`, `%`, `!`, a line break or NUL is
    /// refused; backslashes before the closing quote are doubled so that
    /// programs parsing their arguments the Microsoft C way see them as
    /// written.
    Cmd,
    /// HTML text: `&`, `<`, `>`, `"` and `'` as entities, so a value
    /// (step output, a parameter) cannot add markup to a message body.
    Html,
}

/// Why a template could not be rendered or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The template or expression does not parse.
    #[error("template syntax: {0}")]
    Syntax(String),
    /// It uses a variable or attribute that does not exist.
    #[error("undefined value: {0}")]
    Undefined(String),
    /// It ran too many instructions (a loop too long?).
    #[error("template ran out of fuel after {FUEL} instructions")]
    OutOfFuel,
    /// The rendered text would be larger than [`MAX_OUTPUT_BYTES`].
    #[error("rendered template exceeds {MAX_OUTPUT_BYTES} bytes")]
    TooLarge,
    /// It would build a text or structure over a limit
    /// ([`MAX_STRING_BYTES`], [`MAX_BUILT_BYTES`]); stopped before that.
    #[error("template limit: {0}")]
    Limit(String),
    /// It breaks a size rule, or a command template puts a value where its
    /// quoting does not hold; the message says how to write it.
    #[error("template refused: {0}")]
    Refused(String),
    /// Anything else the engine reported while rendering.
    #[error("template: {0}")]
    Render(String),
}

impl From<minijinja::Error> for TemplateError {
    fn from(e: minijinja::Error) -> Self {
        match e.kind() {
            ErrorKind::SyntaxError | ErrorKind::BadEscape => Self::Syntax(e.to_string()),
            ErrorKind::UndefinedError | ErrorKind::UnknownFilter | ErrorKind::UnknownTest => {
                Self::Undefined(e.to_string())
            }
            ErrorKind::OutOfFuel => Self::OutOfFuel,
            _ => Self::Render(e.to_string()),
        }
    }
}

/// Renders `template` against `ctx`, quoting every interpolated value.
pub fn render(
    template: &str,
    ctx: &TemplateContext,
    quoting: Quoting,
) -> Result<String, TemplateError> {
    let budget = Arc::new(Budget::default());
    let env = sandbox(quoting, &budget);
    // Nothing too deep reaches the engine (it would overflow the stack);
    // then a syntax error is reported as the engine words it, before the rules.
    bounds::check_size(template, false).map_err(TemplateError::Refused)?;
    let tmpl = env.template_from_str(template)?;
    let mut problems = bounds::check_template(template, &|name| param_kind(ctx, name));
    if let Some(language) = quoting.language() {
        problems.extend(quoting::check_quoting(language, template));
    }
    refuse(&problems)?;
    let mut out = Sink::default();
    match tmpl.render_captured_to(root(ctx), &mut out) {
        Ok(_) => String::from_utf8(out.buf).map_err(|e| TemplateError::Render(e.to_string())),
        Err(_) if out.overflowed => Err(TemplateError::TooLarge),
        Err(e) => Err(limit(&budget, e)),
    }
}

/// Evaluates a `when` expression against `ctx`: is it true?
pub fn eval_condition(expr: &str, ctx: &TemplateContext) -> Result<bool, TemplateError> {
    let budget = Arc::new(Budget::default());
    let env = sandbox(Quoting::None, &budget);
    bounds::check_size(expr, true).map_err(TemplateError::Refused)?;
    let compiled = env.compile_expression(expr)?;
    refuse(&bounds::check_expression(expr, &|name| {
        param_kind(ctx, name)
    }))?;
    let value = compiled.eval(root(ctx)).map_err(|e| limit(&budget, e))?;
    if value.is_undefined() {
        return Err(TemplateError::Undefined(format!(
            "the expression '{expr}' is undefined"
        )));
    }
    Ok(value.is_true())
}

/// Replaces every occurrence of each secret (of at least [`MIN_SECRET_LEN`]
/// bytes) in `text` with `***`, including its shell- and PowerShell-quoted
/// forms. Longer secrets go first, so no part of one is left showing.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    needles(secrets)
        .iter()
        .fold(text.to_owned(), |acc, needle| {
            acc.replace(needle.as_str(), "***")
        })
}

/// Every form of `secrets` [`redact`] looks for, longest first: each value
/// as it is, shell- and PowerShell-quoted, base64 (standard, with and
/// without padding, and URL-safe), hex (both cases) and URL-encoded, and
/// each line of a multi-line value on its own (output is redacted line by
/// line). Forms shorter than [`MIN_SECRET_LEN`] are left out.
pub fn needles(secrets: &[&str]) -> Vec<String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let mut values: Vec<&str> = Vec::new();
    for s in secrets.iter().filter(|s| s.len() >= MIN_SECRET_LEN) {
        values.push(s);
        if s.contains('\n') {
            values.extend(
                s.lines()
                    .map(|l| l.trim_end_matches('\r'))
                    .filter(|l| l.trim().len() >= MIN_LINE_SECRET_LEN),
            );
        }
    }
    let mut needles: Vec<String> = values
        .iter()
        .flat_map(|s| {
            let shell = s.replace('\'', r"'\''");
            let mut ps = String::new();
            push_powershell_escaped(&mut ps, s);
            let bytes = s.as_bytes();
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let url: String = bytes
                .iter()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(b) {
                        char::from(*b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            [
                (*s).to_owned(),
                shell,
                ps,
                STANDARD.encode(bytes),
                STANDARD_NO_PAD.encode(bytes),
                URL_SAFE_NO_PAD.encode(bytes),
                hex.to_uppercase(),
                hex,
                url,
            ]
        })
        .filter(|n| n.len() >= MIN_SECRET_LEN)
        .collect();
    needles.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    needles.dedup();
    needles
}

impl Quoting {
    /// The command language this quoting is for.
    fn language(self) -> Option<Language> {
        match self {
            Self::None | Self::Html => None,
            Self::Shell => Some(Language::Shell),
            Self::PowerShell => Some(Language::PowerShell),
            Self::Cmd => Some(Language::Cmd),
        }
    }
}

/// What a parameter holds at render time, for the size rules: a number,
/// a boolean or nothing can never be text.
fn param_kind(ctx: &TemplateContext, name: &str) -> Kind {
    match ctx.params.get(name) {
        Some(Value::Number(_) | Value::Null) => Kind::Number,
        Some(Value::Bool(_)) => Kind::Bool,
        _ => Kind::Other,
    }
}

fn refuse(problems: &[String]) -> Result<(), TemplateError> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(TemplateError::Refused(problems.join("; ")))
    }
}

/// The error of a render that stopped: the limit it hit, if it hit one.
fn limit(budget: &Budget, e: minijinja::Error) -> TemplateError {
    match budget.exceeded() {
        Some(message) => TemplateError::Limit(message.to_owned()),
        None => e.into(),
    }
}

/// A fresh environment: bounded filters and functions, default tests, no
/// loader, strict undefined, fuel, and `quoting` applied to every
/// interpolation.
fn sandbox(quoting: Quoting, budget: &Arc<Budget>) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    // A file's content (`with.content`) keeps its last line end.
    env.set_keep_trailing_newline(true);
    // `debug()` would dump the whole context, secrets included.
    env.remove_global("debug");
    env.set_auto_escape_callback(|_| AutoEscape::None);
    bounded::install(&mut env, budget);
    let budget = Arc::clone(budget);
    env.set_formatter(move |out, state, value| format_value(out, state, value, quoting, &budget));
    env
}

/// The context as templates see it: the roots, plus each parameter by name.
fn root(ctx: &TemplateContext) -> JValue {
    let mut map: BTreeMap<&str, JValue> = ctx
        .params
        .iter()
        .filter(|(k, _)| !ROOTS.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), JValue::from_serialize(v)))
        .collect();
    map.insert("params", JValue::from_serialize(&ctx.params));
    map.insert("steps", JValue::from_serialize(&ctx.steps));
    map.insert("target", JValue::from_serialize(&ctx.target));
    map.insert("run", JValue::from_serialize(&ctx.run));
    map.insert("job", JValue::from_serialize(&ctx.job));
    JValue::from_serialize(map)
}

/// The formatter: emits one interpolated value. It ignores the template's
/// auto-escape state and `|safe` marks on purpose: nothing turns quoting off.
fn format_value(
    out: &mut Output<'_>,
    _state: &State<'_, '_>,
    value: &JValue,
    quoting: Quoting,
    budget: &Budget,
) -> Result<(), minijinja::Error> {
    let text = match value.kind() {
        ValueKind::Undefined | ValueKind::None => String::new(),
        // Numbers and booleans cannot break out of a command: unquoted.
        ValueKind::Bool => {
            let word = if value.is_true() { "true" } else { "false" };
            return out.write_str(word).map_err(write_failed);
        }
        ValueKind::Number => return write!(out, "{value}").map_err(write_failed),
        // Printed into a capped buffer: a large structure stops at the cap
        // instead of being turned into text whole first.
        _ => Capped::text(value, MAX_OUTPUT_BYTES).ok_or_else(|| {
            budget.fail(format!(
                "a value printed here is longer than {MAX_OUTPUT_BYTES} bytes"
            ))
        })?,
    };
    let quoted = match quoting {
        Quoting::None => text,
        Quoting::Shell => shell_quote(&text),
        Quoting::PowerShell => powershell_quote(&text),
        Quoting::Html => html_escape(&text),
        Quoting::Cmd => {
            cmd_quote(&text).map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e))?
        }
    };
    out.write_str(&quoted).map_err(write_failed)
}

/// `text` with the HTML special characters as entities.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` as one POSIX shell word (single-quoted, `'` as `'\''`).
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `text` as a PowerShell single-quoted string literal.
pub fn powershell_quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('\'');
    push_powershell_escaped(&mut quoted, text);
    quoted.push('\'');
    quoted
}

/// `text` as one double-quoted `cmd.exe` word, or why it cannot be one.
/// The error never repeats the value (it may be a secret).
pub fn cmd_quote(text: &str) -> Result<String, &'static str> {
    if text.contains(['"', '%', '!', '\r', '\n', '\0']) {
        return Err(
            "a value with \", %, !, or a line break cannot be quoted safely for cmd; use with.script (PowerShell) or pass it in with.env",
        );
    }
    let trailing = text.len() - text.trim_end_matches('\\').len();
    Ok(format!("\"{text}{}\"", "\\".repeat(trailing)))
}

/// PowerShell ends a single-quoted string at any of these quote marks; each
/// is escaped by doubling it.
fn push_powershell_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
}

fn write_failed(_: std::fmt::Error) -> minijinja::Error {
    minijinja::Error::new(ErrorKind::WriteFailure, "formatting failed")
}

/// An output buffer that refuses to grow beyond [`MAX_OUTPUT_BYTES`].
#[derive(Debug, Default)]
struct Sink {
    buf: Vec<u8>,
    overflowed: bool,
}

impl io::Write for Sink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() + data.len() > MAX_OUTPUT_BYTES {
            self.overflowed = true;
            return Err(io::Error::other("rendered output too large"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod limit_tests;
#[cfg(test)]
mod tests;
