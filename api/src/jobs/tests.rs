#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use serde_json::json;

use super::*;

fn doc() -> serde_json::Value {
    json!({
        "name": "restart-web",
        "description": "Restarts the web tier",
        "parameters": {
            "service": {"type": "string", "default": "nginx"},
            "token": {"type": "secret", "required": true}
        },
        "steps": [
            {"id": "stop", "type": "ssh.exec", "with": {"command": "systemctl stop {{ params.service }}"}},
            {"id": "start", "type": "ssh.exec", "with": {"command": "systemctl start {{ params.service }}"}}
        ]
    })
}

fn bytes(v: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

#[test]
fn content_types_choose_the_format() {
    assert_eq!(
        Format::of_content_type("application/json; charset=utf-8"),
        Some(Format::Json)
    );
    assert_eq!(Format::of_content_type("Text/YAML"), Some(Format::Yaml));
    assert_eq!(
        Format::of_content_type("application/yaml"),
        Some(Format::Yaml)
    );
    assert_eq!(Format::of_content_type("text/plain"), None);
}

#[test]
fn a_valid_document_is_accepted_in_both_formats() {
    let def = accept(&bytes(&doc()), Format::Json).unwrap();
    assert_eq!(def.steps.len(), 2);
    let yaml = render(&def, Format::Yaml).unwrap();
    assert!(!yaml.contains("null"), "{yaml}");
    assert_eq!(accept(yaml.as_bytes(), Format::Yaml).unwrap(), def);
    let json = render(&def, Format::Json).unwrap();
    assert_eq!(accept(json.as_bytes(), Format::Json).unwrap(), def);
}

#[test]
fn an_unknown_field_is_located() {
    let mut d = doc();
    d["steps"][1]["comand"] = json!("x");
    let e = parse(&bytes(&d), Format::Json).unwrap_err().remove(0);
    assert!(e.path.starts_with("/steps/1"), "{e}");
    assert!(e.message.contains("comand"), "{e}");

    let yaml = "name: x\nsteps:\n  - id: a\n    type: wait\n    colour: red\n";
    let e = parse(yaml.as_bytes(), Format::Yaml).unwrap_err().remove(0);
    assert!(e.path.starts_with("/steps/0"), "{e}");
    assert!(e.message.starts_with("unknown field `colour`"), "{e}");
}

#[test]
fn wrong_types_and_syntax_are_reported() {
    let mut d = doc();
    d["parallelism"] = json!("many");
    let e = parse(&bytes(&d), Format::Json).unwrap_err().remove(0);
    assert_eq!(e.path, "/parallelism");
    let e = parse(b"{\"name\": ", Format::Json).unwrap_err().remove(0);
    assert!(e.message.contains("line 1"), "{e}");
    assert!(parse(b"{} trailing", Format::Json).is_err());
    let e = parse(b"name: [unclosed", Format::Yaml)
        .unwrap_err()
        .remove(0);
    assert!(e.message.contains("line 1"), "{e}");
}

#[test]
fn every_problem_of_a_document_is_listed_at_once() {
    let mut d = doc();
    d["parallelism"] = json!("many");
    d["steps"][0]["comand"] = json!("x");
    d["timeout_secs"] = json!(-1);
    let errors = parse(&bytes(&d), Format::Json).unwrap_err();
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert!(errors.len() >= 3, "{errors:?}");
    assert!(paths.contains(&"/parallelism"), "{paths:?}");
    assert!(paths.contains(&"/timeout_secs"), "{paths:?}");
    assert!(paths.iter().any(|p| p.starts_with("/steps/0")), "{paths:?}");
}

#[test]
fn duplicate_step_ids_are_refused_at_the_second() {
    let mut d = doc();
    d["steps"][1]["id"] = json!("stop");
    let def = parse(&bytes(&d), Format::Json).unwrap();
    let errors = validate(&def);
    assert!(errors.iter().any(|e| e.path == "/steps/1/id"), "{errors:?}");
}

#[test]
fn secret_defaults_are_refused_and_never_shown() {
    let mut d = doc();
    d["parameters"]["token"]["default"] = json!("hunter2");
    let def = parse(&bytes(&d), Format::Json).unwrap();
    let errors = validate(&def);
    assert_eq!(
        errors,
        vec![PathError::new("/parameters/token/default", SECRET_DEFAULT)]
    );
    let refused = accept(&bytes(&d), Format::Json).unwrap_err();
    assert!(matches!(refused, JobError::Invalid(_)), "{refused}");
    assert!(!refused.to_string().contains("hunter2"), "{refused}");
    let shown = redact(def);
    assert_eq!(shown.parameters["token"].default, None);
    assert_eq!(shown.parameters["service"].default, Some(json!("nginx")));
}

#[test]
fn file_names_are_safe() {
    assert_eq!(
        file_name("restart web/1", Format::Yaml),
        "restart_web_1.yaml"
    );
    assert_eq!(file_name("..", Format::Json), "job.json");
}
