use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;
use crate::job::{JobDefinition, ParamType, Parameter};

/// `test.any` has no catalogue entry, so its `with` is not checked
/// against a schema: the tests of other checks use it freely.
const TYPES: [&str; 4] = ["ssh.exec", "local.exec", "wait", "test.any"];

fn job(doc: Value) -> JobDefinition {
    serde_json::from_value(doc).unwrap()
}

fn minimal() -> Value {
    json!({
        "name": "restart",
        "parameters": {
            "svc": { "type": "string", "required": true, "pattern": "[a-z][a-z0-9-]*" },
            "count": { "type": "int", "default": 3 },
            "force": { "type": "bool", "default": "false" },
            "env": { "type": "enum", "choices": ["dev", "prod"], "default": "dev" },
            "hosts": { "type": "multi_select", "choices": ["a", "b"], "default": ["a"] },
            "token": { "type": "secret" }
        },
        "steps": [
            { "id": "check", "type": "ssh.exec", "with": { "command": "systemctl status {{ svc }}" } },
            { "id": "api", "type": "local.exec", "with": { "command": "curl {{ params.svc }}" } },
            {
                "id": "restart", "type": "ssh.exec",
                "when": "steps.check.exit_code != 0 and steps.api.json.ok and force",
                "with": {
                    "command": "systemctl restart {{ svc }}; echo {{ target.hostname }} {{ run.id }} {{ job.name }}",
                    "env": { "N": "{{ count }}", "OUT": "{{ steps.api.stdout }}" }
                }
            }
        ]
    })
}

fn errors_of(doc: Value) -> Vec<PathError> {
    check(&job(doc), &TYPES)
}

fn paths(errors: &[PathError]) -> Vec<&str> {
    errors.iter().map(|e| e.path.as_str()).collect()
}

#[test]
fn a_good_job_passes() {
    assert_eq!(errors_of(minimal()), vec![]);
}

#[test]
fn name_must_be_present_and_short() {
    let mut doc = minimal();
    doc["name"] = json!("  ");
    assert_eq!(paths(&errors_of(doc.clone())), ["/name"]);
    doc["name"] = json!("x".repeat(129));
    assert_eq!(paths(&errors_of(doc.clone())), ["/name"]);
    doc["name"] = json!("é".repeat(128));
    assert_eq!(errors_of(doc), vec![]);
}

#[test]
fn a_job_needs_steps() {
    let mut doc = minimal();
    doc["steps"] = json!([]);
    assert_eq!(paths(&errors_of(doc)), ["/steps"]);
}

#[test]
fn step_ids_are_unique_and_well_formed() {
    let doc = json!({
        "name": "j",
        "steps": [
            { "id": "a", "type": "test.any" },
            { "id": "a", "type": "test.any" },
            { "id": "1x", "type": "test.any" },
            { "id": "has space", "type": "test.any" },
            { "id": "x".repeat(65), "type": "test.any" },
            { "id": format!("b{}", "-".repeat(63)), "type": "test.any" },
            { "id": "ok_-9", "type": "test.any" }
        ]
    });
    let errors = errors_of(doc);
    assert_eq!(
        paths(&errors),
        ["/steps/1/id", "/steps/2/id", "/steps/3/id", "/steps/4/id"]
    );
    assert!(errors[0].message.contains("duplicate"), "{}", errors[0]);
    assert!(errors[0].message.contains("/steps/0"), "{}", errors[0]);
}

#[test]
fn step_types_must_be_known() {
    let doc = json!({ "name": "j", "steps": [{ "id": "a", "type": "teleport" }] });
    let errors = errors_of(doc);
    assert_eq!(paths(&errors), ["/steps/0/type"]);
    assert!(errors[0].message.contains("teleport"));
    assert!(errors[0].message.contains("ssh.exec"));
}

#[test]
fn numbers_have_bounds() {
    let doc = json!({
        "name": "j",
        "parallelism": 0,
        "timeout_secs": 0,
        "steps": [
            { "id": "a", "type": "test.any", "timeout_secs": 0, "retry": { "attempts": 11 } },
            { "id": "b", "type": "test.any", "timeout_secs": 1, "retry": { "attempts": 10 } }
        ]
    });
    assert_eq!(
        paths(&errors_of(doc)),
        [
            "/parallelism",
            "/timeout_secs",
            "/steps/0/timeout_secs",
            "/steps/0/retry/attempts"
        ]
    );
}

#[test]
fn parameter_names_are_identifiers_and_not_reserved() {
    let mut doc = minimal();
    for bad in [
        "9lives",
        "with-dash",
        "a/b",
        "params",
        "steps",
        "loop",
        "job",
    ] {
        doc["parameters"][bad] = json!({ "type": "string" });
    }
    doc["parameters"]["_ok_1"] = json!({ "type": "string" });
    let errors = errors_of(doc);
    let mut got = paths(&errors);
    got.sort_unstable();
    assert_eq!(
        got,
        [
            "/parameters/9lives",
            "/parameters/a~1b",
            "/parameters/job",
            "/parameters/loop",
            "/parameters/params",
            "/parameters/steps",
            "/parameters/with-dash"
        ]
    );
    assert!(errors.iter().any(|e| e.message.contains("reserved")));
}

#[test]
fn choices_patterns_and_defaults() {
    let doc = json!({
        "name": "j",
        "parameters": {
            "e": { "type": "enum" },
            "m": { "type": "multi_select", "choices": [] },
            "p": { "type": "string", "pattern": "(unclosed" },
            "d1": { "type": "int", "default": "x" },
            "d2": { "type": "enum", "choices": ["a"], "default": "b" },
            "d3": { "type": "string", "pattern": "[0-9]+", "default": "12a" },
            "d4": { "type": "multi_select", "choices": ["a"], "default": ["a", "z"] },
            "d5": { "type": "bool", "default": "yes" },
            "d6": { "type": "int", "default": 1.5 }
        },
        "steps": [{ "id": "a", "type": "test.any" }]
    });
    let errors = errors_of(doc);
    let mut got = paths(&errors);
    got.sort_unstable();
    assert_eq!(
        got,
        [
            "/parameters/d1/default",
            "/parameters/d2/default",
            "/parameters/d3/default",
            "/parameters/d4/default",
            "/parameters/d5/default",
            "/parameters/d6/default",
            "/parameters/e/choices",
            "/parameters/m/choices",
            "/parameters/p/pattern"
        ]
    );
}

#[test]
fn templates_may_only_reference_known_names() {
    let doc = json!({
        "name": "j",
        "parameters": { "svc": { "type": "string" } },
        "steps": [
            { "id": "first", "type": "test.any", "with": {
                "a": "{{ nope }}",
                "b": { "deep": ["ok {{ svc }}", "{{ params.ghost }}"] },
                "c": "{{ steps.later.stdout }}",
                "d": "{{ steps.first.stdout }}",
                "e": "{{ steps.missing.stdout }}",
                "f": "{% for x in range(3) %}{{ x }}{{ loop.index }}{% endfor %}{% set y = svc %}{{ y }}",
                "g": "{{ steps['later'] }} {{ target.facts.os }} {{ svc | upper }}"
            } },
            { "id": "later", "type": "test.any", "when": "steps.first.exit_code == 0 and not ghost2" }
        ]
    });
    let errors = errors_of(doc);
    let found: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.path.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("/steps/0/with/a", "unknown parameter or variable 'nope'"),
            ("/steps/0/with/b/deep/1", "unknown parameter 'ghost'"),
            (
                "/steps/0/with/c",
                "step 'later' does not run before this one: only earlier steps can be referenced"
            ),
            (
                "/steps/0/with/d",
                "step 'first' does not run before this one: only earlier steps can be referenced"
            ),
            ("/steps/0/with/e", "unknown step 'missing'"),
            ("/steps/1/when", "unknown parameter or variable 'ghost2'"),
        ]
    );
}

#[test]
fn broken_templates_report_the_engine_message() {
    let doc = json!({
        "name": "j",
        "steps": [{ "id": "a", "type": "test.any", "when": "1 +", "with": { "c": "{{ x " } }]
    });
    let errors = errors_of(doc);
    assert_eq!(paths(&errors), ["/steps/0/with/c", "/steps/0/when"]);
    assert!(
        errors[0].message.starts_with("template: syntax error"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].message.starts_with("expression: syntax error"),
        "{}",
        errors[1]
    );
}

#[test]
fn with_keys_are_escaped_in_paths() {
    let doc = json!({
        "name": "j",
        "steps": [{ "id": "a", "type": "test.any", "with": { "x/y~z": "{{ q }}" } }]
    });
    assert_eq!(paths(&errors_of(doc)), ["/steps/0/with/x~1y~0z"]);
}

fn given(v: Value) -> BTreeMap<String, Value> {
    serde_json::from_value(v).unwrap()
}

#[test]
fn params_are_filled_and_normalised() {
    let def = job(minimal());
    let out = check_params(&def, &given(json!({ "svc": "nginx", "count": "7" }))).unwrap();
    assert_eq!(
        serde_json::to_value(out).unwrap(),
        json!({
            "svc": "nginx", "count": 7, "force": false, "env": "dev",
            "hosts": ["a"], "token": null
        })
    );
    let out = check_params(
        &def,
        &given(json!({ "svc": "a-1", "force": true, "hosts": ["b", "a"], "token": "s3cret" })),
    )
    .unwrap();
    assert_eq!(out["force"], json!(true));
    assert_eq!(out["hosts"], json!(["b", "a"]));
    assert_eq!(out["token"], json!("s3cret"));
}

#[test]
fn params_report_every_problem() {
    let def = job(minimal());
    let errors = check_params(
        &def,
        &given(json!({
            "count": "seven", "force": "yes", "env": "staging",
            "hosts": "a", "extra": 1, "token": 5
        })),
    )
    .unwrap_err();
    let found: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.path.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("/parameters/extra", "unknown parameter 'extra'"),
            ("/parameters/count", "'seven' is not an integer"),
            (
                "/parameters/env",
                "'staging' is not one of the choices: dev, prod"
            ),
            ("/parameters/force", "expected true or false, got a string"),
            (
                "/parameters/hosts",
                "expected an array of choices, got a string"
            ),
            ("/parameters/svc", "required parameter is missing"),
            ("/parameters/token", "expected a string, got a number"),
        ]
    );
}

#[test]
fn patterns_match_whole_values() {
    let def = job(minimal());
    for bad in ["Nginx", "nginx;rm", "a b", ""] {
        let errors = check_params(&def, &given(json!({ "svc": bad }))).unwrap_err();
        assert_eq!(paths(&errors), ["/parameters/svc"], "{bad}");
    }
    // An alternation must not escape the anchors.
    let def = job(json!({
        "name": "j",
        "parameters": { "p": { "type": "string", "pattern": "a|b" } },
        "steps": [{ "id": "a", "type": "test.any" }]
    }));
    assert!(check_params(&def, &given(json!({ "p": "a" }))).is_ok());
    assert!(check_params(&def, &given(json!({ "p": "ab" }))).is_err());
}

#[test]
fn int_and_bool_coercions() {
    let int = Parameter {
        kind: ParamType::Int,
        description: String::new(),
        required: false,
        default: None,
        choices: vec![],
        pattern: None,
    };
    assert_eq!(check_value(&int, &json!(-4)), Ok(json!(-4)));
    assert_eq!(check_value(&int, &json!("-4")), Ok(json!(-4)));
    assert!(check_value(&int, &json!("4.0")).is_err());
    assert!(check_value(&int, &json!(4.5)).is_err());
    assert!(check_value(&int, &json!(true)).is_err());
    let bool_ = Parameter {
        kind: ParamType::Bool,
        ..int
    };
    assert_eq!(check_value(&bool_, &json!("true")), Ok(json!(true)));
    assert!(check_value(&bool_, &json!("True")).is_err());
    assert!(check_value(&bool_, &json!(1)).is_err());
}

#[test]
fn secret_values_are_not_echoed_in_errors() {
    let def = job(json!({
        "name": "j",
        "parameters": { "pw": { "type": "secret", "pattern": "[0-9]+" } },
        "steps": [{ "id": "a", "type": "test.any" }]
    }));
    let errors = check_params(&def, &given(json!({ "pw": "hunter2" }))).unwrap_err();
    assert!(!errors[0].message.contains("hunter2"), "{}", errors[0]);
}

#[test]
fn command_values_must_stand_as_words() {
    let doc = json!({
        "name": "j",
        "parameters": { "svc": { "type": "string" }, "pid": { "type": "int" } },
        "steps": [
            { "id": "ok", "type": "ssh.exec", "with": { "command": "kill $(cat /run/{{ svc }}.pid) {{ pid }}" } },
            { "id": "dq", "type": "ssh.exec", "with": { "command": "echo \"restarting {{ svc }}\"" } },
            { "id": "sq", "type": "local.exec", "with": { "command": "echo '{{ svc }}'", "shell": "/bin/'{{ svc }}'" } },
            { "id": "ps", "type": "winrm.exec", "with": { "script": "Write-Output \"svc: {{ svc }}\"" } },
            { "id": "cmd", "type": "winrm.exec", "with": { "command": "echo \"{{ svc }}\"" } },
            { "id": "http", "type": "test.any", "with": { "note": "\"{{ svc }}\"" } }
        ]
    });
    let types = ["ssh.exec", "local.exec", "winrm.exec", "test.any"];
    let errors = check(&job(doc), &types);
    assert_eq!(
        paths(&errors),
        [
            "/steps/1/with/command",
            "/steps/2/with/command",
            "/steps/3/with/script",
            "/steps/4/with/command"
        ],
        "{errors:?}"
    );
    assert_eq!(
        errors[0].message,
        "{{ svc }} is inside double quotes, where the shell would still expand a $(…) or `…` in the value: \
         move {{ svc }} outside the double quotes; the value is already quoted as one shell word \
         (\"abc\"{{ svc }}\"def\" stays one word)"
    );
    assert!(
        errors[1].message.contains("inside single quotes"),
        "{}",
        errors[1]
    );
    assert!(errors[2].message.contains("join with +"), "{}", errors[2]);
    assert!(
        errors[3]
            .message
            .contains("cmd has no escape inside quotes"),
        "{}",
        errors[3]
    );
}

#[test]
fn templates_that_build_without_bound_are_refused_when_saved() {
    let doc = json!({
        "name": "j",
        "steps": [
            { "id": "a", "type": "test.any", "with": { "x": "{% set a = 'xx' %}{% set a = a ~ a %}{{ a }}" },
              "when": "'x' * 1000000 != ''" },
            { "id": "b", "type": "test.any", "with": { "x": "{% set a = concat('x', 'y') %}{{ a ~ '!' }}" } }
        ]
    });
    let errors = errors_of(doc);
    assert_eq!(
        paths(&errors),
        ["/steps/0/with/x", "/steps/0/when"],
        "{errors:?}"
    );
    assert!(
        errors[0].message.contains("use concat(a, b, …)"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].message.contains("* repeats text"),
        "{}",
        errors[1]
    );
}

#[test]
fn the_commands_of_the_demo_and_the_end_to_end_tests_pass() {
    let commands = [
        "echo Hello, {{ who }}, from $(hostname)",
        "echo greeted with exit code {{ steps.greet.exit_code }} in run {{ run.id }} of {{ job.name }}",
        "printf '{\"build\":\"%s\"}\\n' {{ who }}",
        "echo svc={{ who }}; printf 'user=%s\\n' \"$(id -un)\"; echo run={{ run.id }}",
        "echo previous={{ steps.greet.exit_code }} lines={{ steps.greet.stdout | length > 0 }}",
        "for i in $(seq {{ times }}); do echo hi {{ who }} $i; done",
        "printf %s {{ who }} | base64; printf %s {{ who }} | od -An -tx1 | tr -d ' \\n'; echo",
        "echo got {{ steps.greet.stdout | trim }}",
    ];
    for command in commands {
        let doc = json!({
            "name": "j",
            "parameters": { "who": { "type": "string" }, "times": { "type": "int" } },
            "steps": [
                { "id": "greet", "type": "local.exec", "with": { "command": "true" } },
                { "id": "x", "type": "ssh.exec", "with": { "command": command } }
            ]
        });
        assert_eq!(errors_of(doc), vec![], "{command}");
    }
    let script = json!({
        "name": "j",
        "parameters": { "motd": { "type": "string" } },
        "steps": [{ "id": "w", "type": "winrm.exec", "with": {
            "script": "Write-Output \"host=$env:COMPUTERNAME\"\nWrite-Output {{ motd }}\nWrite-Output $env:STAGE"
        } }]
    });
    assert_eq!(check(&job(script), &["winrm.exec"]), vec![]);
}

#[test]
fn a_retry_policy_out_of_range_is_refused_at_retry() {
    let doc = json!({
        "name": "j",
        "retry": { "max_retries": 0 },
        "steps": [{ "id": "a", "type": "test.any" }]
    });
    let errors = errors_of(doc);
    assert_eq!(paths(&errors), ["/retry"]);
    assert!(errors[0].message.contains("max_retries"), "{errors:?}");
    let ok = json!({
        "name": "j",
        "retry": { "max_retries": 3, "on": ["exit_code"], "exit_codes": [2] },
        "steps": [{ "id": "a", "type": "test.any" }]
    });
    assert!(errors_of(ok).is_empty());
}

#[test]
fn a_concurrency_limit_out_of_range_is_refused_at_concurrency_max() {
    for max in [0, 1001] {
        let doc = json!({
            "name": "j",
            "concurrency": { "max": max, "policy": "skip" },
            "steps": [{ "id": "a", "type": "test.any" }]
        });
        assert_eq!(paths(&errors_of(doc)), ["/concurrency/max"], "max {max}");
    }
    for max in [1, 1000] {
        let doc = json!({
            "name": "j",
            "concurrency": { "max": max },
            "steps": [{ "id": "a", "type": "test.any" }]
        });
        assert!(errors_of(doc).is_empty(), "max {max}");
    }
}

#[test]
fn settings_are_checked_against_the_step_catalogue() {
    let doc = json!({
        "name": "j",
        "steps": [
            { "id": "a", "type": "ssh.exec", "with": { "comand": "id" } },
            { "id": "b", "type": "wait" },
            { "id": "c", "type": "wait", "with": { "seconds": "{{ run.id }}" } }
        ]
    });
    let found: Vec<(String, String)> = errors_of(doc)
        .into_iter()
        .map(|e| (e.path, e.message))
        .collect();
    assert_eq!(
        found,
        [
            (
                "/steps/0/with/command".to_owned(),
                "`command` is required for ssh.exec".to_owned()
            ),
            (
                "/steps/0/with/comand".to_owned(),
                "unknown setting `comand` for ssh.exec; did you mean `command`?".to_owned()
            ),
            (
                "/steps/1/with/seconds".to_owned(),
                "`seconds` is required for wait".to_owned()
            ),
        ]
    );
}
