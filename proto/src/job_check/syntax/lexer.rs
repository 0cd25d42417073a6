//! Splits template source into text, `{{ … }}` and `{% … %}` pieces, and a
//! tag's inside into tokens, as minijinja's tokenizer does (default
//! delimiters, no `lstrip_blocks` or `trim_blocks`).

use super::SyntaxError;

/// One piece of a template, in source order. Comments are dropped.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Piece<'s> {
    /// Literal text as it renders (whitespace control applied); the content
    /// of a `{% raw %}` block too.
    Text(&'s str),
    /// `{{ … }}`: a value inserted here.
    Value {
        /// The tag as written, delimiters included.
        source: &'s str,
        /// Its expression.
        tokens: Vec<Token<'s>>,
    },
    /// `{% … %}`: a statement; it inserts no value itself.
    Tag {
        /// The tag as written, delimiters included.
        source: &'s str,
        /// Its keyword and expressions.
        tokens: Vec<Token<'s>>,
    },
}

/// A token inside a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token<'s> {
    /// A name or keyword.
    Ident(&'s str),
    /// A string literal, as written between its quotes (escapes unprocessed,
    /// so its length bounds the value's).
    Str(&'s str),
    /// An integer literal.
    Int(u128),
    /// A float literal.
    Float,
    /// An operator or punctuation mark.
    Op(&'static str),
}

/// Splits `source` into pieces.
pub(crate) fn pieces(source: &str) -> Result<Vec<Piece<'_>>, SyntaxError> {
    let mut lexer = Lexer {
        src: source,
        pos: 0,
        trim_next: false,
        out: Vec::new(),
    };
    lexer.run()?;
    Ok(lexer.out)
}

/// The tokens of a standalone expression (a `when`).
pub(crate) fn tokens(source: &str) -> Result<Vec<Token<'_>>, SyntaxError> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut balance = 0_i64;
    while let Some(skip) = source[pos..].find(|c: char| !c.is_ascii_whitespace()) {
        pos += skip;
        let (token, len) = token(&source[pos..], &mut balance)?;
        out.push(token);
        pos += len;
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Value,
    Tag,
    Comment,
}

struct Lexer<'s> {
    src: &'s str,
    pos: usize,
    /// The last tag ended with `-`: strip the whitespace that follows it.
    trim_next: bool,
    out: Vec<Piece<'s>>,
}

impl<'s> Lexer<'s> {
    fn run(&mut self) -> Result<(), SyntaxError> {
        while self.pos < self.src.len() {
            let Some((at, marker)) = next_marker(self.src, self.pos) else {
                self.text(self.pos, self.src.len(), false);
                break;
            };
            let flag = self.src.as_bytes().get(at + 2).copied();
            let open = 2 + usize::from(matches!(flag, Some(b'-' | b'+')));
            self.text(self.pos, at, flag == Some(b'-'));
            self.pos = at + open;
            match marker {
                Marker::Comment => self.comment()?,
                Marker::Tag if self.raw()? => {}
                Marker::Tag | Marker::Value => self.tag(at, marker)?,
            }
        }
        Ok(())
    }

    fn text(&mut self, start: usize, end: usize, strip_end: bool) {
        let mut text = &self.src[start..end];
        if std::mem::take(&mut self.trim_next) {
            text = text.trim_start();
        }
        if strip_end {
            text = text.trim_end();
        }
        if !text.is_empty() {
            self.out.push(Piece::Text(text));
        }
    }

    fn comment(&mut self) -> Result<(), SyntaxError> {
        let rest = &self.src[self.pos..];
        let end = rest
            .find("#}")
            .ok_or_else(|| SyntaxError::new("unexpected end of comment"))?;
        self.trim_next = end > 0 && rest.as_bytes().get(end - 1) == Some(&b'-');
        self.pos += end + 2;
        Ok(())
    }

    /// A `{% raw %}` block at the position: its content is text.
    fn raw(&mut self) -> Result<bool, SyntaxError> {
        let Some((len, strip_start)) = basic_tag(&self.src[self.pos..], "raw", false) else {
            return Ok(false);
        };
        let start = self.pos + len;
        let mut from = start;
        while let Some(found) = self.src[from..].find("{%") {
            let block = from + found;
            let after = &self.src[block + 2..];
            if let Some((end_len, strip_next)) = basic_tag(after, "endraw", true) {
                let mut text = &self.src[start..block];
                if strip_start {
                    text = text.trim_start();
                }
                if after.starts_with('-') {
                    text = text.trim_end();
                }
                if !text.is_empty() {
                    self.out.push(Piece::Text(text));
                }
                self.trim_next = strip_next;
                self.pos = block + 2 + end_len;
                return Ok(true);
            }
            from = block + 2;
        }
        Err(SyntaxError::new("unexpected end of raw block"))
    }

    fn tag(&mut self, at: usize, marker: Marker) -> Result<(), SyntaxError> {
        let close = if marker == Marker::Tag { "%}" } else { "}}" };
        let mut tokens = Vec::new();
        let mut balance = 0_i64;
        loop {
            let rest = &self.src[self.pos..];
            let Some(skip) = rest.find(|c: char| !c.is_ascii_whitespace()) else {
                return Err(SyntaxError::new("unexpected end of template inside a tag"));
            };
            self.pos += skip;
            let rest = &self.src[self.pos..];
            if balance == 0 {
                let flagged = rest.starts_with(['-', '+']) && rest[1..].starts_with(close);
                if flagged || rest.starts_with(close) {
                    self.trim_next = flagged && rest.starts_with('-');
                    self.pos += 2 + usize::from(flagged);
                    let source = &self.src[at..self.pos];
                    self.out.push(if marker == Marker::Tag {
                        Piece::Tag { source, tokens }
                    } else {
                        Piece::Value { source, tokens }
                    });
                    return Ok(());
                }
            }
            let (token, len) = token(rest, &mut balance)?;
            tokens.push(token);
            self.pos += len;
        }
    }
}

/// The next `{{`, `{%` or `{#` at or after `from`.
fn next_marker(src: &str, from: usize) -> Option<(usize, Marker)> {
    let bytes = src.as_bytes();
    let mut at = from;
    while let Some(found) = bytes[at..].iter().position(|&b| b == b'{') {
        at += found;
        match bytes.get(at + 1) {
            Some(b'{') => return Some((at, Marker::Value)),
            Some(b'%') => return Some((at, Marker::Tag)),
            Some(b'#') => return Some((at, Marker::Comment)),
            _ => at += 1,
        }
    }
    None
}

/// `[-+]? name [-+]? %}` at the start of `s` (after `{%`): its length and
/// whether it ends with `-`.
fn basic_tag(s: &str, name: &str, flag_first: bool) -> Option<(usize, bool)> {
    let mut rest = s;
    if flag_first {
        rest = rest.strip_prefix(['-', '+']).unwrap_or(rest);
    }
    rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
    rest = rest.strip_prefix(name)?;
    rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let strip = rest.starts_with('-');
    rest = rest.strip_prefix(['-', '+']).unwrap_or(rest);
    rest = rest.strip_prefix("%}")?;
    Some((s.len() - rest.len(), strip))
}

const TWO_CHAR: [&str; 6] = ["//", "**", "==", "!=", ">=", "<="];

/// One token at the start of `rest` and its length.
fn token<'s>(rest: &'s str, balance: &mut i64) -> Result<(Token<'s>, usize), SyntaxError> {
    if let Some(op) = TWO_CHAR.iter().find(|op| rest.starts_with(**op)) {
        return Ok((Token::Op(op), 2));
    }
    let Some(&first) = rest.as_bytes().first() else {
        return Err(SyntaxError::new("unexpected end of input"));
    };
    let op = match first {
        b'+' => "+",
        b'-' => "-",
        b'*' => "*",
        b'/' => "/",
        b'%' => "%",
        b'.' => ".",
        b',' => ",",
        b':' => ":",
        b'~' => "~",
        b'|' => "|",
        b'=' => "=",
        b'>' => ">",
        b'<' => "<",
        b'(' => "(",
        b')' => ")",
        b'[' => "[",
        b']' => "]",
        b'{' => "{",
        b'}' => "}",
        b'\'' | b'"' => return string(rest, first),
        b'0'..=b'9' => return number(rest),
        _ => {
            let len = identifier_len(rest);
            if len == 0 {
                return Err(SyntaxError::new("unexpected character"));
            }
            return Ok((Token::Ident(&rest[..len]), len));
        }
    };
    match first {
        b'(' | b'[' | b'{' => *balance += 1,
        b')' | b']' | b'}' => *balance -= 1,
        _ => {}
    }
    Ok((Token::Op(op), 1))
}

fn identifier_len(s: &str) -> usize {
    s.bytes()
        .enumerate()
        .take_while(|&(i, c)| {
            c == b'_'
                || if i == 0 {
                    c.is_ascii_alphabetic()
                } else {
                    c.is_ascii_alphanumeric()
                }
        })
        .count()
}

fn string(rest: &str, delim: u8) -> Result<(Token<'_>, usize), SyntaxError> {
    let mut escaped = false;
    for (i, c) in rest.bytes().enumerate().skip(1) {
        if escaped {
            escaped = false;
        } else if c == b'\\' {
            escaped = true;
        } else if c == delim {
            return Ok((Token::Str(&rest[1..i]), i + 1));
        }
    }
    Err(SyntaxError::new("unexpected end of string"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    Radix,
    Integer,
    Fraction,
    Exponent,
    ExponentSign,
}

/// A number literal, read like minijinja's `eat_number`.
fn number(rest: &str) -> Result<(Token<'_>, usize), SyntaxError> {
    let bytes = rest.as_bytes();
    let radix = match bytes.get(..2) {
        Some(b"0b" | b"0B") => 2,
        Some(b"0o" | b"0O") => 8,
        Some(b"0x" | b"0X") => 16,
        _ => 10,
    };
    let prefix = if radix == 10 { 0 } else { 2 };
    let digits = &bytes[prefix..];
    let mut state = if radix == 10 {
        Num::Integer
    } else {
        Num::Radix
    };
    let mut len = digits.iter().take_while(|c| c.is_ascii_digit()).count();
    while let Some(&c) = digits.get(len) {
        state = match (c, state) {
            (b'.', Num::Integer) => {
                let exp = matches!(digits.get(len + 1), Some(b'e' | b'E'))
                    && matches!(digits.get(len + 2), Some(b'+' | b'-' | b'0'..=b'9'));
                if !exp && identifier_len(&rest[prefix + len + 1..]) > 0 {
                    break;
                }
                Num::Fraction
            }
            (b'e' | b'E', Num::Integer | Num::Fraction) => Num::Exponent,
            (b'+' | b'-' | b'0'..=b'9', Num::Exponent) => Num::ExponentSign,
            (b'0'..=b'9' | b'_', s) => s,
            (b'a'..=b'f' | b'A'..=b'F', Num::Radix) if radix == 16 => state,
            _ => break,
        };
        len += 1;
    }
    let text = &rest[prefix..prefix + len];
    if text.ends_with('_') {
        return Err(SyntaxError::new("'_' may not occur at end of number"));
    }
    let clean = text.replace('_', "");
    let token = if matches!(state, Num::Integer | Num::Radix) {
        Token::Int(
            u128::from_str_radix(&clean, radix).map_err(|_| SyntaxError::new("invalid integer"))?,
        )
    } else {
        clean
            .parse::<f64>()
            .map_err(|_| SyntaxError::new("invalid float"))?;
        Token::Float
    };
    Ok((token, prefix + len))
}
