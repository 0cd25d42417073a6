//! A POSIX shell (and bash) lexer, just enough to know the quoting context
//! at each point: quotes, backslashes, substitutions, comments and
//! here-documents.

use std::collections::VecDeque;

use super::{Context, Found, Scanner, Unit};

/// Contexts opened inside the command; top-level code when empty.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ctx {
    /// `$(…)`, `<(…)`, `>(…)`: code; the open parentheses inside.
    Sub(usize),
    /// `$((…))`: the open parentheses inside.
    Arith(usize),
    /// `${…}`: the open braces inside.
    Param(usize),
    Single,
    AnsiC,
    Double,
    Backtick,
    Comment,
}

/// What the last character started, when the next one decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Pending {
    #[default]
    None,
    Backslash,
    Dollar,
    /// `$(`: `$((` would be arithmetic.
    DollarParen,
    /// `<` or `>`: `<(` is a process substitution, `<<` a here-document.
    Redirect(char),
    /// `<<`: `<<<` is a here-string, `<<-` strips tabs.
    HereOp,
    /// `)` at depth 0 in `$((…))`.
    ArithClose,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Heredoc {
    delimiter: String,
    strip_tabs: bool,
    /// The delimiter came from a value: the end cannot be known.
    dynamic: bool,
}

/// The delimiter word after `<<` being read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Word {
    text: String,
    strip_tabs: bool,
    started: bool,
    quote: Option<char>,
    escape: bool,
    dynamic: bool,
}

/// Here-document bodies being read, after the line that announced them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bodies {
    docs: VecDeque<Heredoc>,
    line: String,
    /// The current line holds a value (or differs between branches).
    line_unknown: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shell {
    stack: Vec<Ctx>,
    pending: Pending,
    word_start: bool,
    announced: Vec<Heredoc>,
    word: Option<Word>,
    bodies: Option<Bodies>,
}

impl Default for Shell {
    fn default() -> Self {
        Self {
            stack: Vec::new(),
            pending: Pending::None,
            word_start: true,
            announced: Vec::new(),
            word: None,
            bodies: None,
        }
    }
}

/// Characters that end a word (and may start a comment after them).
fn is_break(c: char) -> bool {
    // The shell splits on these only (IFS does not apply to parsing): a
    // no-break space or a carriage return is part of a word to it.
    matches!(c, ' ' | '\t' | '\n') || ";&|()<>".contains(c)
}

impl<'s> Scanner<'s> for Shell {
    fn feed(&mut self, unit: Unit<'s>, found: &mut Vec<Found<'s>>) {
        if let Some(bodies) = &mut self.bodies {
            if bodies.feed(unit, found) {
                self.bodies = None;
            }
            return;
        }
        if self.word.is_some() {
            if !self.read_word(unit, found) {
                return;
            }
        } else if !self.resolve_pending(unit, found) {
            return;
        }
        match self.stack.last() {
            None | Some(Ctx::Sub(_)) => self.code(unit),
            Some(Ctx::Single) => self.until(unit, '\'', false, Context::SingleQuotes, found),
            Some(Ctx::AnsiC) => self.until(unit, '\'', true, Context::AnsiC, found),
            Some(Ctx::Backtick) => self.until(unit, '`', true, Context::Backticks, found),
            Some(Ctx::Double) => self.double(unit, found),
            Some(Ctx::Param(_)) => self.param(unit, found),
            Some(Ctx::Arith(_)) => self.arith(unit, found),
            Some(Ctx::Comment) => {
                if let Unit::Value(v) = unit {
                    found.push(Found {
                        value: v,
                        context: Context::Comment,
                    });
                } else if unit == Unit::Char('\n') {
                    self.stack.pop();
                    self.code(unit);
                }
            }
        }
    }

    fn join(&mut self, other: &Self) -> bool {
        let same_context = self.stack == other.stack
            && self.pending == other.pending
            && self.announced == other.announced
            && self.word == other.word
            && self.bodies.as_ref().map(|b| &b.docs) == other.bodies.as_ref().map(|b| &b.docs);
        self.word_start |= other.word_start;
        if let (Some(a), Some(b)) = (&mut self.bodies, &other.bodies)
            && a.line != b.line
        {
            a.line_unknown = true;
        }
        same_context
    }
}

impl Shell {
    /// The context a value would be refused in here, `None` in code.
    fn value_context(&self) -> Option<Context> {
        Some(match self.stack.last()? {
            Ctx::Sub(_) => return None,
            Ctx::Arith(_) => Context::Arithmetic,
            Ctx::Param(_) => Context::Parameter,
            Ctx::Single => Context::SingleQuotes,
            Ctx::AnsiC => Context::AnsiC,
            Ctx::Double => Context::DoubleQuotes,
            Ctx::Backtick => Context::Backticks,
            Ctx::Comment => Context::Comment,
        })
    }

    /// Settles what the previous character started; true when `unit` is
    /// still to be read in the (possibly new) context.
    fn resolve_pending<'s>(&mut self, unit: Unit<'s>, found: &mut Vec<Found<'s>>) -> bool {
        let in_code = self.value_context().is_none();
        match (std::mem::take(&mut self.pending), unit) {
            (Pending::None, _) => true,
            (Pending::Backslash, Unit::Value(v)) => {
                let context = self.value_context().unwrap_or(Context::AfterBackslash);
                found.push(Found { value: v, context });
                false
            }
            (Pending::Backslash, _) => false,
            (Pending::Dollar, Unit::Value(v)) => {
                let context = self.value_context().unwrap_or(Context::AfterDollar);
                found.push(Found { value: v, context });
                false
            }
            (Pending::Dollar, Unit::Char('(')) => {
                self.pending = Pending::DollarParen;
                false
            }
            (Pending::Dollar, Unit::Char('{')) => self.open(Ctx::Param(0)),
            (Pending::Dollar, Unit::Char('\'')) if in_code => self.open(Ctx::AnsiC),
            (Pending::DollarParen, Unit::Char('(')) => self.open(Ctx::Arith(0)),
            (Pending::DollarParen, _) => {
                // A command starts here: `#` right after `$(` is a comment.
                self.stack.push(Ctx::Sub(0));
                self.word_start = true;
                true
            }
            (Pending::Redirect(_), Unit::Char('(')) => {
                self.stack.push(Ctx::Sub(0));
                self.word_start = true;
                false
            }
            (Pending::Redirect('<'), Unit::Char('<')) => {
                self.pending = Pending::HereOp;
                false
            }
            (Pending::HereOp, Unit::Char('<')) => false,
            (Pending::HereOp, Unit::Char('-')) => {
                self.word = Some(Word {
                    strip_tabs: true,
                    ..Word::default()
                });
                false
            }
            (Pending::HereOp, _) => {
                self.word = Some(Word::default());
                self.read_word(unit, found)
            }
            (Pending::ArithClose, Unit::Char(')')) => {
                self.stack.pop();
                false
            }
            _ => true,
        }
    }

    fn open(&mut self, ctx: Ctx) -> bool {
        self.stack.push(ctx);
        self.word_start = false;
        false
    }

    fn code(&mut self, unit: Unit<'_>) {
        let Unit::Char(c) = unit else {
            self.word_start = false;
            return;
        };
        let at_word_start = self.word_start;
        self.word_start = is_break(c);
        match c {
            '\'' => {
                self.open(Ctx::Single);
            }
            '"' => {
                self.open(Ctx::Double);
            }
            '`' => {
                self.open(Ctx::Backtick);
            }
            '\\' => self.pending = Pending::Backslash,
            '$' => self.pending = Pending::Dollar,
            '<' | '>' => self.pending = Pending::Redirect(c),
            '#' if at_word_start => {
                self.stack.push(Ctx::Comment);
            }
            '(' => {
                if let Some(Ctx::Sub(depth)) = self.stack.last_mut() {
                    *depth += 1;
                }
            }
            ')' => match self.stack.last_mut() {
                Some(Ctx::Sub(0)) => {
                    self.stack.pop();
                    self.word_start = false;
                }
                Some(Ctx::Sub(depth)) => *depth -= 1,
                _ => {}
            },
            '\n' if !self.announced.is_empty() => {
                self.bodies = Some(Bodies {
                    docs: std::mem::take(&mut self.announced).into(),
                    line: String::new(),
                    line_unknown: false,
                });
            }
            _ => {}
        }
    }

    /// Inside quotes that end at `end`; `escapes`: a backslash escapes.
    fn until<'s>(
        &mut self,
        unit: Unit<'s>,
        end: char,
        escapes: bool,
        context: Context,
        found: &mut Vec<Found<'s>>,
    ) {
        match unit {
            Unit::Value(v) => found.push(Found { value: v, context }),
            Unit::Char(c) if c == end => {
                self.stack.pop();
                self.word_start = false;
            }
            Unit::Char('\\') if escapes => self.pending = Pending::Backslash,
            _ => {}
        }
    }

    fn double<'s>(&mut self, unit: Unit<'s>, found: &mut Vec<Found<'s>>) {
        match unit {
            Unit::Value(v) => found.push(Found {
                value: v,
                context: Context::DoubleQuotes,
            }),
            Unit::Char('"') => {
                self.stack.pop();
                self.word_start = false;
            }
            Unit::Char('\\') => self.pending = Pending::Backslash,
            Unit::Char('`') => self.stack.push(Ctx::Backtick),
            Unit::Char('$') => self.pending = Pending::Dollar,
            _ => {}
        }
    }

    fn param<'s>(&mut self, unit: Unit<'s>, found: &mut Vec<Found<'s>>) {
        match unit {
            Unit::Value(v) => found.push(Found {
                value: v,
                context: Context::Parameter,
            }),
            Unit::Char('{') => {
                if let Some(Ctx::Param(depth)) = self.stack.last_mut() {
                    *depth += 1;
                }
            }
            Unit::Char('}') => match self.stack.last_mut() {
                Some(Ctx::Param(0)) => {
                    self.stack.pop();
                }
                Some(Ctx::Param(depth)) => *depth -= 1,
                _ => {}
            },
            Unit::Char('\'') => self.stack.push(Ctx::Single),
            Unit::Char('"') => self.stack.push(Ctx::Double),
            Unit::Char('\\') => self.pending = Pending::Backslash,
            Unit::Char('$') => self.pending = Pending::Dollar,
            _ => {}
        }
    }

    fn arith<'s>(&mut self, unit: Unit<'s>, found: &mut Vec<Found<'s>>) {
        match unit {
            Unit::Value(v) => found.push(Found {
                value: v,
                context: Context::Arithmetic,
            }),
            Unit::Char('(') => {
                if let Some(Ctx::Arith(depth)) = self.stack.last_mut() {
                    *depth += 1;
                }
            }
            Unit::Char(')') => match self.stack.last_mut() {
                Some(Ctx::Arith(0)) => self.pending = Pending::ArithClose,
                Some(Ctx::Arith(depth)) => *depth -= 1,
                _ => {}
            },
            _ => {}
        }
    }

    /// Reads the delimiter word of a here-document; true when the word
    /// ended at `unit`, which is then read as code.
    fn read_word<'s>(&mut self, unit: Unit<'s>, found: &mut Vec<Found<'s>>) -> bool {
        let Some(word) = &mut self.word else {
            return true;
        };
        let c = match unit {
            Unit::Value(v) => {
                found.push(Found {
                    value: v,
                    context: Context::HereDoc,
                });
                word.dynamic = true;
                word.started = true;
                return false;
            }
            Unit::Char(c) => c,
            Unit::Flow(..) => return false,
        };
        if word.escape {
            word.escape = false;
            word.text.push(c);
        } else if let Some(q) = word.quote {
            if c == q {
                word.quote = None;
            } else if q == '"' && c == '\\' {
                word.escape = true;
            } else {
                word.text.push(c);
            }
        } else if c == '\'' || c == '"' {
            word.quote = Some(c);
            word.started = true;
        } else if c == '\\' {
            word.escape = true;
            word.started = true;
        } else if !word.started && (c == ' ' || c == '\t') {
        } else if is_break(c) {
            let word = std::mem::take(&mut self.word).unwrap_or_default();
            if word.started || !word.text.is_empty() {
                self.announced.push(Heredoc {
                    delimiter: word.text,
                    strip_tabs: word.strip_tabs,
                    dynamic: word.dynamic,
                });
            }
            return true;
        } else {
            word.started = true;
            word.text.push(c);
        }
        false
    }
}

impl Bodies {
    /// Reads one unit of a here-document body; true when the last body
    /// ended.
    fn feed<'s>(&mut self, unit: Unit<'s>, found: &mut Vec<Found<'s>>) -> bool {
        match unit {
            Unit::Value(v) => {
                found.push(Found {
                    value: v,
                    context: Context::HereDoc,
                });
                self.line_unknown = true;
            }
            Unit::Char('\n') => {
                let line = std::mem::take(&mut self.line);
                let unknown = std::mem::take(&mut self.line_unknown);
                if let Some(doc) = self.docs.front() {
                    let text = if doc.strip_tabs {
                        line.trim_start_matches('\t')
                    } else {
                        line.as_str()
                    };
                    if !unknown && !doc.dynamic && text == doc.delimiter {
                        self.docs.pop_front();
                    }
                }
                return self.docs.is_empty();
            }
            Unit::Char(c) => self.line.push(c),
            Unit::Flow(..) => {}
        }
        false
    }
}
