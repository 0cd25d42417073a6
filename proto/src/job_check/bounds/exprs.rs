//! Questions about one expression the size rules ask, and their messages.

use super::{CONSTRUCTORS, MAX_REPEAT_BYTES, NESTING_FILTERS};
use crate::job_check::syntax::{CallArg, Const, Expr};

/// Why a capturing block (`set`, `filter`, `macro`, …) is refused, and the fix.
pub(super) fn capture_fix(keyword: &str) -> String {
    let why = "captures its output as text without a size limit";
    match keyword {
        "set" => format!(
            "a {{% set %}} block {why}: use {{% set x = concat(…) %}} or a filter on the value"
        ),
        "filter" => format!(
            "a {{% filter %}} block {why}: apply the filter to the value instead ({{{{ x | upper }}}})"
        ),
        "block" => format!("template blocks are not available: a block {why}"),
        other => format!(
            "{{% {other} %}} is not available: a macro {why}; write the text out or use {{% for %}}"
        ),
    }
}

/// Whether `name(args)` nests its input one level deeper.
pub(super) fn nests(name: &str, args: &[CallArg<'_>]) -> bool {
    if name != "map" {
        return NESTING_FILTERS.contains(&name);
    }
    // `map(attribute=…)` picks; `map('upper')` applies a flat filter.
    match args.iter().find(|a| a.name.is_none()) {
        Some(CallArg {
            value: Expr::Const(Const::Str(parts)),
            ..
        }) => parts.len() != 1 || NESTING_FILTERS.contains(&parts[0]),
        Some(_) => true,
        None => false,
    }
}

/// Whether `f` names `dict` or `namespace`, which build a structure from
/// their arguments like a literal.
pub(super) fn is_constructor(f: &Expr<'_>) -> bool {
    matches!(f, Expr::Var(name) if CONSTRUCTORS.contains(name))
}

/// `'-' * 40` (either way round) repeating to at most [`MAX_REPEAT_BYTES`].
pub(super) fn literal_repeat(a: &Expr<'_>, b: &Expr<'_>) -> bool {
    let ((Expr::Const(Const::Str(parts)), Expr::Const(Const::Int(n)))
    | (Expr::Const(Const::Int(n)), Expr::Const(Const::Str(parts)))) = (a, b)
    else {
        return false;
    };
    let len: usize = parts.iter().map(|p| p.len()).sum();
    u128::try_from(len)
        .ok()
        .and_then(|l| l.checked_mul(*n))
        .is_some_and(|total| total <= MAX_REPEAT_BYTES as u128)
}

/// Whether a list or dict literal (or constructor) is anywhere in `e`.
pub(super) fn contains_container(e: &Expr<'_>) -> bool {
    match e {
        Expr::List(_) | Expr::Map(_) => true,
        Expr::Call(f, _) if is_constructor(f) => true,
        _ => children(e).into_iter().any(contains_container),
    }
}

/// Non-constant values in a literal, through nested literals.
pub(super) fn count_items(e: &Expr<'_>) -> usize {
    let parts: Vec<&Expr<'_>> = match e {
        Expr::List(items) => items.iter().collect(),
        Expr::Map(pairs) => pairs.iter().flat_map(|(k, v)| [k, v]).collect(),
        Expr::Call(f, args) if is_constructor(f) => args.iter().map(|a| &a.value).collect(),
        Expr::Const(_) => return 0,
        _ => return 1,
    };
    parts.into_iter().map(count_items).sum()
}

/// The direct subexpressions of `e`.
pub(super) fn children<'e, 's>(e: &'e Expr<'s>) -> Vec<&'e Expr<'s>> {
    let args = |args: &'e [CallArg<'s>]| args.iter().map(|a| &a.value);
    match e {
        Expr::Const(_) | Expr::Var(_) => Vec::new(),
        Expr::Attr(x, _) | Expr::Not(x) | Expr::Neg(x) => vec![x],
        Expr::Item(x, i) => vec![x, i],
        Expr::Slice(x, bounds) => std::iter::once(&**x).chain(bounds).collect(),
        Expr::Call(f, a) => std::iter::once(&**f).chain(args(a)).collect(),
        Expr::Filter(_, x, a) | Expr::Test(_, x, a) => {
            std::iter::once(&**x).chain(args(a)).collect()
        }
        Expr::Bin(_, a, b) => vec![a, b],
        Expr::Compare(first, ops) => std::iter::once(&**first)
            .chain(ops.iter().map(|(_, e)| e))
            .collect(),
        Expr::If(a, b, c) => [Some(&**a), Some(&**b), c.as_deref()]
            .into_iter()
            .flatten()
            .collect(),
        Expr::List(items) => items.iter().collect(),
        Expr::Map(pairs) => pairs.iter().flat_map(|(k, v)| [k, v]).collect(),
    }
}
