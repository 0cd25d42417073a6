//! Where a command template puts its values, checked against how the
//! worker quotes them.
//!
//! The worker renders every `{{ … }}` of a command as one quoted word: a
//! POSIX shell word `'…'` for `ssh.exec` and `local.exec` (`command`), a
//! PowerShell literal `'…'` for `winrm.exec` `script`, a `"…"` word for
//! `winrm.exec` `command` (cmd). That quoting only holds where a bare word
//! stands. Inside `"…"` a shell still expands `$(…)` in the value; inside
//! `'…'` the value's own quoting ends the quotes; in a comment a line break
//! in the value ends the comment; and so on. So each command is read with a
//! small lexer of its language (over the template's literal text, with each
//! `{{ … }}` as a placeholder and `{% … %}` tags inserting nothing; each
//! branch of an `{% if %}` and the body of a `{% for %}` from the state
//! before it) and a value in any other place is refused, with a fix.
//!
//! Refused: in a shell command, `'…'`, `$'…'`, `"…"`, backticks, `$((…))`,
//! `${…}`, a here-document (its delimiter or body), a `#` comment, right
//! after `\` or `$`; in PowerShell, `'…'`, `"…"`, here-strings `@"…"@` and
//! `@'…'@`, `${…}`, comments (`#`, `<# … #>`), right after a backtick or `$`,
//! after `--%`; in cmd, `"…"` and right after `^`. A command substitution
//! `$(…)` (and a PowerShell subexpression) is code: a value directly in it
//! is a quoted word as anywhere else in code, so it is accepted.

mod cmd;
mod powershell;
mod shell;

use super::syntax::{self, Piece, Token};

/// A command language whose interpolated values the worker quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// POSIX shell (`ssh.exec`, `local.exec`: `command`).
    Shell,
    /// PowerShell (`winrm.exec`: `script`).
    PowerShell,
    /// `cmd.exe` (`winrm.exec`: `command`).
    Cmd,
}

/// The language of `with.<key>` of a `step_type` step, when its values are
/// quoted for one. Workers quote exactly these (a test there keeps the two
/// in step).
pub fn language_of(step_type: &str, key: &str) -> Option<Language> {
    match (step_type, key) {
        ("ssh.exec" | "local.exec", "command") => Some(Language::Shell),
        ("winrm.exec", "script") => Some(Language::PowerShell),
        ("winrm.exec", "command") => Some(Language::Cmd),
        _ => None,
    }
}

/// Every value `source` inserts where `language` would not read it as one
/// quoted word, each with a fix. Empty when all are safe.
pub fn check_quoting(language: Language, source: &str) -> Vec<String> {
    let units = match units(source) {
        Ok(u) => u,
        Err(e) => return vec![format!("the quoting check cannot read this template ({e})")],
    };
    let (found, flow) = match language {
        Language::Shell => scan(shell::Shell::default(), &units),
        Language::PowerShell => scan(powershell::PowerShell::default(), &units),
        Language::Cmd => scan(cmd::Cmd::default(), &units),
    };
    let mut out: Vec<String> = found.iter().map(|f| message(f.value, f.context)).collect();
    out.extend(flow);
    out.dedup();
    out
}

/// One step of a template as a lexer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit<'s> {
    /// A character of literal text.
    Char(char),
    /// A `{{ … }}`, as written.
    Value(&'s str),
    /// A tag that branches or repeats.
    Flow(Flow, &'s str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flow {
    If,
    Elif,
    Else,
    EndIf,
    For,
    EndFor,
}

/// A value found in a place where its quoting does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Found<'s> {
    pub(super) value: &'s str,
    pub(super) context: Context,
}

/// The places a value is refused in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Context {
    SingleQuotes,
    AnsiC,
    DoubleQuotes,
    Backticks,
    Arithmetic,
    Parameter,
    HereDoc,
    Comment,
    AfterBackslash,
    AfterDollar,
    PsSingle,
    PsDouble,
    PsHereString,
    PsVariable,
    PsComment,
    PsAfterBacktick,
    PsAfterDollar,
    PsStopParsing,
    CmdQuotes,
    CmdAfterCaret,
    CmdLeadingQuote,
}

/// A lexer of one language, fed one unit at a time. Its whole state is the
/// value, so a branch can start from a copy.
pub(super) trait Scanner<'s>: Clone {
    fn feed(&mut self, unit: Unit<'s>, found: &mut Vec<Found<'s>>);
    /// Settles what only the next character would decide, where the answer
    /// does not change the context, before a branch starts or joins.
    fn settle(&mut self) {}
    /// Joins the state at the end of another path through the template into
    /// this one; false when the two disagree on the quoting context.
    fn join(&mut self, other: &Self) -> bool;
}

fn units(source: &str) -> Result<Vec<Unit<'_>>, syntax::SyntaxError> {
    let mut out = Vec::new();
    for piece in syntax::pieces(source)? {
        match piece {
            Piece::Text(text) => out.extend(text.chars().map(Unit::Char)),
            Piece::Value { source, .. } => out.push(Unit::Value(source)),
            Piece::Tag { source, tokens } => {
                let flow = match tokens.first() {
                    Some(Token::Ident("if")) => Flow::If,
                    Some(Token::Ident("elif")) => Flow::Elif,
                    Some(Token::Ident("else")) => Flow::Else,
                    Some(Token::Ident("endif")) => Flow::EndIf,
                    Some(Token::Ident("for")) => Flow::For,
                    Some(Token::Ident("endfor")) => Flow::EndFor,
                    _ => continue,
                };
                out.push(Unit::Flow(flow, source));
            }
        }
    }
    Ok(out)
}

/// An `if` or `for` being read: the state before it and at the end of each
/// finished path through it.
struct Open<S> {
    looping: bool,
    start: S,
    ends: Vec<S>,
    has_else: bool,
    source: String,
}

fn scan<'s, S: Scanner<'s>>(start: S, units: &[Unit<'s>]) -> (Vec<Found<'s>>, Vec<String>) {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let mut state = start;
    let mut open: Vec<Open<S>> = Vec::new();
    for unit in units {
        let Unit::Flow(flow, source) = *unit else {
            state.feed(*unit, &mut found);
            continue;
        };
        state.settle();
        match flow {
            Flow::If | Flow::For => open.push(Open {
                looping: flow == Flow::For,
                start: state.clone(),
                ends: Vec::new(),
                has_else: false,
                source: syntax::excerpt(source, 40),
            }),
            Flow::Elif | Flow::Else => {
                if let Some(o) = open.last_mut() {
                    o.ends.push(std::mem::replace(&mut state, o.start.clone()));
                    o.has_else |= flow == Flow::Else;
                }
            }
            Flow::EndIf | Flow::EndFor => {
                let Some(mut o) = open.pop() else {
                    continue;
                };
                // A loop may run its body again or not at all; an `if`
                // without `else` may take no branch.
                if o.looping || !o.has_else {
                    o.ends.push(o.start);
                }
                if !o.ends.iter().all(|end| state.join(end)) {
                    problems.push(format!(
                        "the quoting differs between the paths through `{}` (a quote or substitution opened in one branch or loop pass is closed in another): open and close it within each branch",
                        o.source
                    ));
                }
            }
        }
    }
    (found, problems)
}

fn message(value: &str, context: Context) -> String {
    let v = syntax::excerpt(value, 40);
    let (place, fix) = explain(context, &v);
    format!("{v} is {place}: {fix}")
}

fn explain(context: Context, v: &str) -> (&'static str, String) {
    let word = "the value is already quoted as one shell word";
    match context {
        Context::SingleQuotes => (
            "inside single quotes, which the value's own quoting would end",
            format!("move {v} outside the single quotes; {word} ('abc'{v}'def' stays one word)"),
        ),
        Context::AnsiC => (
            "inside $'…', where quotes and backslashes in the value are interpreted",
            format!("move {v} outside the $'…'; {word}"),
        ),
        Context::DoubleQuotes => (
            "inside double quotes, where the shell would still expand a $(…) or `…` in the value",
            format!(
                "move {v} outside the double quotes; {word} (\"abc\"{v}\"def\" stays one word)"
            ),
        ),
        Context::Backticks => (
            "inside backticks, which a backtick in the value would end",
            format!("use $(…) instead of backticks; {v} directly in $(…) is a quoted word"),
        ),
        Context::Arithmetic => (
            "inside $((…)), where a quoted word is not a number",
            format!(
                "declare the parameter as an int (its value is then a bare number), then n={v}; $(( n … )); with a text parameter that is code: bash evaluates a[$(…)] in a variable's text"
            ),
        ),
        Context::Parameter => (
            "inside ${…}",
            format!("set a variable first (v={v}) and use \"$v\" or ${{v}}"),
        ),
        Context::HereDoc => (
            "in a here-document, where it is not a quoted word and its lines could end the document",
            format!(
                "set a variable before the command (v={v}) and write $v in the here-document (with an unquoted delimiter), or pipe it: printf '%s\\n' {v} | …"
            ),
        ),
        Context::Comment => (
            "inside a comment, which a line break in the value would end",
            format!("move {v} out of the comment or remove it"),
        ),
        Context::AfterBackslash => (
            "right after a backslash, which escapes the quote the value starts with",
            "remove the backslash".to_owned(),
        ),
        Context::AfterDollar => (
            "right after $, which turns the value's quotes into $'…'",
            "remove the $ or put a space after it".to_owned(),
        ),
        Context::PsSingle => (
            "inside a single-quoted string, which the value's quote marks would end",
            format!(
                "move {v} outside the quotes and join with +: the value is already a quoted string ('abc' + {v})"
            ),
        ),
        Context::PsDouble => (
            "inside a double-quoted string, where PowerShell would expand $(…) and $variables in the value",
            format!(
                "move {v} outside the quotes and join with + (\"abc \" + {v}), or set a variable first ($v = {v}) and write $v in the string"
            ),
        ),
        Context::PsHereString => (
            "inside a here-string (@\"…\"@ or @'…'@), where it is not quoted",
            format!(
                "set a variable first ($v = {v}) and write $v in an @\"…\"@ here-string, or build the text with + or -f"
            ),
        ),
        Context::PsVariable => (
            "inside ${…}",
            format!("set a variable first ($v = {v}) and use $v"),
        ),
        Context::PsComment => (
            "inside a comment, which a line break (or #>) in the value would end",
            format!("move {v} out of the comment or remove it"),
        ),
        Context::PsAfterBacktick => (
            "right after a backtick, which escapes the quote the value starts with",
            "remove the backtick".to_owned(),
        ),
        Context::PsAfterDollar => (
            "right after $",
            "remove the $ or put a space after it".to_owned(),
        ),
        Context::PsStopParsing => (
            "after --%, where PowerShell passes the rest of the line on unparsed",
            format!("move {v} before --% or drop --%"),
        ),
        Context::CmdQuotes => (
            "inside double quotes, which the value's own quotes would end (cmd has no escape inside quotes)",
            format!("move {v} outside the quotes; the value is already one double-quoted word"),
        ),
        Context::CmdAfterCaret => (
            "right after ^, which escapes the quote the value starts with",
            "remove the ^".to_owned(),
        ),
        Context::CmdLeadingQuote => (
            "in a command line that starts with a quote or a value, whose first and last quotes cmd /c strips (the values are then unquoted)",
            format!("start the line with the program's name, or with call: call {v} …"),
        ),
    }
}

#[cfg(test)]
mod tests;
