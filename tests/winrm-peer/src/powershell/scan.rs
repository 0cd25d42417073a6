//! Lexical scanning: where strings, brackets and statements end.
//!
//! PowerShell treats the typographic quotes as quotes too: `'` and
//! U+2018–U+201B open and close single-quoted strings, `"` and U+201C–U+201E
//! double-quoted ones; a quote doubled inside a string stands for itself,
//! and in a double-quoted string a backtick escapes the next character.

pub(super) fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

pub(super) fn is_double_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\u{201E}')
}

/// The byte index just past the string that opens at `start`; `None` when
/// it never closes.
pub(super) fn string_end(s: &str, start: usize) -> Option<usize> {
    let mut chars = s[start..].char_indices().map(|(i, c)| (start + i, c));
    let (_, open) = chars.next()?;
    let single = is_single_quote(open);
    let quote = |c: char| {
        if single {
            is_single_quote(c)
        } else {
            is_double_quote(c)
        }
    };
    let mut chars = chars.peekable();
    while let Some((i, c)) = chars.next() {
        if !single && c == '`' {
            chars.next();
        } else if !single && c == '$' && s[i..].starts_with("$(") {
            let close = bracket_end(s, i + 1)?;
            while chars.peek().is_some_and(|(j, _)| *j < close) {
                chars.next();
            }
        } else if quote(c) {
            match chars.peek() {
                Some((_, n)) if quote(*n) => {
                    chars.next();
                }
                _ => return Some(i + c.len_utf8()),
            }
        }
    }
    None
}

/// The byte index just past the bracket closing the one (`(`, `{` or `[`)
/// at `open`, skipping strings and nested brackets.
pub(super) fn bracket_end(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0_i32;
    let mut i = open;
    while i < s.len() {
        let c = s[i..].chars().next()?;
        if is_single_quote(c) || is_double_quote(c) {
            i = string_end(s, i)?;
            continue;
        }
        match c {
            '(' | '{' | '[' => depth += 1,
            ')' | '}' | ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += c.len_utf8();
    }
    None
}

/// Splits where `sep` matches outside strings and brackets; also drops
/// `#` comments (a `#` that starts a word) up to the end of their line.
/// Returns each part with the byte offset it starts at, or `None` when a
/// string or bracket does not close.
pub(super) fn split_top(s: &str, sep: impl Fn(char) -> bool) -> Option<Vec<(usize, String)>> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    let mut i = 0;
    let mut word_start = true;
    while i < s.len() {
        let c = s[i..].chars().next()?;
        let next = if is_single_quote(c) || is_double_quote(c) {
            string_end(s, i)?
        } else if matches!(c, '(' | '{' | '[') {
            bracket_end(s, i)?
        } else if c == '#' && word_start {
            i = s[i..].find('\n').map_or(s.len(), |n| i + n);
            continue;
        } else if sep(c) {
            parts.push((start, std::mem::take(&mut current)));
            i += c.len_utf8();
            start = i;
            word_start = true;
            continue;
        } else {
            i + c.len_utf8()
        };
        current.push_str(&s[i..next]);
        word_start = c.is_whitespace();
        i = next;
    }
    parts.push((start, current));
    Some(parts)
}

/// The statements of a script, with their line numbers.
pub(super) fn statements(script: &str) -> Result<Vec<(usize, String)>, String> {
    let parts = split_top(script, |c| c == ';' || c == '\n').ok_or_else(|| {
        "The string is missing the terminator, or a bracket does not close.".to_owned()
    })?;
    Ok(parts
        .into_iter()
        .map(|(at, text)| {
            (
                script[..at].matches('\n').count() + 1,
                text.trim().to_owned(),
            )
        })
        .filter(|(_, text)| !text.is_empty())
        .collect())
}

/// The text of a single-quoted string literal (without its quotes).
pub(super) fn single_quoted(inner: &str) -> String {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if is_single_quote(c) && chars.peek().is_some_and(|n| is_single_quote(*n)) {
            chars.next();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_outside_strings_and_brackets() {
        let s =
            "$a = 'x; y' ; Write-Output \"q`\"; $(1; 2)\"\n# note\n(Get-Location).Path # tail\r\n";
        let got = statements(s).unwrap();
        let texts: Vec<&str> = got.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "$a = 'x; y'",
                "Write-Output \"q`\"; $(1; 2)\"",
                "(Get-Location).Path"
            ]
        );
        assert_eq!(got[2].0, 3);
        assert!(statements("Write-Output 'open").is_err());
    }

    #[test]
    fn typographic_quotes_close_and_double() {
        let s = "'it\u{2019}\u{2019}s' + 1";
        assert_eq!(string_end(s, 0), Some(s.find(" +").unwrap()));
        assert_eq!(single_quoted("it''s \u{2019}\u{2019}"), "it's \u{2019}");
    }
}
