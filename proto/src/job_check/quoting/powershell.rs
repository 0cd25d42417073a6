//! A PowerShell lexer, just enough to know the quoting context at each
//! point: strings (with the typographic quote marks PowerShell also
//! accepts), here-strings, subexpressions, comments, escapes and `--%`.

use super::{Context, Found, Scanner, Unit};

/// Quote marks that open and close a single-quoted string.
fn is_single(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

/// Quote marks that open and close a double-quoted string.
fn is_double(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\u{201E}')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// `$(…)` or `@(…)`: code; the open parentheses inside.
    Sub(usize),
    Single,
    Double,
    /// `@'…'@`
    HereSingle,
    /// `@"…"@`
    HereDouble,
    /// `${…}`
    Braced,
    LineComment,
    BlockComment,
    /// After `--%`, to the end of the line.
    StopParsing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Pending {
    #[default]
    None,
    Backtick,
    Dollar,
    At,
    /// `@"` or `@'` (true: double) waiting for the end of its line.
    HereHeader(bool),
    /// A closing quote mark at the start of a here-string line, before `@`.
    HereEnd,
    /// `<`, maybe `<#`.
    Less,
    /// `#` in a block comment, maybe `#>`.
    Hash,
    /// A quote mark inside a string: doubled, it is an escaped one.
    Quote,
    /// `-` then `--` at the start of a token, maybe `--%`.
    Dash(u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PowerShell {
    stack: Vec<Ctx>,
    pending: Pending,
    word_start: bool,
    line_start: bool,
    /// The last thing read was a plain character of a bare word: only then
    /// is a `#` part of the word rather than a comment.
    after_bare: bool,
}

impl Default for PowerShell {
    fn default() -> Self {
        Self {
            stack: Vec::new(),
            pending: Pending::None,
            word_start: true,
            line_start: true,
            after_bare: false,
        }
    }
}

impl<'s> Scanner<'s> for PowerShell {
    fn feed(&mut self, unit: Unit<'s>, found: &mut Vec<Found<'s>>) {
        let line_start = std::mem::replace(&mut self.line_start, unit == Unit::Char('\n'));
        if !self.resolve_pending(unit, found) {
            return;
        }
        let context = match self.stack.last() {
            None | Some(Ctx::Sub(_)) => return self.code(unit),
            Some(Ctx::Single) => Context::PsSingle,
            Some(Ctx::Double) => Context::PsDouble,
            Some(Ctx::HereSingle | Ctx::HereDouble) => Context::PsHereString,
            Some(Ctx::Braced) => Context::PsVariable,
            Some(Ctx::LineComment | Ctx::BlockComment) => Context::PsComment,
            Some(Ctx::StopParsing) => Context::PsStopParsing,
        };
        let c = match unit {
            Unit::Value(v) => return found.push(Found { value: v, context }),
            Unit::Char(c) => c,
            Unit::Flow(..) => return,
        };
        let top = self.stack.last().copied();
        match top {
            Some(Ctx::Single) if is_single(c) => self.pending = Pending::Quote,
            Some(Ctx::Double) if is_double(c) => self.pending = Pending::Quote,
            Some(Ctx::Double | Ctx::HereDouble | Ctx::Braced) if c == '`' => {
                self.pending = Pending::Backtick;
            }
            Some(Ctx::Double | Ctx::HereDouble) if c == '$' => self.pending = Pending::Dollar,
            Some(Ctx::HereDouble) if line_start && is_double(c) => self.pending = Pending::HereEnd,
            Some(Ctx::HereSingle) if line_start && is_single(c) => self.pending = Pending::HereEnd,
            Some(Ctx::Braced) if c == '}' => self.close(),
            Some(Ctx::BlockComment) if c == '#' => self.pending = Pending::Hash,
            Some(Ctx::LineComment | Ctx::StopParsing) if c == '\n' => {
                self.stack.pop();
                self.code(unit);
            }
            _ => {}
        }
    }

    fn settle(&mut self) {
        // A string's closing quote is known for sure only when the next
        // character is not a second one; either way the text after it is
        // in the same place (inside a string or not), so close it here.
        if self.pending == Pending::Quote {
            self.pending = Pending::None;
            self.close();
        }
    }

    fn join(&mut self, other: &Self) -> bool {
        self.word_start |= other.word_start;
        self.line_start &= other.line_start;
        self.stack == other.stack && self.pending == other.pending
    }
}

impl PowerShell {
    fn in_code(&self) -> bool {
        matches!(self.stack.last(), None | Some(Ctx::Sub(_)))
    }

    fn close(&mut self) {
        self.stack.pop();
        self.word_start = false;
        self.after_bare = false;
    }

    fn open(&mut self, ctx: Ctx) -> bool {
        self.stack.push(ctx);
        self.word_start = false;
        self.after_bare = false;
        false
    }

    /// Settles what the previous character started; true when `unit` is
    /// still to be read in the (possibly new) context.
    fn resolve_pending<'s>(&mut self, unit: Unit<'s>, found: &mut Vec<Found<'s>>) -> bool {
        let in_code = self.in_code();
        let c = match unit {
            Unit::Char(c) => Some(c),
            _ => None,
        };
        match std::mem::take(&mut self.pending) {
            Pending::None => true,
            Pending::Backtick => {
                if let Unit::Value(v) = unit {
                    let context = if in_code {
                        Context::PsAfterBacktick
                    } else {
                        Context::PsDouble
                    };
                    found.push(Found { value: v, context });
                }
                false
            }
            Pending::Dollar => match (unit, c) {
                (Unit::Value(v), _) => {
                    let context = if in_code {
                        Context::PsAfterDollar
                    } else {
                        Context::PsDouble
                    };
                    found.push(Found { value: v, context });
                    false
                }
                (_, Some('(')) => self.open(Ctx::Sub(0)),
                (_, Some('{')) if in_code => self.open(Ctx::Braced),
                _ => true,
            },
            Pending::At => match c {
                Some('(') => self.open(Ctx::Sub(0)),
                Some(q) if is_double(q) || is_single(q) => {
                    self.pending = Pending::HereHeader(is_double(q));
                    false
                }
                _ => true,
            },
            Pending::HereHeader(double) => match c {
                Some(' ' | '\t' | '\r') => {
                    self.pending = Pending::HereHeader(double);
                    false
                }
                Some('\n') => self.open(if double {
                    Ctx::HereDouble
                } else {
                    Ctx::HereSingle
                }),
                // Not a here-string header: `@` then a plain string.
                _ => {
                    self.stack
                        .push(if double { Ctx::Double } else { Ctx::Single });
                    true
                }
            },
            Pending::HereEnd => {
                if c == Some('@') {
                    self.close();
                    false
                } else {
                    true
                }
            }
            Pending::Less => {
                if c == Some('#') {
                    self.stack.push(Ctx::BlockComment);
                    false
                } else {
                    true
                }
            }
            Pending::Hash => {
                if c == Some('>') {
                    self.close();
                    false
                } else {
                    true
                }
            }
            Pending::Quote => {
                let doubled = match self.stack.last() {
                    Some(Ctx::Single) => c.is_some_and(is_single),
                    _ => c.is_some_and(is_double),
                };
                if doubled {
                    return false;
                }
                self.close();
                true
            }
            Pending::Dash(n) => match c {
                Some('-') if n == 1 => {
                    self.pending = Pending::Dash(2);
                    false
                }
                Some('%') if n == 2 => {
                    self.stack.push(Ctx::StopParsing);
                    false
                }
                _ => true,
            },
        }
    }

    fn code(&mut self, unit: Unit<'_>) {
        let Unit::Char(c) = unit else {
            self.word_start = false;
            self.after_bare = false;
            return;
        };
        let at_word_start = self.word_start;
        self.word_start = c.is_whitespace() || ";|&(){},=".contains(c);
        // After a string, a value or a `)`, `#` starts a comment too.
        let after_bare = self.after_bare;
        self.after_bare = c.is_alphanumeric() || "-_.:/\\".contains(c);
        match c {
            q if is_single(q) => {
                self.open(Ctx::Single);
            }
            q if is_double(q) => {
                self.open(Ctx::Double);
            }
            '@' => self.pending = Pending::At,
            '`' => self.pending = Pending::Backtick,
            '$' => self.pending = Pending::Dollar,
            '<' => self.pending = Pending::Less,
            '#' if at_word_start || !after_bare => self.stack.push(Ctx::LineComment),
            '-' if at_word_start => self.pending = Pending::Dash(1),
            '(' => {
                if let Some(Ctx::Sub(depth)) = self.stack.last_mut() {
                    *depth += 1;
                }
            }
            ')' => match self.stack.last_mut() {
                Some(Ctx::Sub(0)) => self.close(),
                Some(Ctx::Sub(depth)) => *depth -= 1,
                _ => {}
            },
            _ => {}
        }
    }
}
