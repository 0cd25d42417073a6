//! Expressions and statements of one tag, parsed with minijinja's grammar
//! and precedence (`if`-expressions, `or`, `and`, `not`, comparisons,
//! `+ -`, `~`, `* / // %`, `**`, unary `-`, postfix `.` `[]` `()`, then
//! filters and tests).

use super::ast::{BinOp, CallArg, CmpOp, Const, Expr, Stmt, Target};
use super::{SyntaxError, Token};

/// Parser nesting limit (minijinja's own is 150).
const MAX_DEPTH: usize = 150;

/// Parses the tokens of a `{{ … }}` or a `when`: exactly one expression.
pub(crate) fn expression<'s>(tokens: &[Token<'s>]) -> Result<Expr<'s>, SyntaxError> {
    let mut p = Parser::new(tokens);
    let e = p.expr()?;
    p.finish()?;
    Ok(e)
}

/// Parses the tokens of a `{% … %}`.
pub(crate) fn statement<'s>(tokens: &[Token<'s>]) -> Result<Stmt<'s>, SyntaxError> {
    let mut p = Parser::new(tokens);
    let Some(Token::Ident(keyword)) = p.next() else {
        return Err(SyntaxError::new("expected a statement keyword"));
    };
    let stmt = match keyword {
        "for" => p.for_loop()?,
        "if" | "elif" => Stmt::Eval(p.or()?),
        "do" | "autoescape" => Stmt::Eval(p.expr()?),
        "set" => p.set()?,
        "with" => p.with()?,
        "filter" | "macro" | "call" | "block" => return Ok(Stmt::Capture(keyword)),
        "extends" | "include" | "import" | "from" => return Ok(Stmt::Load(keyword)),
        k if k == "else" || k.starts_with("end") || k == "break" || k == "continue" => {
            return Ok(Stmt::Plain);
        }
        other => return Err(SyntaxError::new(format!("unknown statement {other}"))),
    };
    p.finish()?;
    Ok(stmt)
}

struct Parser<'t, 's> {
    tokens: &'t [Token<'s>],
    pos: usize,
    depth: usize,
}

impl<'t, 's> Parser<'t, 's> {
    fn new(tokens: &'t [Token<'s>]) -> Self {
        Self {
            tokens,
            pos: 0,
            depth: 0,
        }
    }

    fn peek(&self) -> Option<Token<'s>> {
        self.tokens.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<Token<'s>> {
        self.tokens.get(self.pos + ahead).copied()
    }

    fn next(&mut self) -> Option<Token<'s>> {
        let t = self.peek();
        self.pos += usize::from(t.is_some());
        t
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Token::Op(o)) if o == op)
    }

    fn is_ident(&self, name: &str) -> bool {
        matches!(self.peek(), Some(Token::Ident(i)) if i == name)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        let found = self.is_op(op);
        self.pos += usize::from(found);
        found
    }

    fn eat_ident(&mut self, name: &str) -> bool {
        let found = self.is_ident(name);
        self.pos += usize::from(found);
        found
    }

    fn expect_op(&mut self, op: &str) -> Result<(), SyntaxError> {
        if self.eat_op(op) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{op}`")))
        }
    }

    fn name(&mut self) -> Result<&'s str, SyntaxError> {
        match self.next() {
            Some(Token::Ident(n)) => Ok(n),
            _ => Err(SyntaxError::new("expected a name")),
        }
    }

    fn unexpected(&self, expected: &str) -> SyntaxError {
        match self.peek() {
            Some(t) => SyntaxError::new(format!("unexpected {t:?}, expected {expected}")),
            None => SyntaxError::new(format!("unexpected end, expected {expected}")),
        }
    }

    fn finish(&self) -> Result<(), SyntaxError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.unexpected("the end of the tag")),
        }
    }

    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, SyntaxError>,
    ) -> Result<T, SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SyntaxError::new("expression nested too deeply"));
        }
        let out = f(self);
        self.depth -= 1;
        out
    }

    fn expr(&mut self) -> Result<Expr<'s>, SyntaxError> {
        self.nested(Self::if_expr)
    }

    fn if_expr(&mut self) -> Result<Expr<'s>, SyntaxError> {
        let mut e = self.or()?;
        while self.eat_ident("if") {
            let test = self.or()?;
            let otherwise = if self.eat_ident("else") {
                Some(Box::new(self.if_expr()?))
            } else {
                None
            };
            e = Expr::If(Box::new(e), Box::new(test), otherwise);
        }
        Ok(e)
    }

    fn or(&mut self) -> Result<Expr<'s>, SyntaxError> {
        let mut e = self.and()?;
        while self.eat_ident("or") {
            e = Expr::Bin(BinOp::Or, Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr<'s>, SyntaxError> {
        let mut e = self.not()?;
        while self.eat_ident("and") {
            e = Expr::Bin(BinOp::And, Box::new(e), Box::new(self.not()?));
        }
        Ok(e)
    }

    fn not(&mut self) -> Result<Expr<'s>, SyntaxError> {
        if self.eat_ident("not") {
            return self.nested(|p| Ok(Expr::Not(Box::new(p.not()?))));
        }
        self.compare()
    }

    fn compare(&mut self) -> Result<Expr<'s>, SyntaxError> {
        let first = self.math1()?;
        let mut ops = Vec::new();
        loop {
            let op = match self.peek() {
                Some(Token::Op("==" | "!=" | "<" | "<=" | ">" | ">=")) => CmpOp::Eq,
                Some(Token::Ident("in")) => CmpOp::In,
                Some(Token::Ident("not"))
                    if matches!(self.peek_at(1), Some(Token::Ident("in"))) =>
                {
                    self.pos += 1;
                    CmpOp::NotIn
                }
                Some(Token::Ident("not")) => {
                    return Err(SyntaxError::new("expected `in` after `not`"));
                }
                _ => break,
            };
            self.pos += 1;
            ops.push((op, self.math1()?));
        }
        Ok(if ops.is_empty() {
            first
        } else {
            Expr::Compare(Box::new(first), ops)
        })
    }

    fn binary(
        &mut self,
        ops: &[(&str, BinOp)],
        next: fn(&mut Self) -> Result<Expr<'s>, SyntaxError>,
    ) -> Result<Expr<'s>, SyntaxError> {
        let mut e = next(self)?;
        while let Some((_, op)) = ops.iter().find(|(tok, _)| self.is_op(tok)) {
            self.pos += 1;
            e = Expr::Bin(*op, Box::new(e), Box::new(next(self)?));
        }
        Ok(e)
    }

    fn math1(&mut self) -> Result<Expr<'s>, SyntaxError> {
        self.binary(&[("+", BinOp::Add), ("-", BinOp::Sub)], Self::concat)
    }

    fn concat(&mut self) -> Result<Expr<'s>, SyntaxError> {
        self.binary(&[("~", BinOp::Concat)], Self::math2)
    }

    fn math2(&mut self) -> Result<Expr<'s>, SyntaxError> {
        let ops = [
            ("*", BinOp::Mul),
            ("/", BinOp::Div),
            ("//", BinOp::FloorDiv),
            ("%", BinOp::Rem),
        ];
        self.binary(&ops, Self::pow)
    }

    fn pow(&mut self) -> Result<Expr<'s>, SyntaxError> {
        self.binary(&[("**", BinOp::Pow)], Self::unary)
    }

    fn unary(&mut self) -> Result<Expr<'s>, SyntaxError> {
        let e = self.unary_only()?;
        let e = self.postfix(e)?;
        self.filters(e)
    }

    fn unary_only(&mut self) -> Result<Expr<'s>, SyntaxError> {
        if self.eat_op("-") {
            return self.nested(|p| Ok(Expr::Neg(Box::new(p.unary_only()?))));
        }
        self.nested(Self::primary)
    }

    fn postfix(&mut self, mut e: Expr<'s>) -> Result<Expr<'s>, SyntaxError> {
        loop {
            if self.eat_op(".") {
                e = match self.next() {
                    Some(Token::Ident(name)) => Expr::Attr(Box::new(e), name),
                    Some(Token::Int(i)) => {
                        Expr::Item(Box::new(e), Box::new(Expr::Const(Const::Int(i))))
                    }
                    _ => return Err(SyntaxError::new("expected a name or an integer after `.`")),
                };
            } else if self.eat_op("[") {
                e = self.subscript(e)?;
            } else if self.is_op("(") {
                e = Expr::Call(Box::new(e), self.args()?);
            } else {
                return Ok(e);
            }
        }
    }

    fn subscript(&mut self, e: Expr<'s>) -> Result<Expr<'s>, SyntaxError> {
        let mut bounds = Vec::new();
        let mut slice = false;
        if !self.is_op(":") {
            bounds.push(self.expr()?);
        }
        if self.eat_op(":") {
            slice = true;
            if !self.is_op("]") && !self.is_op(":") {
                bounds.push(self.expr()?);
            }
            if self.eat_op(":") && !self.is_op("]") {
                bounds.push(self.expr()?);
            }
        }
        self.expect_op("]")?;
        if slice {
            return Ok(Expr::Slice(Box::new(e), bounds));
        }
        let index = bounds
            .pop()
            .ok_or_else(|| SyntaxError::new("empty subscript"))?;
        Ok(Expr::Item(Box::new(e), Box::new(index)))
    }

    /// `name` or `a.b` after `|` or `is`.
    fn dotted_name(&mut self) -> Result<&'s str, SyntaxError> {
        let first = self.name()?;
        while self.is_op(".") {
            self.pos += 1;
            self.name()?;
        }
        Ok(first)
    }

    fn filters(&mut self, mut e: Expr<'s>) -> Result<Expr<'s>, SyntaxError> {
        loop {
            if self.eat_op("|") {
                let name = self.dotted_name()?;
                let args = if self.is_op("(") {
                    self.args()?
                } else {
                    Vec::new()
                };
                e = Expr::Filter(name, Box::new(e), args);
            } else if self.eat_ident("is") {
                let negated = self.eat_ident("not");
                let name = self.dotted_name()?;
                let args = if self.is_op("(") {
                    self.args()?
                } else if self.test_argument_follows() {
                    let arg = self.unary_only()?;
                    vec![CallArg {
                        name: None,
                        splat: false,
                        value: self.postfix(arg)?,
                    }]
                } else {
                    Vec::new()
                };
                e = Expr::Test(name, Box::new(e), args);
                if negated {
                    e = Expr::Not(Box::new(e));
                }
            } else {
                return Ok(e);
            }
        }
    }

    /// Whether a test's single argument follows without parentheses
    /// (`x is divisibleby 3`).
    fn test_argument_follows(&self) -> bool {
        match self.peek() {
            Some(Token::Ident(i)) => !matches!(i, "and" | "or" | "else" | "is"),
            Some(Token::Str(_) | Token::Int(_) | Token::Float) => true,
            Some(Token::Op(o)) => matches!(o, "+" | "-" | "[" | "{"),
            None => false,
        }
    }

    fn args(&mut self) -> Result<Vec<CallArg<'s>>, SyntaxError> {
        self.expect_op("(")?;
        let mut args = Vec::new();
        loop {
            if self.eat_op(")") {
                return Ok(args);
            }
            if !args.is_empty() {
                self.expect_op(",")?;
                if self.eat_op(")") {
                    return Ok(args);
                }
            }
            let splat = self.eat_op("**") || self.eat_op("*");
            let value = self.expr()?;
            let arg = match value {
                Expr::Var(name) if !splat && self.eat_op("=") => CallArg {
                    name: Some(name),
                    splat,
                    value: self.expr()?,
                },
                value => CallArg {
                    name: None,
                    splat,
                    value,
                },
            };
            args.push(arg);
        }
    }

    fn primary(&mut self) -> Result<Expr<'s>, SyntaxError> {
        let Some(token) = self.next() else {
            return Err(SyntaxError::new("unexpected end, expected an expression"));
        };
        Ok(match token {
            Token::Ident("true" | "True" | "false" | "False") => Expr::Const(Const::Bool),
            Token::Ident("none" | "None") => Expr::Const(Const::None),
            Token::Ident(name) => Expr::Var(name),
            Token::Str(s) => {
                let mut parts = vec![s];
                while let Some(Token::Str(more)) = self.peek() {
                    parts.push(more);
                    self.pos += 1;
                }
                Expr::Const(Const::Str(parts))
            }
            Token::Int(i) => Expr::Const(Const::Int(i)),
            Token::Float => Expr::Const(Const::Float),
            Token::Op("(") => self.tuple_or_expr()?,
            Token::Op("[") => Expr::List(self.items("]")?),
            Token::Op("{") => self.map()?,
            other => return Err(SyntaxError::new(format!("unexpected {other:?}"))),
        })
    }

    fn items(&mut self, close: &str) -> Result<Vec<Expr<'s>>, SyntaxError> {
        let mut items = Vec::new();
        loop {
            if self.eat_op(close) {
                return Ok(items);
            }
            if !items.is_empty() {
                self.expect_op(",")?;
                if self.eat_op(close) {
                    return Ok(items);
                }
            }
            items.push(self.expr()?);
        }
    }

    fn map(&mut self) -> Result<Expr<'s>, SyntaxError> {
        let mut pairs = Vec::new();
        loop {
            if self.eat_op("}") {
                return Ok(Expr::Map(pairs));
            }
            if !pairs.is_empty() {
                self.expect_op(",")?;
                if self.eat_op("}") {
                    return Ok(Expr::Map(pairs));
                }
            }
            let key = self.expr()?;
            self.expect_op(":")?;
            pairs.push((key, self.expr()?));
        }
    }

    fn tuple_or_expr(&mut self) -> Result<Expr<'s>, SyntaxError> {
        if self.eat_op(")") {
            return Ok(Expr::List(Vec::new()));
        }
        let first = self.expr()?;
        if !self.is_op(",") {
            self.expect_op(")")?;
            return Ok(first);
        }
        let mut items = vec![first];
        loop {
            if self.eat_op(")") {
                return Ok(Expr::List(items));
            }
            self.expect_op(",")?;
            if self.eat_op(")") {
                return Ok(Expr::List(items));
            }
            items.push(self.expr()?);
        }
    }

    fn for_loop(&mut self) -> Result<Stmt<'s>, SyntaxError> {
        let targets = self.targets(false)?;
        if !self.eat_ident("in") {
            return Err(self.unexpected("`in`"));
        }
        let iter = self.or()?;
        let filter = if self.eat_ident("if") {
            Some(self.expr()?)
        } else {
            None
        };
        let recursive = self.eat_ident("recursive");
        Ok(Stmt::For {
            targets,
            iter,
            filter,
            recursive,
        })
    }

    fn set(&mut self) -> Result<Stmt<'s>, SyntaxError> {
        let targets = self.targets(true)?;
        if self.peek().is_none() || self.is_op("|") {
            // The block form; its filter is not evaluated here.
            self.pos = self.tokens.len();
            return Ok(Stmt::Capture("set"));
        }
        self.expect_op("=")?;
        let first = self.expr()?;
        if !self.eat_op(",") {
            return Ok(Stmt::Set {
                targets,
                value: first,
            });
        }
        let mut items = vec![first];
        while self.peek().is_some() {
            items.push(self.expr()?);
            if !self.eat_op(",") {
                break;
            }
        }
        Ok(Stmt::Set {
            targets,
            value: Expr::List(items),
        })
    }

    fn with(&mut self) -> Result<Stmt<'s>, SyntaxError> {
        let mut assignments = Vec::new();
        while self.peek().is_some() {
            if !assignments.is_empty() {
                self.expect_op(",")?;
            }
            let targets = if self.eat_op("(") {
                let t = self.targets(false)?;
                self.expect_op(")")?;
                t
            } else {
                vec![self.target(false)?]
            };
            self.expect_op("=")?;
            assignments.push((targets, self.expr()?));
        }
        Ok(Stmt::With(assignments))
    }

    /// The names of `a`, `a, b`, `(a, (b, c))` (and `ns.attr` when `dotted`).
    fn targets(&mut self, dotted: bool) -> Result<Vec<Target<'s>>, SyntaxError> {
        let mut out = Vec::new();
        loop {
            if !out.is_empty() && !self.eat_op(",") {
                return Ok(out);
            }
            if self.peek().is_none() || self.is_op(")") || self.is_ident("in") || self.is_op("=") {
                return Ok(out);
            }
            if self.eat_op("(") {
                out.extend(self.nested(|p| p.targets(dotted))?);
                self.expect_op(")")?;
            } else {
                out.push(self.target(dotted)?);
            }
        }
    }

    fn target(&mut self, dotted: bool) -> Result<Target<'s>, SyntaxError> {
        let name = self.name()?;
        let mut attr = None;
        while dotted && self.eat_op(".") {
            attr = Some(self.name()?);
        }
        Ok(Target { name, attr })
    }
}
