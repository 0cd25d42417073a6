//! A `cmd.exe` lexer, just enough to know whether a point is inside double
//! quotes or right after the `^` escape.

use super::{Context, Found, Scanner, Unit};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Cmd {
    quoted: bool,
    caret: bool,
    /// Whether anything but spaces was read.
    started: bool,
    /// The line starts with `"` or a value: `cmd /c` strips its first and
    /// last quote, which unquotes every value in it.
    stripped: bool,
}

impl<'s> Scanner<'s> for Cmd {
    fn feed(&mut self, unit: Unit<'s>, found: &mut Vec<Found<'s>>) {
        if !self.started && !matches!(unit, Unit::Char(' ' | '\t')) {
            self.started = true;
            self.stripped = matches!(unit, Unit::Char('"') | Unit::Value(_));
        }
        if self.stripped
            && let Unit::Value(v) = unit
        {
            found.push(Found {
                value: v,
                context: Context::CmdLeadingQuote,
            });
            return;
        }
        if std::mem::take(&mut self.caret) {
            if let Unit::Value(v) = unit {
                found.push(Found {
                    value: v,
                    context: Context::CmdAfterCaret,
                });
            }
            return;
        }
        match unit {
            Unit::Value(v) if self.quoted => found.push(Found {
                value: v,
                context: Context::CmdQuotes,
            }),
            Unit::Char('"') => self.quoted = !self.quoted,
            // A line end also ends an open quote.
            Unit::Char('\n') => self.quoted = false,
            Unit::Char('^') if !self.quoted => self.caret = true,
            _ => {}
        }
    }

    fn join(&mut self, other: &Self) -> bool {
        self == other
    }
}
