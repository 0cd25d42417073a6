//! What the parser makes of a tag: expressions and statements, with only
//! the detail the checks need.

/// A constant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Const<'s> {
    /// An integer.
    Int(u128),
    /// A float.
    Float,
    /// `true` or `false`.
    Bool,
    /// `none`.
    None,
    /// A string literal (adjacent literals joined), as written.
    Str(Vec<&'s str>),
}

/// Binary operators, `and` and `or` included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Rem,
    Pow,
    Concat,
    And,
    Or,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    In,
    NotIn,
}

/// An argument of a call, filter or test.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CallArg<'s> {
    /// Its keyword, for `name=value`.
    pub(crate) name: Option<&'s str>,
    /// `*args` or `**kwargs`.
    pub(crate) splat: bool,
    pub(crate) value: Expr<'s>,
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr<'s> {
    Const(Const<'s>),
    Var(&'s str),
    Attr(Box<Expr<'s>>, &'s str),
    Item(Box<Expr<'s>>, Box<Expr<'s>>),
    /// `x[a:b:c]`, with the bounds given.
    Slice(Box<Expr<'s>>, Vec<Expr<'s>>),
    Call(Box<Expr<'s>>, Vec<CallArg<'s>>),
    /// `input | name(args)`.
    Filter(&'s str, Box<Expr<'s>>, Vec<CallArg<'s>>),
    /// `input is name(args)`.
    Test(&'s str, Box<Expr<'s>>, Vec<CallArg<'s>>),
    Not(Box<Expr<'s>>),
    Neg(Box<Expr<'s>>),
    Bin(BinOp, Box<Expr<'s>>, Box<Expr<'s>>),
    /// A comparison chain; only `in`/`not in` matter to the checks, the
    /// other comparisons are all [`CmpOp::Eq`].
    Compare(Box<Expr<'s>>, Vec<(CmpOp, Expr<'s>)>),
    /// `then if test else otherwise`.
    If(Box<Expr<'s>>, Box<Expr<'s>>, Option<Box<Expr<'s>>>),
    List(Vec<Expr<'s>>),
    Map(Vec<(Expr<'s>, Expr<'s>)>),
}

/// A name a statement assigns: `x`, or `ns.attr` in a `set`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target<'s> {
    pub(crate) name: &'s str,
    /// The attribute set, for `{% set ns.attr = … %}`.
    pub(crate) attr: Option<&'s str>,
}

/// A statement, as far as the checks care.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Stmt<'s> {
    /// `for targets in iter [if filter] [recursive]`.
    For {
        targets: Vec<Target<'s>>,
        iter: Expr<'s>,
        filter: Option<Expr<'s>>,
        recursive: bool,
    },
    /// `if`, `elif`, `do` and `autoescape`: an expression evaluated, not kept.
    Eval(Expr<'s>),
    /// `set targets = value`.
    Set {
        targets: Vec<Target<'s>>,
        value: Expr<'s>,
    },
    /// `with a = x, b = y`.
    With(Vec<(Vec<Target<'s>>, Expr<'s>)>),
    /// A block that captures its output: `set x` (block form), `filter`,
    /// `macro`, `call`, `block`. The keyword.
    Capture(&'s str),
    /// `extends`, `include`, `import`, `from`: the keyword.
    Load(&'s str),
    /// `else`, `endfor` and the other ends: nothing is evaluated.
    Plain,
}
