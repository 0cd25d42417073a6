//! Template source read the way minijinja reads it, for the checks that must
//! know where a value lands in a command ([`super::quoting`]) and how a
//! template builds text and structures ([`super::bounds`]).
//!
//! [`pieces`] mirrors minijinja 2's tokenizer with the default syntax:
//! `{{ … }}`, `{% … %}`, `{# … #}`, whitespace control with `-` (and `+`),
//! `{% raw %}` blocks, and tag ends recognised only outside brackets. The
//! parser mirrors its expression grammar and operator precedence. Anything
//! this reading does not understand is an error, so a check built on it
//! fails closed rather than passing a template it could not follow.

mod ast;
mod lexer;
mod parser;

pub(crate) use ast::{BinOp, CallArg, CmpOp, Const, Expr, Stmt, Target};
pub(crate) use lexer::{Piece, Token, pieces, tokens};
pub(crate) use parser::{expression, statement};

/// Why template source could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct SyntaxError(pub(crate) String);

impl SyntaxError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// `text` cut to about `max` characters for an error message.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests;
