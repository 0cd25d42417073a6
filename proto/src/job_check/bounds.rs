//! Size rules for templates: no template may build text or structures
//! without a bound. Checked when a job is saved ([`super::check`]) and again
//! by the worker before it renders (`opsc_workers::template`).
//!
//! minijinja has fuel (a cap on instructions) but no cap on what one
//! instruction allocates: `{% set a = a ~ a %}` doubles a string in a
//! handful of instructions, so thirty of them reach gigabytes. The engine
//! offers no hook on its operators (`~`, `+`, `*`, slicing), on the text a
//! capturing block gathers, or on structures a template nests, so those are
//! ruled here, by reading the template (see [`super::syntax`]):
//!
//! 1. Blocks that capture output (`{% set x %}…{% endset %}`, `filter`,
//!    `macro`, `call`, `block`), recursive loops and loading other templates
//!    are refused.
//! 2. `*` multiplies numbers; on text only a literal repeated to at most
//!    [`MAX_REPEAT_BYTES`] (`'-' * 40`).
//! 3. Text operators — `~`, `+` unless one side is a number, slicing —
//!    may only be used where the result is printed or tested at once
//!    (`{{ … }}`, `{% if %}`, `when`), at most [`MAX_TEXT_OPERATORS`] in one
//!    expression, and never on a list or dict literal. Where a value is
//!    kept (`{% set %}`, `{% with %}`, a `{% for %}` header), text is joined
//!    with the function `concat(a, b, …)`, which the worker bounds.
//! 4. A list or dict literal (or `dict()`, `namespace()`) holds at most
//!    [`MAX_LITERAL_ITEMS`] non-constant values; where it is kept it holds
//!    no value the template made itself (a `set`, `with` or loop variable),
//!    so a structure cannot grow by re-nesting.
//! 5. `{% set ns.attr = … %}` may read template variables only through an
//!    attribute or item (`ns.count + 1`), never store one whole: a
//!    namespace stored in itself would make printing it recurse forever.
//! 6. The nesting filters (`batch`, `slice`, `groupby`, `items`,
//!    `dictsort`, `map`) appear at most [`MAX_NESTING_FILTERS`] times in one
//!    expression and, where the result is kept, not on values the template
//!    made itself.
//! 7. Only the filters in [`FILTERS`] exist; the worker bounds each (see
//!    [`MAX_STRING_BYTES`] and [`MAX_BUILT_BYTES`]).
//!
//! Whether a side of `+` or `*` is a number is known from number literals,
//! arithmetic, the filters `int`, `float`, `abs`, `round`, `length`,
//! `count`, `sum`, comparisons and tests, `loop.index` and its kin,
//! `steps.<id>.exit_code`, loop variables over `range(…)`, and parameters
//! (declared `int` or `bool` when saved; holding a number, a boolean or
//! nothing when rendered).

use std::collections::BTreeSet;

use super::syntax::{self, BinOp, CallArg, CmpOp, Const, Expr, Piece, Stmt, Target};

mod exprs;

use exprs::{
    capture_fix, children, contains_container, count_items, is_constructor, literal_repeat, nests,
};

/// Longest text one filter or function (`concat`, `join`, `replace`, …)
/// may build, in bytes; the same as the largest rendered output.
pub const MAX_STRING_BYTES: usize = 1024 * 1024;

/// Bytes all filters and functions of one render may build together.
pub const MAX_BUILT_BYTES: usize = 16 * 1024 * 1024;

/// Text operators (`~`, `+` on text, slicing) in one expression, at most.
pub const MAX_TEXT_OPERATORS: usize = 8;

/// Non-constant values in one list or dict literal, at most.
pub const MAX_LITERAL_ITEMS: usize = 16;

/// Longest text a literal may be repeated to with `*`, in bytes.
pub const MAX_REPEAT_BYTES: usize = 1024;

/// Nesting filters in one expression, at most.
pub const MAX_NESTING_FILTERS: usize = 4;

/// Most tokens in one tag (`{{ … }}`, `{% … %}`) or `when` expression.
/// minijinja parses a chain of binary operators or filters in a loop but
/// compiles it by recursion, so `a-a-a-…` with 100,000 terms would overflow
/// the stack and abort the process; this bound is checked before the engine
/// sees the source.
pub const MAX_TAG_TOKENS: usize = 256;

/// Longest source this reading cannot follow that still goes to the engine
/// (for its own syntax error): too short to nest deeper than the engine's
/// stack bears.
const UNREAD_ENGINE_BYTES: usize = 1024;

/// Checks what must hold before the engine parses `source` at all: no tag
/// longer than [`MAX_TAG_TOKENS`]. `expression` says `source` is a `when`.
pub fn check_size(source: &str, expression: bool) -> Result<(), String> {
    let too_long = |n: usize| {
        format!(
            "template: a tag of {n} tokens is longer than the {MAX_TAG_TOKENS} allowed; split it (set a variable with part of it)"
        )
    };
    // What this reading cannot follow goes to the engine only when it is
    // too short to nest deep, so the engine words the syntax error.
    let unread = |e: &syntax::SyntaxError| {
        if source.len() <= UNREAD_ENGINE_BYTES {
            Ok(())
        } else {
            Err(unreadable(e))
        }
    };
    if expression {
        let n = match syntax::tokens(source) {
            Ok(t) => t.len(),
            Err(e) => return unread(&e),
        };
        return if n > MAX_TAG_TOKENS {
            Err(too_long(n))
        } else {
            Ok(())
        };
    }
    if !source.contains("{{") && !source.contains("{%") {
        return Ok(());
    }
    let pieces = match syntax::pieces(source) {
        Ok(p) => p,
        Err(e) => return unread(&e),
    };
    for piece in pieces {
        if let Piece::Value { tokens, .. } | Piece::Tag { tokens, .. } = piece
            && tokens.len() > MAX_TAG_TOKENS
        {
            return Err(too_long(tokens.len()));
        }
    }
    Ok(())
}

/// Largest count `batch`, `slice` and `indent` take (as `range` does).
pub const MAX_COUNT: usize = 100_000;

/// The filters templates may use; the worker installs a bounded version of
/// each and nothing else (`chain`, `zip`, `format` and `pprint` are left
/// out: they build structures or text from their arguments unchecked).
pub const FILTERS: &[&str] = &[
    "abs",
    "attr",
    "batch",
    "bool",
    "capitalize",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "groupby",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "lines",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "safe",
    "select",
    "selectattr",
    "slice",
    "sort",
    "split",
    "string",
    "sum",
    "title",
    "trim",
    "unique",
    "upper",
];

/// The functions templates may call.
pub const FUNCTIONS: &[&str] = &["concat", "dict", "namespace", "range"];

const NESTING_FILTERS: &[&str] = &["batch", "slice", "groupby", "items", "dictsort", "map"];
const NUMBER_FILTERS: &[&str] = &[
    "int", "float", "abs", "round", "length", "count", "sum", "bool",
];
const LOOP_NUMBERS: &[&str] = &[
    "index",
    "index0",
    "revindex",
    "revindex0",
    "length",
    "depth",
    "depth0",
];
const CONSTRUCTORS: &[&str] = &["dict", "namespace"];
/// Filters whose output is text made from their input's text (the worker
/// charges what they build to the render's budget).
pub const TEXT_FILTERS: &[&str] = &[
    "capitalize",
    "e",
    "escape",
    "indent",
    "join",
    "lower",
    "replace",
    "string",
    "title",
    "trim",
    "upper",
];

/// What a parameter is known to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A number, or nothing (`none`): never text.
    Number,
    /// A boolean.
    Bool,
    /// Text, a list, a map: anything.
    Other,
}

/// Checks a template; `params` tells what a parameter (by name) holds. An
/// empty answer means it is bounded. Each problem names the tag and a fix.
pub fn check_template(source: &str, params: &dyn Fn(&str) -> Kind) -> Vec<String> {
    let pieces = match syntax::pieces(source) {
        Ok(p) => p,
        Err(e) => return vec![unreadable(&e)],
    };
    let mut parsed = Vec::new();
    for piece in &pieces {
        let read = match piece {
            Piece::Text(_) => continue,
            Piece::Value { source, tokens } => {
                syntax::expression(tokens).map(|e| (*source, Read::Value(e)))
            }
            Piece::Tag { source, tokens } => {
                syntax::statement(tokens).map(|s| (*source, Read::Stmt(s)))
            }
        };
        match read {
            Ok(r) => parsed.push(r),
            Err(e) => return vec![unreadable(&e)],
        }
    }
    let mut checker = Checker::new(params, parsed.iter().filter_map(|(_, r)| r.stmt()));
    for (source, read) in &parsed {
        checker.snippet = syntax::excerpt(source, 60);
        match read {
            Read::Value(e) => checker.expr(e, Use::Printed),
            Read::Stmt(s) => checker.stmt(s),
        }
    }
    checker.problems
}

/// Checks a standalone expression (a step's `when`).
pub fn check_expression(source: &str, params: &dyn Fn(&str) -> Kind) -> Vec<String> {
    let parsed = syntax::tokens(source).and_then(|t| syntax::expression(&t));
    match parsed {
        Ok(e) => {
            let mut checker = Checker::new(params, std::iter::empty());
            checker.snippet = syntax::excerpt(source, 60);
            checker.expr(&e, Use::Printed);
            checker.problems
        }
        Err(e) => vec![unreadable(&e)],
    }
}

fn unreadable(e: &syntax::SyntaxError) -> String {
    format!("the size check cannot read this template ({e}); write it in plainer syntax")
}

enum Read<'s> {
    Value(Expr<'s>),
    Stmt(Stmt<'s>),
}

impl<'s> Read<'s> {
    fn stmt(&self) -> Option<&Stmt<'s>> {
        match self {
            Self::Stmt(s) => Some(s),
            Self::Value(_) => None,
        }
    }
}

/// Where an expression's value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// Printed or tested, then dropped.
    Printed,
    /// Kept in a variable or a loop.
    Kept,
    /// Kept in a namespace attribute.
    NamespaceAttr,
}

struct Checker<'p, 's> {
    params: &'p dyn Fn(&str) -> Kind,
    /// Names the template binds (`set`, `with`, `for`), and `loop`.
    bound: BTreeSet<&'s str>,
    /// Loop variables over `range(…)` bound nowhere else.
    numbers: BTreeSet<&'s str>,
    snippet: String,
    problems: Vec<String>,
}

impl<'p, 's> Checker<'p, 's> {
    fn new<'r>(params: &'p dyn Fn(&str) -> Kind, stmts: impl Iterator<Item = &'r Stmt<'s>>) -> Self
    where
        's: 'r,
    {
        let mut bound = BTreeSet::from(["loop"]);
        let mut over_range = BTreeSet::new();
        let mut other = BTreeSet::new();
        for stmt in stmts {
            let targets: Vec<&Target<'s>> = match stmt {
                Stmt::For { targets, iter, .. } => {
                    let range = matches!(iter, Expr::Call(f, _) if **f == Expr::Var("range"));
                    let names = targets.iter().map(|t| t.name);
                    if range && targets.len() == 1 {
                        over_range.extend(names);
                    } else {
                        other.extend(names);
                    }
                    targets.iter().collect()
                }
                Stmt::Set { targets, .. } => targets.iter().collect(),
                Stmt::With(assignments) => assignments.iter().flat_map(|(t, _)| t).collect(),
                _ => Vec::new(),
            };
            for t in targets {
                bound.insert(t.name);
                if !matches!(stmt, Stmt::For { .. }) {
                    other.insert(t.name);
                }
            }
        }
        let numbers = over_range.difference(&other).copied().collect();
        Self {
            params,
            bound,
            numbers,
            snippet: String::new(),
            problems: Vec::new(),
        }
    }

    fn problem(&mut self, message: impl AsRef<str>) {
        let text = format!("`{}`: {}", self.snippet, message.as_ref());
        if !self.problems.contains(&text) {
            self.problems.push(text);
        }
    }

    fn stmt(&mut self, stmt: &Stmt<'s>) {
        match stmt {
            Stmt::For {
                iter,
                filter,
                recursive,
                ..
            } => {
                if *recursive {
                    self.problem(
                        "recursive loops are not available: each level's output is captured as text without a size limit",
                    );
                }
                self.expr(iter, Use::Kept);
                if let Some(f) = filter {
                    self.expr(f, Use::Kept);
                }
            }
            Stmt::Eval(e) => self.expr(e, Use::Printed),
            Stmt::Set { targets, value } => {
                let use_ = if targets.iter().any(|t| t.attr.is_some()) {
                    Use::NamespaceAttr
                } else {
                    Use::Kept
                };
                self.expr(value, use_);
            }
            Stmt::With(assignments) => {
                for (_, value) in assignments {
                    self.expr(value, Use::Kept);
                }
            }
            Stmt::Capture(keyword) => self.problem(capture_fix(keyword)),
            Stmt::Load(keyword) => self.problem(format!(
                "{{% {keyword} %}} is not available: a step template cannot load other templates"
            )),
            Stmt::Plain => {}
        }
    }

    fn expr(&mut self, e: &Expr<'s>, use_: Use) {
        let mut text_ops = 0;
        let mut nesting = 0;
        self.walk(e, use_, &mut text_ops, &mut nesting);
        if text_ops > MAX_TEXT_OPERATORS {
            self.problem(format!(
                "more than {MAX_TEXT_OPERATORS} text operators (~, + on text, slicing) in one expression; join the parts with concat(a, b, …)"
            ));
        }
        if nesting > MAX_NESTING_FILTERS {
            self.problem(format!(
                "more than {MAX_NESTING_FILTERS} nesting filters ({}) in one expression",
                NESTING_FILTERS.join(", ")
            ));
        }
        if use_ == Use::NamespaceAttr
            && let Some(name) = self.bare_bound(e)
        {
            self.problem(format!(
                "a namespace attribute may not take '{name}' itself, only values read from it ({name}.count): a namespace stored in itself could never be printed"
            ));
        }
    }

    fn walk(&mut self, e: &Expr<'s>, use_: Use, text_ops: &mut usize, nesting: &mut usize) {
        match e {
            Expr::Bin(op, a, b) => self.binary(*op, a, b, use_, text_ops),
            Expr::Slice(_, _) => self.text_op("slicing [a:b]", None, use_, text_ops),
            Expr::Compare(first, ops) => {
                let mut left: &Expr<'s> = first;
                for (op, right) in ops {
                    if matches!(op, CmpOp::In | CmpOp::NotIn) && contains_container(left) {
                        self.problem(
                            "a list or dict on the left of `in` is searched for as text; test its items one by one",
                        );
                    }
                    left = right;
                }
            }
            Expr::Filter(name, input, args) => self.filter(name, input, args, use_, nesting),
            Expr::List(_) | Expr::Map(_) => self.container(e, use_),
            Expr::Call(f, _) if is_constructor(f) => self.container(e, use_),
            _ => {}
        }
        for child in children(e) {
            self.walk(child, use_, text_ops, nesting);
        }
    }

    fn binary(&mut self, op: BinOp, a: &Expr<'s>, b: &Expr<'s>, use_: Use, text_ops: &mut usize) {
        match op {
            BinOp::Concat => self.text_op("~", Some((a, b)), use_, text_ops),
            BinOp::Add if !self.never_text(a) && !self.never_text(b) => {
                self.text_op("+ on text", Some((a, b)), use_, text_ops);
            }
            BinOp::Mul if !(self.arithmetic(a, b) || literal_repeat(a, b)) => {
                self.problem(format!(
                    "* repeats text or lists without a size limit unless both sides are numbers: write a|int * 2 for numbers, or repeat a literal to at most {MAX_REPEAT_BYTES} bytes ('-' * 40)"
                ));
            }
            _ => {}
        }
    }

    fn text_op(
        &mut self,
        what: &str,
        operands: Option<(&Expr<'s>, &Expr<'s>)>,
        use_: Use,
        text_ops: &mut usize,
    ) {
        *text_ops += 1;
        if use_ != Use::Printed {
            let numbers = if what.starts_with('+') {
                " (if both sides are numbers, say so: a|int + b)"
            } else {
                ""
            };
            self.problem(format!(
                "{what} builds text without a size limit, and here the result is kept{numbers}; use concat(a, b, …), which stops at {MAX_STRING_BYTES} bytes, or write the expression where it is printed"
            ));
        }
        if let Some((a, b)) = operands
            && (contains_container(a) || contains_container(b))
        {
            self.problem(format!(
                "a list or dict cannot be joined into text with {what}; use |join or concat()"
            ));
        }
    }

    fn filter(
        &mut self,
        name: &str,
        input: &Expr<'s>,
        args: &[CallArg<'s>],
        use_: Use,
        nesting: &mut usize,
    ) {
        if !FILTERS.contains(&name) {
            self.problem(format!(
                "the filter '{name}' is not available in step templates (available: {})",
                FILTERS.join(", ")
            ));
            return;
        }
        if !nests(name, args) {
            return;
        }
        *nesting += 1;
        if use_ != Use::Printed && self.mentions_bound(input) {
            self.problem(format!(
                "|{name} may not nest again a value the template made itself where the result is kept; apply it to parameters or step results"
            ));
        }
    }

    fn container(&mut self, e: &Expr<'s>, use_: Use) {
        let items = count_items(e);
        if items > MAX_LITERAL_ITEMS {
            self.problem(format!(
                "a list or dict literal may hold at most {MAX_LITERAL_ITEMS} values that are not constants, not {items}"
            ));
        }
        if use_ != Use::Printed
            && let Some(name) = self.bound_in(e)
        {
            self.problem(format!(
                "a list or dict that is kept may not hold '{name}', a value the template made itself, so structures cannot grow by re-nesting"
            ));
        }
    }

    /// Whether both sides of `*` are numbers (or booleans).
    fn arithmetic(&self, a: &Expr<'s>, b: &Expr<'s>) -> bool {
        self.never_text(a) && self.never_text(b)
    }

    /// Whether `e` can never be text (nor a list), so `+` and `*` on it are
    /// arithmetic.
    fn never_text(&self, e: &Expr<'s>) -> bool {
        match e {
            Expr::Const(Const::Str(_)) => false,
            Expr::Const(_) | Expr::Neg(_) | Expr::Not(_) | Expr::Compare(..) | Expr::Test(..) => {
                true
            }
            Expr::Bin(op, a, b) => match op {
                BinOp::Sub | BinOp::Div | BinOp::FloorDiv | BinOp::Rem | BinOp::Pow => true,
                BinOp::Add => self.never_text(a) || self.never_text(b),
                BinOp::Mul | BinOp::And | BinOp::Or => self.never_text(a) && self.never_text(b),
                BinOp::Concat => false,
            },
            Expr::If(then, _, otherwise) => {
                self.never_text(then) && otherwise.as_ref().is_none_or(|o| self.never_text(o))
            }
            Expr::Filter(name, _, _) => NUMBER_FILTERS.contains(name),
            Expr::Var(name) if self.bound.contains(name) => self.numbers.contains(name),
            Expr::Var(name) => (self.params)(name) != Kind::Other,
            Expr::Attr(base, attr) => match &**base {
                Expr::Var("loop") => LOOP_NUMBERS.contains(attr),
                Expr::Var("params") if !self.bound.contains("params") => {
                    (self.params)(attr) != Kind::Other
                }
                Expr::Attr(root, _) if *attr == "exit_code" => {
                    **root == Expr::Var("steps") && !self.bound.contains("steps")
                }
                _ => false,
            },
            _ => false,
        }
    }

    fn mentions_bound(&self, e: &Expr<'s>) -> bool {
        match e {
            Expr::Var(name) => self.bound.contains(name),
            _ => children(e).into_iter().any(|c| self.mentions_bound(c)),
        }
    }

    fn bound_in(&self, e: &Expr<'s>) -> Option<&'s str> {
        match e {
            Expr::Var(name) if self.bound.contains(name) => Some(name),
            _ => children(e).into_iter().find_map(|c| self.bound_in(c)),
        }
    }

    /// A template variable that may end up stored whole: not read through
    /// `.attr` or `[item]`, nor turned into a number, a boolean or text.
    fn bare_bound(&self, e: &Expr<'s>) -> Option<&'s str> {
        match e {
            Expr::Var(name) if self.bound.contains(name) => Some(name),
            Expr::Attr(base, _) if matches!(**base, Expr::Var(_)) => None,
            Expr::Item(base, index) if matches!(**base, Expr::Var(_)) => self.bare_bound(index),
            _ if self.never_text(e) => None,
            Expr::Filter(name, _, _) if TEXT_FILTERS.contains(name) => None,
            Expr::If(then, _, otherwise) => self
                .bare_bound(then)
                .or_else(|| otherwise.as_ref().and_then(|o| self.bare_bound(o))),
            _ => children(e).into_iter().find_map(|c| self.bare_bound(c)),
        }
    }
}

#[cfg(test)]
mod tests;
