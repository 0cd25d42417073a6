//! Expressions: literals, variables, strings with interpolation, `( )` and
//! `$( )`, properties, method calls and static .NET members. Operators
//! (`+`, `-eq`, ...) are not interpreted and are refused.

use super::errors::PsError;
use super::scan;
use super::value::Value;
use super::{Interp, assignment};

/// The byte index where a name (letters, digits, `_`) starting at `at` ends.
pub(super) fn ident_end(s: &str, at: usize) -> usize {
    s[at..]
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map_or(s.len(), |n| at + n)
}

fn unclosed(s: &str) -> PsError {
    PsError::parse(
        s,
        "The string is missing the terminator, or a bracket does not close.",
    )
}

impl Interp<'_> {
    /// A whole expression; anything left over (an operator) is refused.
    pub(super) fn expression(&mut self, src: &str) -> Result<Value, PsError> {
        let src = src.trim();
        let (value, end) = self.operand(src, 0)?;
        let rest = src[end..].trim();
        if rest.is_empty() {
            Ok(value)
        } else {
            Err(PsError::unsupported(&format!("the expression {src}")))
        }
    }

    /// One operand starting at `at`, with its member accesses; the value and
    /// the index just past it.
    pub(super) fn operand(&mut self, s: &str, at: usize) -> Result<(Value, usize), PsError> {
        let (mut value, mut i) = self.primary(s, at)?;
        while s[i..].starts_with('.')
            && s[i + 1..].starts_with(|c: char| c.is_alphabetic() || c == '_')
        {
            let name_end = ident_end(s, i + 1);
            let name = &s[i + 1..name_end];
            if s[name_end..].starts_with('(') {
                let close = scan::bracket_end(s, name_end).ok_or_else(|| unclosed(s))?;
                let args = self.arguments(&s[name_end + 1..close - 1])?;
                value = self.call_method(&value, name, &args)?;
                i = close;
            } else {
                value = value.property(self.host, name);
                i = name_end;
            }
        }
        Ok((value, i))
    }

    fn primary(&mut self, s: &str, at: usize) -> Result<(Value, usize), PsError> {
        let rest = &s[at..];
        let Some(c) = rest.chars().next() else {
            return Err(PsError::parse(s, "An expression was expected."));
        };
        if scan::is_single_quote(c) || scan::is_double_quote(c) {
            let end = scan::string_end(s, at).ok_or_else(|| unclosed(s))?;
            let close = s[..end].chars().next_back().map_or(1, char::len_utf8);
            let inner = &s[at + c.len_utf8()..end - close];
            let text = if scan::is_single_quote(c) {
                scan::single_quoted(inner)
            } else {
                self.interpolate(inner)?
            };
            return Ok((Value::Str(text), end));
        }
        if rest.starts_with("$(") {
            let close = scan::bracket_end(s, at + 1).ok_or_else(|| unclosed(s))?;
            return Ok((self.subexpression(&s[at + 2..close - 1])?, close));
        }
        if let Some(var) = rest.strip_prefix('$') {
            let len = var
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(var.len());
            if len == 0 {
                return Err(PsError::unsupported(&format!("the variable in {s}")));
            }
            return Ok((self.variable(&var[..len]), at + 1 + len));
        }
        if c == '(' {
            let close = scan::bracket_end(s, at).ok_or_else(|| unclosed(s))?;
            let inner = &s[at + 1..close - 1];
            return Ok((self.pipeline(inner)?, close));
        }
        if c == '[' {
            return self.type_member(s, at);
        }
        if c.is_ascii_digit() || (c == '-' && rest[1..].starts_with(|d: char| d.is_ascii_digit())) {
            let end = rest[1..]
                .find(|d: char| !d.is_ascii_digit())
                .map_or(s.len(), |n| at + 1 + n);
            if s[end..].starts_with(|d: char| d.is_alphanumeric() || d == '.') {
                return Err(PsError::unsupported(&format!("the number in {s}")));
            }
            let n = s[at..end]
                .parse()
                .map_err(|_| PsError::unsupported(&format!("the number in {s}")))?;
            return Ok((Value::Int(n), end));
        }
        Err(PsError::unsupported(&format!("the expression {rest}")))
    }

    /// `[Type]::Member` or `[Type]::Method(args)`; casts are refused.
    fn type_member(&mut self, s: &str, at: usize) -> Result<(Value, usize), PsError> {
        let close = scan::bracket_end(s, at).ok_or_else(|| unclosed(s))?;
        let type_name = &s[at + 1..close - 1];
        let Some(after) = s[close..].strip_prefix("::") else {
            return Err(PsError::unsupported(&format!("the cast [{type_name}]")));
        };
        let name_start = close + 2;
        let name_end = ident_end(s, name_start);
        let name = &after[..name_end - name_start];
        if s[name_end..].starts_with('(') {
            let args_end = scan::bracket_end(s, name_end).ok_or_else(|| unclosed(s))?;
            let args = self.arguments(&s[name_end + 1..args_end - 1])?;
            Ok((self.call_static(type_name, name, Some(args))?, args_end))
        } else {
            Ok((self.call_static(type_name, name, None)?, name_end))
        }
    }

    /// Comma-separated method arguments.
    fn arguments(&mut self, src: &str) -> Result<Vec<Value>, PsError> {
        if src.trim().is_empty() {
            return Ok(Vec::new());
        }
        let parts = scan::split_top(src, |c| c == ',').ok_or_else(|| unclosed(src))?;
        parts
            .iter()
            .map(|(_, part)| self.expression(part))
            .collect()
    }

    /// `$( ... )`: its statements' output, one value or a list.
    fn subexpression(&mut self, src: &str) -> Result<Value, PsError> {
        let statements = scan::statements(src).map_err(|m| PsError::parse(src, &m))?;
        let mut out = Vec::new();
        for (_, stmt) in statements {
            if let Some((name, rhs)) = assignment(&stmt) {
                let v = self.pipeline(rhs)?;
                self.assign(name, v);
            } else {
                match self.pipeline(&stmt)? {
                    Value::Null => {}
                    Value::List(items) => out.extend(items),
                    v => out.push(v),
                }
            }
        }
        Ok(match out.len() {
            0 => Value::Null,
            1 => out.remove(0),
            _ => Value::List(out),
        })
    }

    /// The text of a double-quoted string: `` ` `` escapes, `$var`,
    /// `$env:NAME`, `$( )`, and a doubled quote for itself.
    fn interpolate(&mut self, s: &str) -> Result<String, PsError> {
        let mut out = String::new();
        let mut i = 0;
        while let Some(c) = s[i..].chars().next() {
            let next = i + c.len_utf8();
            if c == '`' {
                let Some(e) = s[next..].chars().next() else {
                    break;
                };
                out.push(match e {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    '0' => '\0',
                    other => other,
                });
                i = next + e.len_utf8();
            } else if s[i..].starts_with("$(") {
                let close = scan::bracket_end(s, i + 1).ok_or_else(|| unclosed(s))?;
                out.push_str(&self.subexpression(&s[i + 2..close - 1])?.text());
                i = close;
            } else if c == '$' && s[next..].starts_with(|n: char| n.is_alphanumeric() || n == '_') {
                let len = s[next..]
                    .find(|n: char| !(n.is_alphanumeric() || n == '_' || n == ':'))
                    .unwrap_or(s.len() - next);
                out.push_str(&self.variable(&s[next..next + len]).text());
                i = next + len;
            } else if scan::is_double_quote(c) {
                // Only a doubled quote can be inside: it stands for one.
                out.push(c);
                i = next + s[next..].chars().next().map_or(0, char::len_utf8);
            } else {
                out.push(c);
                i = next;
            }
        }
        Ok(out)
    }

    fn call_method(
        &mut self,
        target: &Value,
        name: &str,
        args: &[Value],
    ) -> Result<Value, PsError> {
        if let Value::Stream(index) = target {
            return self.stream_method(*index, name, args);
        }
        if let Some(v) = target.pure_method(name).filter(|_| args.is_empty()) {
            return Ok(v);
        }
        if matches!(target, Value::Null) {
            return Err(PsError::new(
                name,
                "You cannot call a method on a null-valued expression.".into(),
                "InvalidOperation: (:) [], RuntimeException".into(),
                "InvokeMethodOnNull",
            ));
        }
        Err(PsError::no_method(target.type_name(), name))
    }
}
