use super::*;

/// `count` is an int parameter, `force` a bool, everything else text.
fn kinds(name: &str) -> Kind {
    match name {
        "count" => Kind::Number,
        "force" => Kind::Bool,
        _ => Kind::Other,
    }
}

fn problems(source: &str) -> Vec<String> {
    check_template(source, &kinds)
}

fn ok(sources: &[&str]) {
    for source in sources {
        assert_eq!(problems(source), Vec::<String>::new(), "{source}");
    }
}

/// Each source is refused, with a message holding `needle`.
fn refused(cases: &[(&str, &str)]) {
    for (source, needle) in cases {
        let found = problems(source);
        assert!(
            found.iter().any(|p| p.contains(needle)),
            "{source}: expected '{needle}' in {found:?}"
        );
    }
}

#[test]
fn ordinary_templates_pass() {
    ok(&[
        "systemctl restart {{ svc }} # {{ target.hostname }}",
        "{{ steps.api.json.n + 1 }} {{ count * 2 }} {{ loop_free | default('x') }}",
        "{{ svc ~ '-' ~ env }} {% if a ~ b == 'ab' %}y{% endif %}",
        "{{ run.id[:8] }} {{ '-' * 40 }} {{ 3 * '=' }}",
        "{% set x = svc %}{% set n = count + 1 %}{% set m = x | upper %}{{ x }}{{ n }}",
        "{% set parts = concat(svc, '-', env) %}{{ parts }}",
        "{% set ns = namespace(total=0, found=false) %}{% for h in hosts %}{% set ns.total = ns.total + 1 %}{% set ns.found = ns.found or h == 'a' %}{% endfor %}{{ ns.total }}",
        "{% for i in range(3) %}{{ i * 2 }}{% endfor %}{% for h in hosts|batch(2) %}{{ h|join(',') }}{% endfor %}",
        "{% set hosts = ['a', 'b', svc] %}{% with y = steps.check.stdout | trim %}{{ y }}{% endwith %}",
        "{{ steps.check.exit_code * 2 }} {{ (x | length) * 3 }} {{ loop.index * 2 if loop else 0 }}",
        "{{ 'prod' in target.tags }} {{ svc in ['a', 'b'] }} {{ force * 1 }}",
        "{% raw %}{% set a = a ~ a %}{% endraw %}",
    ]);
}

#[test]
fn the_doubling_attacks_are_refused() {
    refused(&[
        ("{% set a = 'x' * 100000000 %}", "* repeats text"),
        (
            "{% set a = 'xxxxxxxx' %}{% set a = a ~ a %}{% set a = a ~ a %}",
            "~ builds text without a size limit, and here the result is kept",
        ),
        ("{% set a = a + a %}", "+ on text builds text"),
        (
            "{% set ns = namespace(a='x') %}{% for i in range(40) %}{% set ns.a = ns.a ~ ns.a %}{% endfor %}",
            "here the result is kept",
        ),
        ("{% set a = svc * count %}", "* repeats text"),
        ("{% set a = a[1:] %}", "slicing [a:b] builds text"),
        (
            "{% for x in [svc ~ svc] %}{% endfor %}",
            "here the result is kept",
        ),
    ]);
}

#[test]
fn capturing_blocks_and_loads_are_refused() {
    refused(&[
        (
            "{% set x %}{{ x }}{{ x }}{% endset %}",
            "a {% set %} block captures",
        ),
        (
            "{% set x | upper %}a{% endset %}",
            "a {% set %} block captures",
        ),
        (
            "{% filter upper %}a{% endfilter %}",
            "apply the filter to the value instead",
        ),
        (
            "{% macro m() %}a{% endmacro %}",
            "{% macro %} is not available",
        ),
        (
            "{% call m() %}a{% endcall %}",
            "{% call %} is not available",
        ),
        (
            "{% block b %}a{% endblock %}",
            "template blocks are not available",
        ),
        (
            "{% for x in xs recursive %}{{ loop(x.children) }}{% endfor %}",
            "recursive loops",
        ),
        ("{% include 'x' %}", "cannot load other templates"),
    ]);
}

#[test]
fn text_operators_are_counted_and_not_applied_to_literals() {
    let join = |n: usize| vec!["svc"; n].join(" ~ ");
    refused(&[
        (
            &format!("{{{{ {} }}}}", join(10)),
            "more than 8 text operators",
        ),
        ("{{ [svc, svc] ~ 'x' }}", "cannot be joined into text"),
        ("{{ dict(a=svc) + 'x' }}", "cannot be joined into text"),
        (
            "{% if [steps, steps] in 'x' %}{% endif %}",
            "on the left of `in`",
        ),
    ]);
    ok(&[&format!("{{{{ {} }}}}", join(9))]);
}

#[test]
fn structures_cannot_grow() {
    let many = (0..17)
        .map(|i| format!("p{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    refused(&[
        (
            &format!("{{{{ [{many}] }}}}"),
            "at most 16 values that are not constants, not 17",
        ),
        ("{% set l = [1] %}{% set l = [l, l] %}", "may not hold 'l'"),
        (
            "{% set ns = namespace() %}{% set ns.l = dict(a=ns.l) %}",
            "may not hold 'ns'",
        ),
        (
            "{% set l = [1] %}{% set l = l|batch(1) %}",
            "|batch may not nest again",
        ),
        (
            "{% set l = [1] %}{% for x in l|map('batch', 1) %}{% endfor %}",
            "|map may not nest again",
        ),
        (
            "{{ x|batch(1)|batch(1)|batch(1)|items|slice(1) }}",
            "more than 4 nesting filters",
        ),
    ]);
    // Constants, parameters and step results may be nested and kept.
    ok(&[
        "{% set l = [[1, 2], {'a': [3]}] %}{% set g = hosts|groupby('site') %}{{ l }}{{ g }}",
        "{% set l = [1] %}{{ l|map('upper')|list }}{% set m = l|map(attribute='a') %}",
    ]);
}

#[test]
fn a_namespace_cannot_hold_itself() {
    refused(&[
        (
            "{% set ns = namespace() %}{% set ns.me = ns %}",
            "may not take 'ns' itself",
        ),
        (
            "{% set ns = namespace() %}{% set x = ns %}{% set ns.me = x %}",
            "may not take 'x' itself",
        ),
        (
            "{% set ns = namespace() %}{% set ns.me = none|default(ns) %}",
            "may not take 'ns' itself",
        ),
        (
            "{% for n in xs %}{% set ns.me = loop %}{% endfor %}",
            "may not take 'loop' itself",
        ),
    ]);
    ok(&["{% set ns = namespace(n=0) %}{% set ns.n = ns.n + 1 %}{% set ns.last = ns['n'] %}"]);
}

#[test]
fn only_bounded_filters_exist() {
    refused(&[
        ("{{ x|format(1) }}", "the filter 'format' is not available"),
        ("{{ x|chain(y) }}", "the filter 'chain' is not available"),
        ("{{ x|pprint }}", "the filter 'pprint' is not available"),
    ]);
}

#[test]
fn numbers_are_known_from_parameters_loops_and_filters() {
    ok(&[
        "{% set a = count * 2 %}{% set b = force + 1 %}{% set c = params.count * 3 %}",
        "{% set d = (x|int) * (y|float) %}{% set e = -x * 2 %}{% set f = (a - b) * 2 %}",
        "{% for i in range(5) %}{% set g = i * i %}{% endfor %}",
    ]);
    // A loop variable over something else, or a name bound twice, is not
    // known to be a number.
    refused(&[
        (
            "{% for i in xs %}{% set g = i * 2 %}{% endfor %}",
            "* repeats text",
        ),
        (
            "{% for i in range(3) %}{% endfor %}{% set i = svc %}{% set g = i * 2 %}",
            "* repeats text",
        ),
        (
            "{% set g = svc + steps.a.stdout %}",
            "if both sides are numbers, say so",
        ),
    ]);
}

#[test]
fn when_expressions_are_checked_too() {
    assert_eq!(
        check_expression("steps.a.exit_code != 0 and svc ~ 'x' == 'ax'", &kinds),
        Vec::<String>::new()
    );
    let found = check_expression("'x' * 100000 == y", &kinds);
    assert!(
        found.iter().any(|p| p.contains("* repeats text")),
        "{found:?}"
    );
    assert!(check_expression("1 +", &kinds)[0].contains("cannot read"));
}

#[test]
fn problems_name_the_tag() {
    let found = problems("ok {% set a = a ~ a %}");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("`{% set a = a ~ a %}`: "),
        "{}",
        found[0]
    );
    assert!(
        found[0].contains("use concat(a, b, …), which stops at 1048576 bytes"),
        "{}",
        found[0]
    );
}

#[test]
fn a_long_operator_chain_is_refused_before_the_engine_parses_it() {
    let chain = format!("{{{{ {} }}}}", vec!["a"; 100_000].join("-"));
    let e = check_size(&chain, false).unwrap_err();
    assert!(e.contains("tokens is longer than the 256 allowed"), "{e}");
    let filters = format!("{{{{ x{} }}}}", "|upper".repeat(50_000));
    assert!(check_size(&filters, false).is_err());
    assert!(check_size(&vec!["a"; 50_000].join(" ~ "), true).is_err());
    check_size("{{ a - b - c }} {% if x %}y{% endif %}", false).unwrap();
    check_size("a == 1 and b", true).unwrap();
}
