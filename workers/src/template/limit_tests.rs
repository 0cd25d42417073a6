//! What a template may build, and where a command may put a value.

use std::time::{Duration, Instant};

use serde_json::json;

use super::*;

fn ctx() -> TemplateContext {
    TemplateContext {
        params: [
            ("svc".to_owned(), json!("nginx")),
            ("count".to_owned(), json!(3)),
            ("hosts".to_owned(), json!(["a", "b"])),
        ]
        .into_iter()
        .collect(),
        run: json!({ "id": "r1" }),
        job: json!({ "id": "j1", "name": "restart" }),
        ..TemplateContext::default()
    }
}

fn with_param(name: &str, value: Value) -> TemplateContext {
    let mut c = ctx();
    c.params.insert(name.into(), value);
    c
}

fn limit(result: Result<String, TemplateError>) -> String {
    match result {
        Err(TemplateError::Limit(message)) => message,
        other => panic!("expected a limit error, got {other:?}"),
    }
}

fn refused(result: Result<String, TemplateError>) -> String {
    match result {
        Err(TemplateError::Refused(message)) => message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn the_doubling_attack_fails_fast_with_a_clear_error() {
    // Bounded concatenation doubling a string 64 times: without a cap this
    // reaches 2^68 bytes long before the fuel runs out.
    let t = "{% set ns = namespace(a='xxxxxxxxxxxxxxxx') %}\
             {% for i in range(64) %}{% set ns.a = concat(ns.a, ns.a) %}{% endfor %}\
             {{ ns.a | length }}";
    let started = Instant::now();
    let result = render(t, &ctx(), Quoting::None);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        result.unwrap_err().to_string(),
        "template limit: concat() would build a text of more than 1048576 bytes (the limit for one text)"
    );
    // The engine's own operators cannot be capped, so they may not build
    // what is kept: refused before anything runs.
    for attack in [
        "{% set a = 'xxxxxxxxxxxxxxxx' %}{% for i in range(64) %}{% set a = a ~ a %}{% endfor %}",
        "{% set ns = namespace(a='x') %}{% for i in range(64) %}{% set ns.a = ns.a ~ ns.a %}{% endfor %}",
        "{% set a = 'x' * 100000000 %}",
        "{% set a = 'ab' %}{% set a = a + a %}{% set a = a + a %}",
        "{% set a %}{% for i in range(100000) %}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}{% endset %}",
    ] {
        let started = Instant::now();
        let message = refused(render(attack, &ctx(), Quoting::None));
        assert!(started.elapsed() < Duration::from_secs(1), "{attack}");
        assert!(
            message.contains("without a size limit"),
            "{attack}: {message}"
        );
    }
}

#[test]
fn all_builds_of_one_render_share_a_budget() {
    let c = with_param("big", json!("x".repeat(1_000_000)));
    let t = "{% for i in range(100) %}{% set v = concat(big, i) %}{% endfor %}";
    let message = limit(render(t, &c, Quoting::None));
    assert!(
        message.contains("would build more than 16777216 bytes in all"),
        "{message}"
    );
}

#[test]
fn filters_that_multiply_their_input_are_checked_before_they_run() {
    let c = with_param("word", json!("y".repeat(2000)));
    for (t, needle) in [
        (
            "{{ word | replace('', word) }}",
            "|replace would build a text of more than 1048576 bytes",
        ),
        (
            "{{ range(1000) | join(word) }}",
            "|join would build a text of more than 1048576 bytes",
        ),
        ("{{ 'a\nb' | indent(100000000) }}", "|indent would build"),
        (
            "{{ 'a\nb' | indent(width=100000000) }}",
            "|indent would build",
        ),
        (
            "{{ hosts | batch(10000000000) }}",
            "|batch takes a count of at most 100000",
        ),
        (
            "{{ hosts | slice(10000000000) }}",
            "|slice takes a count of at most 100000",
        ),
    ] {
        let started = Instant::now();
        let message = limit(render(t, &c, Quoting::None));
        assert!(started.elapsed() < Duration::from_secs(1), "{t}");
        assert!(message.contains(needle), "{t}: {message}");
    }
    let c = with_param("huge", json!("z".repeat(2 * 1024 * 1024)));
    let message = limit(render("{{ huge | upper }}", &c, Quoting::None));
    assert!(
        message.contains("|upper was given a text of more than"),
        "{message}"
    );
    // Printing a value larger than the output stops at the cap.
    let c = with_param("many", json!(vec!["w".repeat(1000); 2000]));
    let message = limit(render("{{ many }}", &c, Quoting::None));
    assert!(
        message.contains("a value printed here is longer than"),
        "{message}"
    );
}

#[test]
fn bounded_filters_and_functions_still_work() {
    let c = ctx();
    let cases = [
        ("{{ hosts | join(',') }}", "a,b"),
        (
            "{{ svc | upper }} {{ 'a b' | replace(' ', '-') }}",
            "NGINX a-b",
        ),
        (
            "{{ 'x\ny' | indent(2) }}|{{ 'x\ny' | indent(width=1, first=true) }}",
            "x\n  y| x\n y",
        ),
        (
            "{{ hosts | batch(1) | list | length }} {{ hosts | slice(2) | first }}",
            "2 [\"a\"]",
        ),
        (
            "{{ {'b': 1, 'a': 2} | dictsort(reverse=true) | first | first }}",
            "b",
        ),
        (
            "{{ concat(svc, '-', count) }} {{ range(3) | sum }} {{ dict(a=1).a }}",
            "nginx-3 3 1",
        ),
        (
            "{{ hosts | map('upper') | join }} {{ hosts | select('eq', 'a') | list }}",
            "AB [\"a\"]",
        ),
        (
            "{{ svc ~ '@' ~ run.id }} {{ '=' * 3 }} {{ run.id[:1] }} {{ count * 2 }}",
            "nginx@r1 === r 6",
        ),
    ];
    for (t, want) in cases {
        assert_eq!(render(t, &c, Quoting::None).as_deref(), Ok(want), "{t}");
    }
    // A text built with concat is quoted as one word like any value.
    assert_eq!(
        render("echo {{ concat(svc, ' x') }}", &c, Quoting::Shell).as_deref(),
        Ok("echo 'nginx x'")
    );
}

#[test]
fn left_out_filters_do_not_exist() {
    for t in [
        "{{ hosts | chain(hosts) }}",
        "{{ '%s' | format(1) }}",
        "{{ hosts | pprint }}",
    ] {
        let message = refused(render(t, &ctx(), Quoting::None));
        assert!(
            message.contains("is not available in step templates"),
            "{t}: {message}"
        );
    }
    for &name in opsc_proto::job_check::bounds::FILTERS {
        assert!(
            bounded::builtin_filter(name).is_some(),
            "no builtin for {name}"
        );
    }
}

#[test]
fn a_namespace_holding_itself_is_refused_before_it_can_crash_the_process() {
    // minijinja would print it recursively until the stack overflows.
    let t = "{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}";
    let message = refused(render(t, &ctx(), Quoting::None));
    assert!(message.contains("may not take 'ns' itself"), "{message}");
}

#[test]
fn conditions_are_bounded_too() {
    let c = ctx();
    assert!(eval_condition("svc ~ '!' == 'nginx!' and count * 2 == 6", &c).unwrap());
    assert!(matches!(
        eval_condition("'x' * 100000000 == ''", &c),
        Err(TemplateError::Refused(_))
    ));
}

#[test]
fn a_command_refuses_a_value_where_its_quoting_does_not_hold() {
    let c = with_param("svc", json!("$(touch pwned)"));
    for (t, quoting, needle) in [
        (
            "echo \"{{ svc }}\"",
            Quoting::Shell,
            "move {{ svc }} outside the double quotes",
        ),
        ("echo '{{ svc }}'", Quoting::Shell, "inside single quotes"),
        (
            "cat <<EOF\n{{ svc }}\nEOF",
            Quoting::Shell,
            "in a here-document",
        ),
        (
            "Write-Output \"{{ svc }}\"",
            Quoting::PowerShell,
            "join with +",
        ),
        (
            "echo \"{{ svc }}\"",
            Quoting::Cmd,
            "cmd has no escape inside quotes",
        ),
    ] {
        let message = refused(render(t, &c, quoting));
        assert!(message.contains(needle), "{t}: {message}");
    }
    // The same text is fine where nothing is quoted.
    assert!(render("echo \"{{ svc }}\"", &c, Quoting::None).is_ok());
    assert_eq!(
        render("echo \"pid: \"{{ svc }}", &c, Quoting::Shell).as_deref(),
        Ok("echo \"pid: \"'$(touch pwned)'")
    );
}

#[test]
fn workers_quote_exactly_the_fields_the_save_check_reads() {
    use opsc_proto::job_check::quoting::{Language, language_of};
    let keys = [
        "command", "script", "shell", "env", "cwd", "url", "body", "json", "content", "source",
        "dest", "headers", "seconds",
    ];
    for (name, kind) in crate::steps::registry() {
        for key in keys {
            let expected = match kind.quoting(key) {
                Quoting::None | Quoting::Html => None,
                Quoting::Shell => Some(Language::Shell),
                Quoting::PowerShell => Some(Language::PowerShell),
                Quoting::Cmd => Some(Language::Cmd),
            };
            assert_eq!(language_of(name, key), expected, "{name}.{key}");
        }
    }
}

#[test]
fn a_chain_deep_enough_to_overflow_the_stack_is_refused_before_rendering() {
    let chain = format!("echo {{{{ {} }}}}", vec!["svc"; 100_000].join(" - "));
    let e = render(&chain, &ctx(), Quoting::Shell)
        .unwrap_err()
        .to_string();
    assert!(e.contains("longer than the 256 allowed"), "{e}");
    let when = vec!["true"; 100_000].join(" and ");
    let e = eval_condition(&when, &ctx()).unwrap_err().to_string();
    assert!(e.contains("longer than the 256 allowed"), "{e}");
}
