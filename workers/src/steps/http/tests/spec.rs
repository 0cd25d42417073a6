//! Settings parsing, URL resolution and the pure helpers.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use super::super::request::resolve;
use super::super::spec::{ExpectStatus, HttpSpec, StatusMatch, WebhookSpec, parse};
use super::super::webhook::{backoff, signature};

fn with(v: Value) -> BTreeMap<String, Value> {
    serde_json::from_value(v).unwrap()
}

#[test]
fn expect_status_takes_codes_classes_and_lists() {
    let parsed = |v: Value| -> ExpectStatus {
        let spec: HttpSpec = parse(&with(json!({"url": "http://h", "expect_status": v}))).unwrap();
        spec.expect_status.unwrap()
    };
    assert_eq!(parsed(json!(204)).0, vec![StatusMatch::Exact(204)]);
    assert_eq!(parsed(json!("3XX")).0, vec![StatusMatch::Class(3)]);
    let list = parsed(json!([200, "4xx"]));
    assert!(list.accepts(200) && list.accepts(404) && !list.accepts(201));
    assert_eq!(list.to_string(), "200, 4xx");
    assert!(parsed(json!("204")).accepts(204));
    assert!(ExpectStatus::default().accepts(299) && !ExpectStatus::default().accepts(300));
    for bad in [
        json!(99),
        json!("6xx"),
        json!([]),
        json!({"a": 1}),
        json!("20x"),
    ] {
        assert!(
            parse::<HttpSpec>(&with(json!({"url": "http://h", "expect_status": bad}))).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn rendered_text_is_accepted_for_booleans_and_counts() {
    let spec: HttpSpec = parse(&with(
        json!({"url": "http://h", "verify_tls": "false", "follow_redirects": "true", "json": null}),
    ))
    .unwrap();
    assert_eq!(spec.verify_tls, Some(false));
    assert_eq!(spec.follow_redirects, Some(true));
    assert_eq!(
        spec.json,
        Some(Value::Null),
        "an explicit null is a JSON body"
    );
    let hook: WebhookSpec = parse(&with(json!({"url": "http://h", "retries": " 5 "}))).unwrap();
    assert_eq!(hook.retries, Some(5));
    let err = parse::<HttpSpec>(&with(json!({"url": "http://h", "verify_tls": "maybe"})))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("with.verify_tls: "), "{err}");
}

#[test]
fn errors_never_quote_a_value() {
    let err = parse::<HttpSpec>(&with(json!({"url": "http://h", "query": "token=s3cr3t-x"})))
        .unwrap_err()
        .to_string();
    assert!(!err.contains("s3cr3t"), "{err}");
    assert!(err.starts_with("with.query: invalid type: text"), "{err}");
    let err = parse::<HttpSpec>(&with(json!({"url": "http://h", "bogus": 1})))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `bogus`"), "{err}");
}

#[test]
fn relative_urls_are_appended_to_the_base() {
    let base = Some("https://api.example.com/v2/");
    let r = |u: &str| resolve(u, base).unwrap().to_string();
    assert_eq!(r("/items?a=1"), "https://api.example.com/v2/items?a=1");
    assert_eq!(r("items"), "https://api.example.com/v2/items");
    assert_eq!(r(""), "https://api.example.com/v2/");
    assert_eq!(r("HTTP://other.example/x"), "http://other.example/x");
    assert_eq!(
        resolve("/x", Some("http://h:8080")).unwrap().to_string(),
        "http://h:8080/x"
    );
    assert!(resolve("/x", None).is_err());
    assert!(resolve("file:///etc/passwd", base).is_err());
    assert!(resolve("http://", None).is_err());
}

#[test]
fn the_signature_is_hmac_sha256_hex() {
    // RFC 4231-style known answer (Wikipedia's HMAC-SHA256 example).
    assert_eq!(
        signature("key", b"The quick brown fox jumps over the lazy dog"),
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    );
}

#[test]
fn backoff_doubles_from_one_second_up_to_a_minute() {
    let waits: Vec<Duration> = (1..=8).map(backoff).collect();
    assert_eq!(
        waits.iter().map(Duration::as_secs).collect::<Vec<_>>(),
        vec![1, 2, 4, 8, 16, 32, 60, 60]
    );
}

#[test]
fn the_settings_read_are_the_catalogue_keys() {
    use crate::steps::tests::{schema_keys, serde_keys};
    let request = serde_keys(|w| parse::<HttpSpec>(w).unwrap_err().to_string());
    assert_eq!(request, schema_keys("http.request"));
    // The fixed-method steps read `method` only to refuse it.
    for name in [
        "http.get",
        "http.post",
        "http.put",
        "http.patch",
        "http.delete",
    ] {
        let mut keys = schema_keys(name);
        keys.push("method".to_owned());
        keys.sort();
        assert_eq!(request, keys, "{name}");
    }
    let webhook = serde_keys(|w| parse::<WebhookSpec>(w).unwrap_err().to_string());
    assert_eq!(webhook, schema_keys("webhook.call"));
}
