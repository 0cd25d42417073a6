use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;
use crate::job::STEP_TYPES;

fn problems(step_type: &str, with: Value) -> Vec<(String, String)> {
    let with: BTreeMap<String, Value> = serde_json::from_value(with).unwrap();
    let mut errors = Vec::new();
    check_with(step_type, &with, "/steps/0", &mut errors);
    errors.into_iter().map(|e| (e.path, e.message)).collect()
}

#[test]
fn every_declared_type_has_one_entry_and_the_list_is_sorted() {
    for name in STEP_TYPES {
        assert!(find(name).is_some(), "{name} has no catalogue entry");
    }
    assert_eq!(catalog().len(), STEP_TYPES.len());
    let order: Vec<(&str, &str)> = catalog().iter().map(|s| (s.family, s.name)).collect();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(order, sorted);
}

#[test]
fn every_schema_is_a_closed_object_schema_whose_examples_pass() {
    for spec in catalog() {
        let s = &spec.with_schema;
        assert_eq!(s["type"], "object", "{}", spec.name);
        assert_eq!(s["additionalProperties"], false, "{}", spec.name);
        let properties = s["properties"].as_object().unwrap();
        for key in s["required"].as_array().unwrap() {
            assert!(
                properties.contains_key(key.as_str().unwrap()),
                "{}: {key}",
                spec.name
            );
        }
        for (key, sub) in properties {
            assert!(
                sub.get("description").is_some(),
                "{}.{key} has no description",
                spec.name
            );
            for pattern in patterns(sub) {
                assert!(
                    regex::Regex::new(&pattern).is_ok(),
                    "{}.{key}: {pattern}",
                    spec.name
                );
            }
        }
        let examples = s["examples"].as_array().unwrap();
        assert!(!examples.is_empty(), "{}", spec.name);
        for example in examples {
            assert_eq!(
                problems(spec.name, example.clone()),
                vec![],
                "{}",
                spec.name
            );
        }
    }
}

fn patterns(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = schema.get("pattern").and_then(Value::as_str) {
        out.push(p.to_owned());
    }
    for alt in schema
        .get("anyOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.extend(patterns(alt));
    }
    out
}

#[test]
fn an_unknown_key_names_the_closest_known_one() {
    assert_eq!(
        problems("ssh.exec", json!({"comand": "id"})),
        [
            (
                "/steps/0/with/command".to_owned(),
                "`command` is required for ssh.exec".to_owned()
            ),
            (
                "/steps/0/with/comand".to_owned(),
                "unknown setting `comand` for ssh.exec; did you mean `command`?".to_owned()
            ),
        ]
    );
    let far = problems("wait", json!({"seconds": 1, "zzzzzz": 1}));
    assert_eq!(far[0].0, "/steps/0/with/zzzzzz");
    assert!(far[0].1.ends_with("(known: seconds)"), "{far:?}");
}

#[test]
fn wrong_types_and_values_are_refused() {
    let found = problems(
        "sftp.sync",
        json!({"source": "a", "dest": "", "direction": "uplaod", "delete": "maybe"}),
    );
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/steps/0/with/delete",
            "/steps/0/with/dest",
            "/steps/0/with/direction"
        ]
    );
    assert_eq!(found[1].1, "must not be empty");
    assert!(found[2].1.contains("`upload`"), "{found:?}");
    assert_eq!(
        problems("wait", json!({"seconds": 90_000})),
        [(
            "/steps/0/with/seconds".to_owned(),
            "must be a number from 0 to 86400 or a number as text or a template ({{ … }})"
                .to_owned()
        )]
    );
    assert_eq!(
        problems("ssh.exec", json!({"command": "id", "sudo": "yes"})).len(),
        1
    );
    assert_eq!(
        problems("local.exec", json!({"command": "id", "env": ["A"]})).len(),
        1
    );
    assert_eq!(
        problems("sftp.upload", json!({"dest": "/x", "mode": "999"})).len(),
        1
    );
}

#[test]
fn templates_are_accepted_where_values_are_not_text() {
    for (kind, with) in [
        ("wait", json!({"seconds": "{{ params.delay }}"})),
        ("wait", json!({"seconds": "2.5"})),
        (
            "sftp.sync",
            json!({"source": "a", "dest": "b", "delete": "{{ params.prune }}", "direction": "{{ params.dir }}"}),
        ),
        (
            "http.get",
            json!({"url": "/x", "verify_tls": "{{ params.tls }}", "expect_status": "2xx"}),
        ),
        (
            "webhook.call",
            json!({"url": "/x", "retries": "{{ params.n }}"}),
        ),
        (
            "sftp.upload",
            json!({"content": "x", "dest": "/x", "mode": "{{ params.mode }}", "overwrite": "false"}),
        ),
    ] {
        assert_eq!(problems(kind, with.clone()), vec![], "{kind} {with}");
    }
}

#[test]
fn fixed_method_steps_take_no_method() {
    assert_eq!(
        problems("http.request", json!({"url": "/x", "method": "GET"})),
        vec![]
    );
    let found = problems("http.get", json!({"url": "/x", "method": "GET"}));
    assert_eq!(found[0].0, "/steps/0/with/method");
}

#[test]
fn closest_only_suggests_near_names() {
    assert_eq!(closest("comand", ["command", "cwd"]), Some("command"));
    assert_eq!(closest("xyz", ["command", "cwd"]), None);
    assert_eq!(distance("kitten", "sitting"), 3);
}
