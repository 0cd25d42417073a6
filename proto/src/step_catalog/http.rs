//! HTTP: `http.request`, `http.get|post|put|patch|delete`, `webhook.call`.

use serde_json::{Value, json};

use super::StepTypeSpec;
use super::shapes::{any, choice, loose_flag, number, required_text, scalars, settings, text};

fn expect_status() -> Value {
    json!({
        "description": "Statuses that count as success: a status (200), a class (\"2xx\"), or a list of them (default 2xx).",
        "anyOf": [
            {"type": "integer", "minimum": 100, "maximum": 599},
            {"type": "string", "title": "a status or class as text (\"2xx\", \"200, 404\")"},
            {"type": "array", "minItems": 1, "items": {"type": ["integer", "string"]}},
        ],
    })
}

/// The settings every HTTP step takes.
fn common(follow_default: bool) -> Vec<(&'static str, Value)> {
    vec![
        (
            "url",
            required_text("Absolute http(s):// URL, or a path below the target's http.base_url."),
        ),
        ("headers", scalars("Request headers.")),
        (
            "query",
            scalars("Query parameters appended to the URL (interpolate values here, not in url)."),
        ),
        ("expect_status", expect_status()),
        (
            "follow_redirects",
            loose_flag("Follow redirects (at most 10).", Some(follow_default)),
        ),
        (
            "verify_tls",
            loose_flag(
                "Verify certificates (default: the target's http.verify_tls, else true).",
                None,
            ),
        ),
        (
            "auth",
            choice(
                "target applies the target's http credential; none sends none.",
                &["target", "none"],
                Some("target"),
            ),
        ),
    ]
}

fn request(name: &'static str, method: Option<&str>, idempotent: bool) -> StepTypeSpec {
    let mut p = common(true);
    let mut required = vec!["url"];
    if method.is_none() {
        p.push((
            "method",
            required_text("The HTTP method (GET, POST, PUT, PATCH, DELETE, HEAD, …)."),
        ));
        required.push("method");
    }
    p.push(("json", any("A JSON body (any value).")));
    p.push(("body", text("A text body.")));
    p.push((
        "form",
        scalars("A form body (application/x-www-form-urlencoded)."),
    ));
    let description = match method {
        Some(m) => format!("Sends one HTTP {m} request; the response body is the step's output, the status its exit code."),
        None => "Sends one HTTP request of any method; the response body is the step's output, the status its exit code.".to_owned(),
    };
    let example = match method {
        Some(_) => json!({"url": "/health", "expect_status": [200, 204]}),
        None => {
            json!({"method": "POST", "url": "https://api.example.com/deploys", "json": {"svc": "{{ params.svc }}"}})
        }
    };
    StepTypeSpec {
        name,
        family: "http",
        description,
        idempotent,
        needs_target: false,
        with_schema: settings(p, &required, vec![example]),
    }
}

/// The HTTP steps.
pub fn specs() -> Vec<StepTypeSpec> {
    let mut webhook = common(false);
    webhook.push(("method", text("The HTTP method (default POST).")));
    webhook.push(("payload", any("The JSON payload (default {}).")));
    webhook.push(("secret", text("HMAC-SHA256 key: signs the body when set.")));
    webhook.push((
        "retries",
        number(
            "integer",
            "Retries after a connection error, a 5xx or a 429 (default 3).",
            0.0,
            10.0,
            Some(3.0),
        ),
    ));
    vec![
        request("http.request", None, false),
        request("http.get", Some("GET"), true),
        request("http.post", Some("POST"), false),
        request("http.put", Some("PUT"), true),
        request("http.patch", Some("PATCH"), false),
        request("http.delete", Some("DELETE"), true),
        StepTypeSpec {
            name: "webhook.call",
            family: "http",
            description: "Delivers a JSON payload, optionally HMAC-signed, retrying on connection errors, 5xx and 429.".into(),
            idempotent: false,
            needs_target: false,
            with_schema: settings(
                webhook,
                &["url"],
                vec![json!({"url": "https://hooks.example.com/x", "payload": {"run": "{{ run.id }}"}, "retries": 2})],
            ),
        },
    ]
}
