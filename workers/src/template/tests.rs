use std::process::Command;

use serde_json::json;

use super::*;

fn ctx() -> TemplateContext {
    let mut ctx = TemplateContext {
        params: [
            ("svc".to_owned(), json!("nginx")),
            ("count".to_owned(), json!(3)),
            ("force".to_owned(), json!(true)),
            ("nothing".to_owned(), Value::Null),
            ("hosts".to_owned(), json!(["a", "b"])),
        ]
        .into_iter()
        .collect(),
        target: Some(json!({ "id": "t1", "hostname": "web-1", "tags": ["prod"] })),
        run: json!({ "id": "r1", "trigger": "manual" }),
        job: json!({ "id": "j1", "name": "restart", "version": 2 }),
        ..TemplateContext::default()
    };
    ctx.steps.insert(
        "check".into(),
        StepResult::new("active\n".into(), String::new(), Some(3), "failed".into()),
    );
    ctx.steps.insert(
        "api".into(),
        StepResult::new(
            r#"{"field": "v1", "n": 2}"#.into(),
            String::new(),
            Some(0),
            "succeeded".into(),
        ),
    );
    ctx
}

fn with_param(name: &str, value: Value) -> TemplateContext {
    let mut c = ctx();
    c.params.insert(name.into(), value);
    c
}

#[test]
fn parameters_by_bare_name_and_under_params() {
    let out = render(
        "{{ svc }}/{{ params.svc }}/{{ count }}/{{ force }}/{{ nothing }}",
        &ctx(),
        Quoting::None,
    )
    .unwrap();
    assert_eq!(out, "nginx/nginx/3/true/");
}

#[test]
fn step_results_target_run_and_job() {
    let c = ctx();
    let t = "{{ steps.check.stdout | trim }} {{ steps.check.exit_code }} {{ steps.api.json.field }} \
             {{ steps.api.json.n + 1 }} {{ target.hostname }} {{ run.id }} {{ job.version }}";
    assert_eq!(
        render(t, &c, Quoting::None).unwrap(),
        "active 3 v1 3 web-1 r1 2"
    );
    assert_eq!(c.steps["check"].json, None);
}

#[test]
fn shell_quoting_quotes_values_and_keeps_literal_text() {
    let c = with_param("svc", json!("x; touch /tmp/pwned"));
    assert_eq!(
        render(
            "systemctl restart {{ svc }} --n={{ count }} {{ force }}",
            &c,
            Quoting::Shell
        )
        .unwrap(),
        "systemctl restart 'x; touch /tmp/pwned' --n=3 true"
    );
    assert_eq!(
        render("a{{ nothing }}b", &c, Quoting::Shell).unwrap(),
        "a''b"
    );
}

#[test]
fn shell_injection_is_inert_when_run() {
    let dir = tempfile::tempdir().unwrap();
    let evil = "x; touch pwned; echo $(touch pwned2) `touch pwned3` && touch pwned4";
    let c = with_param("svc", json!(evil));
    let cmd = render("echo {{ svc }}", &c, Quoting::Shell).unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{evil}\n"));
    for f in ["pwned", "pwned2", "pwned3", "pwned4"] {
        assert!(!dir.path().join(f).exists(), "{f} was created by {cmd}");
    }
}

#[test]
fn single_quotes_survive_shell_quoting() {
    let dir = tempfile::tempdir().unwrap();
    let value = "it's a 'test'; touch pwned '";
    let c = with_param("svc", json!(value));
    let cmd = render("printf %s {{ svc }}", &c, Quoting::Shell).unwrap();
    assert_eq!(cmd, r"printf %s 'it'\''s a '\''test'\''; touch pwned '\'''");
    let out = Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), value);
    assert!(!dir.path().join("pwned").exists());
}

#[test]
fn nothing_in_the_template_switches_quoting_off() {
    let c = with_param("svc", json!("a;b"));
    for t in [
        "{{ svc | safe }}",
        "{% autoescape false %}{{ svc }}{% endautoescape %}",
        "{{ svc | e }}",
    ] {
        let out = render(t, &c, Quoting::Shell).unwrap();
        assert!(
            out.starts_with('\'') && out.ends_with('\''),
            "{t} gave {out}"
        );
    }
    // A value built from others is a value too: quoted again as a whole.
    let out = render(
        "{% set x = concat('<', svc, '>') %}{{ x }}",
        &c,
        Quoting::Shell,
    )
    .unwrap();
    assert_eq!(out, "'<a;b>'");
}

#[test]
fn loops_quote_each_item() {
    let out = render(
        "ls {% for h in hosts %}{{ h }} {% endfor %}",
        &ctx(),
        Quoting::Shell,
    );
    assert_eq!(out.unwrap(), "ls 'a' 'b' ");
}

#[test]
fn powershell_quoting_doubles_single_quotes() {
    let c = with_param("svc", json!("it's; Remove-Item C:\\ \u{2019}x"));
    assert_eq!(
        render(
            "Restart-Service {{ svc }} -N {{ count }}",
            &c,
            Quoting::PowerShell
        )
        .unwrap(),
        "Restart-Service 'it''s; Remove-Item C:\\ \u{2019}\u{2019}x' -N 3"
    );
}

#[test]
fn fuel_exhaustion_is_an_error() {
    let t =
        "{% for a in range(100000) %}{% for b in range(100000) %}{{ b }}{% endfor %}{% endfor %}";
    assert_eq!(
        render(t, &ctx(), Quoting::None),
        Err(TemplateError::OutOfFuel)
    );
}

#[test]
fn output_is_capped() {
    let c = with_param("big", json!("x".repeat(100_000)));
    let t = "{% for a in range(20) %}{{ big }}{% endfor %}";
    assert_eq!(render(t, &c, Quoting::None), Err(TemplateError::TooLarge));
    let t = "{% for a in range(10) %}{{ big }}{% endfor %}";
    assert_eq!(render(t, &c, Quoting::None).map(|s| s.len()), Ok(1_000_000));
}

#[test]
fn conditions() {
    let c = ctx();
    assert!(eval_condition("steps.check.exit_code != 0", &c).unwrap());
    assert!(eval_condition("force and count > 2", &c).unwrap());
    assert!(!eval_condition("params.svc == 'apache'", &c).unwrap());
    assert!(!eval_condition("steps.check.status == 'succeeded'", &c).unwrap());
    assert!(eval_condition("steps.api.json.field == 'v1'", &c).unwrap());
    assert!(eval_condition("'prod' in target.tags", &c).unwrap());
    assert!(matches!(
        eval_condition("1 +", &c),
        Err(TemplateError::Syntax(_))
    ));
    assert!(matches!(
        eval_condition("ghost == 1", &c),
        Err(TemplateError::Undefined(_))
    ));
    assert!(matches!(
        eval_condition("ghost", &c),
        Err(TemplateError::Undefined(_))
    ));
}

#[test]
fn undefined_variables_are_errors() {
    let c = ctx();
    for t in [
        "{{ ghost }}",
        "{{ params.ghost }}",
        "{{ steps.nope.stdout }}",
    ] {
        assert!(
            matches!(
                render(t, &c, Quoting::Shell),
                Err(TemplateError::Undefined(_))
            ),
            "{t}"
        );
    }
    let mut local = ctx();
    local.target = None;
    assert!(render("{{ target.hostname }}", &local, Quoting::None).is_err());
    assert_eq!(
        render("{{ ghost | default('d') }}", &c, Quoting::None).unwrap(),
        "d"
    );
}

#[test]
fn broken_templates_are_syntax_errors() {
    assert!(matches!(
        render("{{ x ", &ctx(), Quoting::None),
        Err(TemplateError::Syntax(_))
    ));
}

#[test]
fn no_loader_no_debug_dump() {
    let c = ctx();
    assert!(render("{% include 'x.txt' %}", &c, Quoting::None).is_err());
    assert!(render("{% import '/etc/passwd' as p %}", &c, Quoting::None).is_err());
    assert!(render("{{ debug() }}", &c, Quoting::None).is_err());
}

#[test]
fn parameters_cannot_shadow_roots() {
    let c = with_param("steps", json!("shadow"));
    assert_eq!(
        render("{{ steps.check.status }}", &c, Quoting::None).unwrap(),
        "failed"
    );
}

#[test]
fn redaction() {
    let text = "pw=hunter2 again hunter2, short ab, quoted 'it'\\''s-secret' ps 'it''s-secret'";
    assert_eq!(
        redact(text, &["hunter2", "ab", "it's-secret"]),
        "pw=*** again ***, short ab, quoted '***' ps '***'"
    );
    // A longer secret is replaced whole even when a shorter one is inside it.
    assert_eq!(redact("abcdef abc", &["abc", "abcdef"]), "*** ***");
    assert_eq!(redact("nothing", &[]), "nothing");
}

#[test]
fn cmd_quoting_double_quotes_and_refuses_what_cmd_would_expand() {
    let c = with_param("dir", json!("C:\\Program Files\\a&b^c\\"));
    assert_eq!(
        render("dir {{ dir }} /b", &c, Quoting::Cmd).unwrap(),
        "dir \"C:\\Program Files\\a&b^c\\\\\" /b"
    );
    for bad in ["50%", "a\"b", "hi!", "a\nb"] {
        let c = with_param("v", json!(bad));
        let e = render("echo {{ v }}", &c, Quoting::Cmd).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("cannot be quoted safely for cmd"), "{text}");
        assert!(!text.contains(bad), "the value leaked: {text}");
    }
    // Numbers stay bare; literal template text is not quoted.
    assert_eq!(
        render("exit /b {{ count }} & echo %X%", &ctx(), Quoting::Cmd).unwrap(),
        "exit /b 3 & echo %X%"
    );
}

#[test]
fn a_trailing_newline_is_kept() {
    assert_eq!(
        render("svc={{ svc }}\n", &ctx(), Quoting::None).unwrap(),
        "svc=nginx\n"
    );
}

#[test]
fn encoded_forms_and_each_line_of_a_multi_line_secret_are_redacted() {
    let secret = "s3cr3t/pa ss+word";
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    let forms = [
        "czNjcjN0L3BhIHNzK3dvcmQ=".to_owned(), // base64
        "czNjcjN0L3BhIHNzK3dvcmQ".to_owned(),  // without padding (and URL-safe)
        hex.clone(),
        hex.to_uppercase(),
        "s3cr3t%2Fpa%20ss%2Bword".to_owned(),     // URL-encoded
        format!("{} {}", &hex[..10], &hex[10..]), // broken up: not a form
    ];
    let text = forms.join(" | ");
    let out = redact(&text, &[secret]);
    assert_eq!(
        out,
        format!(
            "*** | *** | *** | *** | *** | {} {}",
            &hex[..10],
            &hex[10..]
        ),
        "{out}"
    );
    // `user:password` as an HTTP Basic header carries it.
    assert_eq!(
        redact(
            "Authorization: Basic YWRtaW46aHVudGVyMg==",
            &["admin:hunter2"]
        ),
        "Authorization: Basic ***"
    );
    // A multi-line secret (a key) never appears whole on one output line.
    let key = "-----BEGIN KEY-----\nAAAAB3NzaC1yc2EAAAADAQAB\nBBBBB3NzaC1yc2EAAAADAQAB\n-----END KEY-----";
    for line in key.lines() {
        assert_eq!(redact(line, &[key]), "***", "{line}");
    }
}

#[test]
fn html_quoting_escapes_values_but_keeps_the_authors_markup() {
    let mut c = ctx();
    c.params
        .insert("evil".to_owned(), json!("<script>x</script> & \"q\" 'a'"));
    let out = render("<p>{{ params.evil }}</p>", &c, Quoting::Html).unwrap();
    assert_eq!(
        out,
        "<p>&lt;script&gt;x&lt;/script&gt; &amp; &quot;q&quot; &#39;a&#39;</p>"
    );
}
