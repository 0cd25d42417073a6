//! A `cmd.exe` lexer, just enough to know whether a point is inside double
//! quotes or right after the `^` escape.

use super::{Context, Found, Scanner, Unit};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Cmd {
    quoted: bool,
    caret: bool,
}

impl<'s> Scanner<'s> for Cmd {
    fn feed(&mut self, unit: Unit<'s>, found: &mut Vec<Found<'s>>) {
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
