use super::*;

fn texts<'s>(pieces: &[Piece<'s>]) -> Vec<&'s str> {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => *t,
            Piece::Value { source, .. } | Piece::Tag { source, .. } => source,
        })
        .collect()
}

fn expr(source: &str) -> Expr<'_> {
    expression(&tokens(source).unwrap()).unwrap()
}

fn stmt(source: &str) -> Stmt<'_> {
    statement(&tokens(source).unwrap()).unwrap()
}

#[test]
fn pieces_follow_minijinja() {
    let p = pieces("a {{ x }} b {% if y %}c{% endif %}{# note #}d").unwrap();
    assert_eq!(
        texts(&p),
        [
            "a ",
            "{{ x }}",
            " b ",
            "{% if y %}",
            "c",
            "{% endif %}",
            "d"
        ]
    );
    // `}}` inside brackets does not end the tag; a lone `{` is text.
    let p = pieces("{{ {'a': {'b': 1}} }} {x} {").unwrap();
    assert_eq!(texts(&p), ["{{ {'a': {'b': 1}} }}", " {x} {"]);
    // A string may hold the closing delimiter.
    let p = pieces("{{ '}}' }}!").unwrap();
    assert_eq!(texts(&p), ["{{ '}}' }}", "!"]);
}

#[test]
fn whitespace_control_and_raw() {
    let p = pieces("a  {{- x -}}  b\n{#- c -#}\n e {%+ if y +%} f").unwrap();
    assert_eq!(
        texts(&p),
        ["a", "{{- x -}}", "b", "e ", "{%+ if y +%}", " f"]
    );
    let p = pieces("x{% raw %} {{ not a value }} {% endraw %}y").unwrap();
    assert_eq!(texts(&p), ["x", " {{ not a value }} ", "y"]);
    let p = pieces("x {%- raw -%} {{ v }} {%- endraw -%} y").unwrap();
    assert_eq!(texts(&p), ["x", "{{ v }}", "y"]);
}

#[test]
fn broken_source_is_an_error() {
    for bad in [
        "{{ x",
        "{% if",
        "{# x",
        "{% raw %}x",
        "{{ 'open }}",
        "{{ 1_ }}",
        "{{ ! }}",
    ] {
        assert!(pieces(bad).is_err(), "{bad}");
    }
}

#[test]
fn tokens_and_numbers() {
    assert_eq!(
        tokens("a.b|c(1, 'x\\'y') // 0x1f ** 1.5e3 ~ 1.upper").unwrap(),
        [
            Token::Ident("a"),
            Token::Op("."),
            Token::Ident("b"),
            Token::Op("|"),
            Token::Ident("c"),
            Token::Op("("),
            Token::Int(1),
            Token::Op(","),
            Token::Str("x\\'y"),
            Token::Op(")"),
            Token::Op("//"),
            Token::Int(31),
            Token::Op("**"),
            Token::Float,
            Token::Op("~"),
            Token::Int(1),
            Token::Op("."),
            Token::Ident("upper"),
        ]
    );
    assert_eq!(tokens("1_000").unwrap(), [Token::Int(1000)]);
}

#[test]
fn precedence_matches_minijinja() {
    use BinOp::*;
    let var = |n| Box::new(Expr::Var(n));
    // math1 (+ -) binds looser than ~, which binds looser than * / // %.
    assert_eq!(
        expr("a + b ~ c * d"),
        Expr::Bin(
            Add,
            var("a"),
            Box::new(Expr::Bin(
                Concat,
                var("b"),
                Box::new(Expr::Bin(Mul, var("c"), var("d")))
            ))
        )
    );
    // Filters bind tighter than any operator, after postfix access.
    assert_eq!(
        expr("x.y|int + 1"),
        Expr::Bin(
            Add,
            Box::new(Expr::Filter(
                "int",
                Box::new(Expr::Attr(var("x"), "y")),
                vec![]
            )),
            Box::new(Expr::Const(Const::Int(1)))
        )
    );
    assert!(matches!(expr("a if b else c"), Expr::If(..)));
    assert!(matches!(expr("not a in b"), Expr::Not(_)));
    assert!(matches!(expr("a not in b"), Expr::Compare(_, ref ops) if ops[0].0 == CmpOp::NotIn));
    assert!(matches!(expr("x[1:]"), Expr::Slice(..)));
    assert!(matches!(expr("x[1]"), Expr::Item(..)));
    assert!(
        matches!(expr("x is divisibleby 3"), Expr::Test("divisibleby", _, ref a) if a.len() == 1)
    );
    assert!(
        matches!(expr("f(a, b=1, *c, **d)"), Expr::Call(_, ref a) if a.len() == 4 && a[1].name == Some("b"))
    );
    assert_eq!(expr("'a' 'b'"), Expr::Const(Const::Str(vec!["a", "b"])));
    assert!(matches!(expr("(a, b)"), Expr::List(ref i) if i.len() == 2));
    assert!(matches!(expr("{'k': v}"), Expr::Map(ref p) if p.len() == 1));
    for bad in ["a +", "(a", "a b", "[1,", "x[]", "a not b"] {
        let t = tokens(bad).unwrap();
        assert!(expression(&t).is_err(), "{bad}");
    }
}

#[test]
fn statements() {
    assert!(matches!(
        stmt("for a, (b, c) in xs if a recursive"),
        Stmt::For { ref targets, recursive: true, filter: Some(_), .. } if targets.len() == 3
    ));
    assert!(matches!(
        stmt("set ns.total = ns.total + 1"),
        Stmt::Set { ref targets, .. } if targets[0] == Target { name: "ns", attr: Some("total") }
    ));
    assert!(matches!(
        stmt("set a, b = 1, 2"),
        Stmt::Set {
            value: Expr::List(_),
            ..
        }
    ));
    assert_eq!(stmt("set x"), Stmt::Capture("set"));
    assert_eq!(stmt("set x | upper"), Stmt::Capture("set"));
    assert!(matches!(stmt("with a = 1, (b, c) = d"), Stmt::With(ref a) if a.len() == 2));
    assert!(matches!(stmt("if a ~ b"), Stmt::Eval(_)));
    assert_eq!(stmt("macro m(x)"), Stmt::Capture("macro"));
    assert_eq!(stmt("include 'x'"), Stmt::Load("include"));
    assert_eq!(stmt("endfor"), Stmt::Plain);
    assert!(statement(&tokens("frobnicate").unwrap()).is_err());
    assert!(statement(&tokens("set x = 1 2").unwrap()).is_err());
}

#[test]
fn excerpts_are_short() {
    assert_eq!(excerpt("  short  ", 10), "short");
    assert_eq!(excerpt("0123456789abc", 10), "012345678…");
}
