//! Bodies, statuses, redirects, TLS, failures and cancellation.

use std::time::{Duration, Instant};

use opsc_proto::events::StepStatus;
use serde_json::json;

use super::server::Server;
use super::{Call, run, target};

#[tokio::test]
async fn a_json_body_is_sent_and_the_json_answer_is_the_steps_json() {
    let s = Server::start().await;
    let ran = run(
        "http.post",
        json!({"url": s.url("/echo"), "json": {"name": "web", "n": [1, 2]},
               "headers": {"X-Trace": "abc", "X-Num": 7}}),
    )
    .await;
    assert!(ran.succeeded(), "{ran:?}");
    assert_eq!(ran.outcome.exit_code, Some(200));
    let answer = ran.json();
    assert_eq!(answer["method"], "POST");
    assert_eq!(answer["headers"]["content-type"], "application/json");
    assert_eq!(answer["headers"]["x-trace"], "abc");
    assert_eq!(answer["headers"]["x-num"], "7");
    let sent: serde_json::Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent, json!({"name": "web", "n": [1, 2]}));
    assert!(
        ran.out.stderr.contains("< HTTP/1.1 200 OK"),
        "{}",
        ran.out.stderr
    );
    assert!(
        ran.out
            .stderr
            .starts_with(&format!("> POST {}", s.url("/echo")))
    );
}

#[tokio::test]
async fn a_form_body_is_urlencoded_and_query_values_are_encoded() {
    let s = Server::start().await;
    let ran = run(
        "http.put",
        json!({"url": s.url("/echo"), "form": {"a": "x y&z", "n": 2, "list": [1, "two"]},
               "query": {"q": "a&b=c", "page": 3}}),
    )
    .await;
    assert!(ran.succeeded(), "{ran:?}");
    let answer = ran.json();
    assert_eq!(answer["method"], "PUT");
    assert_eq!(
        answer["headers"]["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(answer["body"], "a=x+y%26z&list=1&list=two&n=2");
    assert_eq!(answer["query"], "page=3&q=a%26b%3Dc");
}

#[tokio::test]
async fn http_request_takes_its_method_and_a_text_body() {
    let s = Server::start().await;
    let ran = run(
        "http.request",
        json!({"url": s.url("/echo"), "method": "patch", "body": "plain words",
               "headers": {"Content-Type": "text/x-custom"}}),
    )
    .await;
    assert!(ran.succeeded(), "{ran:?}");
    let answer = ran.json();
    assert_eq!(answer["method"], "PATCH");
    assert_eq!(answer["body"], "plain words");
    assert_eq!(answer["headers"]["content-type"], "text/x-custom");
    let head = run(
        "http.request",
        json!({"url": s.url("/echo"), "method": "HEAD"}),
    )
    .await;
    assert!(head.succeeded(), "{head:?}");
    assert_eq!(head.out.stdout, "");
    let deleted = run("http.delete", json!({"url": s.url("/echo")})).await;
    assert_eq!(deleted.json()["method"], "DELETE");
}

#[tokio::test]
async fn an_unexpected_status_fails_naming_status_and_expectation() {
    let s = Server::start().await;
    let ran = run("http.get", json!({"url": s.url("/status/404")})).await;
    assert_eq!(ran.outcome.status, StepStatus::Failed);
    assert_eq!(ran.outcome.exit_code, Some(404));
    assert!(ran.error().contains("404 Not Found"), "{}", ran.error());
    assert!(ran.error().contains("expected 2xx"), "{}", ran.error());
    assert_eq!(ran.json()["status"], 404, "the body is still captured");

    for (expect, ok) in [
        (json!([200, 404]), true),
        (json!("4xx"), true),
        (json!("200, 404"), true),
        (json!(404), true),
        (json!("5xx"), false),
    ] {
        let ran = run(
            "http.get",
            json!({"url": s.url("/status/404"), "expect_status": expect}),
        )
        .await;
        assert_eq!(ran.succeeded(), ok, "{expect}: {ran:?}");
    }
    let created = run("http.post", json!({"url": s.url("/status/201")})).await;
    assert!(created.succeeded(), "2xx by default: {created:?}");
    let server_error = run("http.get", json!({"url": s.url("/status/503")})).await;
    assert!(server_error.error().contains("expected 2xx"));
}

#[tokio::test]
async fn redirects_are_followed_up_to_ten() {
    let s = Server::start().await;
    let ran = run("http.get", json!({"url": s.url("/redirect/9")})).await;
    assert!(ran.succeeded(), "{ran:?}");
    assert_eq!(ran.json()["path"], "/echo");
    assert_eq!(ran.out.stderr.matches("(redirect)").count(), 10);

    let too_many = run("http.get", json!({"url": s.url("/redirect/10")})).await;
    assert_eq!(too_many.outcome.status, StepStatus::Failed);
    assert!(
        too_many.error().contains("more than 10 redirects"),
        "{}",
        too_many.error()
    );

    let kept = run(
        "http.get",
        json!({"url": s.url("/redirect/0"), "follow_redirects": false}),
    )
    .await;
    assert_eq!(kept.outcome.exit_code, Some(302));
    assert!(kept.error().contains("302 Found"), "{kept:?}");
    let accepted = run(
        "http.get",
        json!({"url": s.url("/redirect/0"), "follow_redirects": "false", "expect_status": 302}),
    )
    .await;
    assert!(accepted.succeeded(), "{accepted:?}");
    assert!(
        s.shared
            .seen()
            .iter()
            .all(|r| r.path != "/echo" || r.method == "GET")
    );
}

#[tokio::test]
async fn a_302_after_post_becomes_a_get_and_a_307_keeps_the_body() {
    let s = Server::start().await;
    let ran = run(
        "http.post",
        json!({"url": s.url("/redirect/0"), "json": {"a": 1}}),
    )
    .await;
    assert!(ran.succeeded(), "{ran:?}");
    assert_eq!(ran.json()["method"], "GET");
    assert_eq!(ran.json()["body"], "");
    let kept = run(
        "http.post",
        json!({"url": s.url("/redirect307"), "json": {"a": 1}}),
    )
    .await;
    assert!(kept.succeeded(), "{kept:?}");
    assert_eq!(kept.json()["method"], "POST");
    assert_eq!(kept.json()["path"], "/echo/kept");
    assert_eq!(kept.json()["body"], "{\"a\":1}");
}

#[tokio::test]
async fn a_relative_url_joins_the_targets_base_url() {
    let s = Server::start().await;
    let call = Call::on_target(&s.url("/echo/"), None);
    let ran = call.run("http.get", json!({"url": "/v1/items"})).await;
    assert!(ran.succeeded(), "{ran:?}");
    assert_eq!(ran.json()["path"], "/echo/v1/items");
    let no_target = run("http.get", json!({"url": "/v1/items"})).await;
    assert!(
        no_target.error().contains("not absolute"),
        "{}",
        no_target.error()
    );
}

#[tokio::test]
async fn a_refused_connection_fails_clearly_without_the_query() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let ran = run(
        "http.get",
        json!({"url": format!("http://127.0.0.1:{port}/x?token=hush-hush-1")}),
    )
    .await;
    assert_eq!(ran.outcome.status, StepStatus::Failed);
    assert_eq!(ran.outcome.exit_code, None);
    let error = ran.error();
    assert!(
        error.starts_with(&format!("GET http://127.0.0.1:{port}/x: cannot connect")),
        "{error}"
    );
    assert!(error.contains("refused"), "{error}");
    assert!(!error.contains("hush-hush"), "{error}");
}

#[tokio::test]
async fn bad_settings_are_refused_before_sending() {
    let s = Server::start().await;
    for (kind, with, says) in [
        (
            "http.get",
            json!({"url": s.url("/echo"), "method": "POST"}),
            "fixes the method",
        ),
        (
            "http.request",
            json!({"url": s.url("/echo")}),
            "with.method is required",
        ),
        (
            "http.post",
            json!({"url": s.url("/echo"), "json": {}, "body": "x"}),
            "at most one",
        ),
        (
            "http.get",
            json!({"url": s.url("/echo"), "timeout": 3}),
            "unknown field `timeout`",
        ),
        (
            "http.get",
            json!({"url": "ftp://h/x"}),
            "only http:// and https://",
        ),
        (
            "http.get",
            json!({"url": s.url("/echo"), "expect_status": "ok"}),
            "expect_status",
        ),
        (
            "http.get",
            json!({"url": s.url("/echo"), "headers": "Bearer s3cr3t-value"}),
            "with.headers",
        ),
    ] {
        let ran = run(kind, with.clone()).await;
        assert_eq!(ran.outcome.status, StepStatus::Failed, "{with}");
        assert!(ran.error().contains(says), "{with}: {}", ran.error());
        assert!(!ran.error().contains("s3cr3t"), "{}", ran.error());
    }
    assert!(s.shared.seen().is_empty());
}

#[tokio::test]
async fn cancel_stops_a_slow_request_promptly() {
    let s = Server::start().await;
    let call = Call::default();
    let cancel = call.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
    });
    let started = Instant::now();
    let ran = call.run("http.get", json!({"url": s.url("/slow")})).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(ran.error(), "interrupted");
}

#[tokio::test]
async fn a_long_json_line_stays_one_document() {
    let s = Server::start().await;
    let ran = run("http.get", json!({"url": s.url("/big")})).await;
    assert!(ran.succeeded(), "{ran:?}");
    let items = ran.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1500);
    assert_eq!(items[1499]["name"], "élément-01499-€");
}

#[tokio::test]
async fn certificates_are_verified_unless_turned_off() {
    let s = Server::start_tls().await;
    let ran = run("http.get", json!({"url": s.url("/echo")})).await;
    assert_eq!(ran.outcome.status, StepStatus::Failed);
    assert!(ran.error().contains("certificate"), "{}", ran.error());
    let trusting = run(
        "http.get",
        json!({"url": s.url("/echo"), "verify_tls": false}),
    )
    .await;
    assert!(trusting.succeeded(), "{trusting:?}");
    assert_eq!(trusting.json()["path"], "/echo");

    let on_target = Call {
        target: Some(target(&s.base(), None, false)),
        ..Call::default()
    };
    let ran = on_target.run("http.get", json!({"url": "/echo"})).await;
    assert!(ran.succeeded(), "the target's verify_tls applies: {ran:?}");
    let ran = on_target
        .run("http.get", json!({"url": "/echo", "verify_tls": true}))
        .await;
    assert!(!ran.succeeded(), "the step's setting wins: {ran:?}");
}

#[tokio::test]
async fn only_methods_without_side_effects_are_idempotent() {
    let r = crate::steps::registry();
    for (kind, safe) in [
        ("http.get", true),
        ("http.put", true),
        ("http.delete", true),
        ("http.post", false),
        ("http.patch", false),
        ("http.request", false),
        ("webhook.call", false),
    ] {
        assert_eq!(r[kind].idempotent(), safe, "{kind}");
        assert!(!r[kind].needs_target(), "{kind}");
        assert_eq!(r[kind].quoting("url"), crate::template::Quoting::None);
    }
}
