//! Every problem of a body at once, in field language, for JSON and YAML.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{PathError, Refusal, json_document, yaml_document};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "only parsed")]
struct Target {
    name: String,
    hostname: String,
    os: Os,
    #[serde(default)]
    ssh: Option<Ssh>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    steps: Vec<Step>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Os {
    Linux,
    Windows,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "only parsed")]
struct Ssh {
    credential_id: uuid::Uuid,
    #[serde(default)]
    #[schemars(range(min = 1))]
    port: Option<u16>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[allow(dead_code, reason = "only parsed")]
enum Step {
    Exec { command: String },
    Wait { seconds: u32 },
}

fn problems(result: Result<Target, Refusal>) -> Vec<(String, String)> {
    match result {
        Err(Refusal::Shape(errors)) => errors
            .into_iter()
            .map(|PathError { path, message }| (path, message))
            .collect(),
        other => panic!("{other:?}"),
    }
}

fn pair(path: &str, message: &str) -> (String, String) {
    (path.to_owned(), message.to_owned())
}

#[test]
fn every_problem_is_found_at_once_and_worded() {
    let body = br#"{"hostname": 5, "os": "linx", "ssh": {"port": "22"}, "tagz": []}"#;
    let found = problems(json_document::<Target>(body));
    for expected in [
        pair("/name", "`name` is required"),
        pair("/hostname", "`hostname` must be a string, not a number"),
        pair(
            "/os",
            "`os` must be `linux` or `windows`; did you mean `linux`?",
        ),
        pair("/ssh/credential_id", "`ssh.credential_id` is required"),
        pair(
            "/ssh/port",
            "`ssh.port` must be an integer between 1 and 65535, not a string",
        ),
        pair("/tagz", "unknown field `tagz`; did you mean `tags`?"),
    ] {
        assert!(found.contains(&expected), "{expected:?} in {found:?}");
    }
    assert_eq!(found.len(), 6, "{found:?}");
}

#[test]
fn ranges_formats_and_tagged_variants_are_checked() {
    let body = br#"{"name": "a", "hostname": "h", "os": "linux",
        "ssh": {"credential_id": "nope", "port": 70000},
        "steps": [{"type": "exec", "comand": "x"}, {"type": "sleep"}, {"type": "wait", "seconds": -1}]}"#;
    let found = problems(json_document::<Target>(body));
    for expected in [
        pair(
            "/ssh/credential_id",
            "`ssh.credential_id` must be a UUID, such as `0190c9a4-7f6e-7d3a-9b1c-2f4e5d6a7b8c`",
        ),
        pair(
            "/ssh/port",
            "`ssh.port` must be an integer between 1 and 65535",
        ),
        pair("/steps/0/command", "`steps[0].command` is required"),
        pair(
            "/steps/0/comand",
            "unknown field `comand` in `steps[0]`; did you mean `command`?",
        ),
        pair("/steps/1/type", "`steps[1].type` must be `exec` or `wait`"),
        pair(
            "/steps/2/seconds",
            "`steps[2].seconds` must be an integer between 0 and 4294967295",
        ),
    ] {
        assert!(found.contains(&expected), "{expected:?} in {found:?}");
    }
}

#[test]
fn good_documents_pass_and_syntax_is_not_shape() {
    let good = br#"{"name": "a", "hostname": "h", "os": "windows", "steps": [{"type": "wait", "seconds": 1}]}"#;
    assert!(json_document::<Target>(good).is_ok());
    assert!(matches!(
        json_document::<Target>(b"{\"name\": "),
        Err(Refusal::Syntax(_))
    ));
    assert!(matches!(
        json_document::<Target>(br#"{"name": 1e999}"#),
        Err(Refusal::Syntax(_))
    ));
}

#[test]
fn yaml_documents_get_the_same_treatment() {
    let good = b"name: a\nhostname: h\nos: linux\nssh:\n  credential_id: 0190c9a4-7f6e-7d3a-9b1c-2f4e5d6a7b8c\n";
    assert!(yaml_document::<Target>(good).is_ok());
    let bad = b"hostname: h\nos: linux\nssh:\n  credential_id: 0190c9a4-7f6e-7d3a-9b1c-2f4e5d6a7b8c\n  prot: 22\n";
    let found = problems(yaml_document::<Target>(bad));
    assert_eq!(
        found,
        [
            pair("/name", "`name` is required"),
            pair(
                "/ssh/prot",
                "unknown field `prot` in `ssh`; did you mean `port`?"
            ),
        ]
    );
    assert!(matches!(
        yaml_document::<Target>(b"name: [unclosed\n"),
        Err(Refusal::Syntax(_))
    ));
}
