//! `webhook.call`: delivery, signature, retries and their limits.

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use opsc_proto::events::StepStatus;
use serde_json::json;
use sha2::Sha256;

use super::server::Server;
use super::{Call, run};

#[tokio::test]
async fn a_503_is_retried_after_a_backoff_and_then_delivered() {
    let s = Server::start().await;
    s.shared.flaky.lock().unwrap().push_back((503, None));
    let started = Instant::now();
    let ran = run(
        "webhook.call",
        json!({"url": s.url("/flaky"), "payload": {"event": "deployed", "version": 7}}),
    )
    .await;
    assert!(ran.succeeded(), "{ran:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "backoff starts at 1s"
    );
    assert_eq!(ran.outcome.exit_code, Some(200));
    assert_eq!(ran.json()["delivered"], true);
    assert!(
        ran.out.stderr.contains("attempt 1 of 4 failed"),
        "{}",
        ran.out.stderr
    );
    let seen = s.shared.seen();
    assert_eq!(seen.len(), 2);
    for r in &seen {
        assert_eq!(r.method, "POST");
        assert_eq!(r.headers["content-type"], "application/json");
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body, json!({"event": "deployed", "version": 7}));
        assert!(
            !r.headers.contains_key("x-opsconductor-signature"),
            "no secret, no signature"
        );
    }
    assert_eq!(
        seen[0].headers["x-opsconductor-delivery"], seen[1].headers["x-opsconductor-delivery"],
        "one delivery id for every attempt"
    );
}

#[tokio::test]
async fn the_signature_verifies_over_the_raw_body() {
    let s = Server::start().await;
    let ran = run(
        "webhook.call",
        json!({"url": s.url("/flaky"), "payload": {"b": [1, "two"], "a": null}, "secret": "hook-key-123"}),
    )
    .await;
    assert!(ran.succeeded(), "{ran:?}");
    let r = s.shared.seen().pop().unwrap();
    let ts_text = r.headers["x-opsconductor-timestamp"].to_str().unwrap();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"hook-key-123").unwrap();
    mac.update(format!("{ts_text}.").as_bytes());
    mac.update(&r.body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        r.headers["x-opsconductor-signature"],
        format!("sha256={expected}").as_str()
    );
    let ts: i64 = r.headers["x-opsconductor-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((chrono::Utc::now().timestamp() - ts).abs() < 60);
    let tag = r.headers["x-opsconductor-signature"].to_str().unwrap();
    let tag = tag.strip_prefix("sha256=").unwrap();
    let bytes: Vec<u8> = (0..tag.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&tag[i..i + 2], 16).unwrap())
        .collect();
    // A receiver with another key rejects it.
    let mut wrong = <Hmac<Sha256> as Mac>::new_from_slice(b"other-key").unwrap();
    wrong.update(format!("{ts_text}.").as_bytes());
    wrong.update(&r.body);
    assert!(wrong.verify_slice(&bytes).is_err());
    // So does one given the same body with another timestamp (a replay).
    let mut replayed = <Hmac<Sha256> as Mac>::new_from_slice(b"hook-key-123").unwrap();
    replayed.update(format!("{}.", ts + 600).as_bytes());
    replayed.update(&r.body);
    assert!(replayed.verify_slice(&bytes).is_err());
}

#[tokio::test]
async fn a_400_is_not_retried() {
    let s = Server::start().await;
    let started = Instant::now();
    let ran = run("webhook.call", json!({"url": s.url("/status/400")})).await;
    assert_eq!(ran.outcome.status, StepStatus::Failed);
    assert_eq!(ran.outcome.exit_code, Some(400));
    assert!(ran.error().contains("400 Bad Request"), "{}", ran.error());
    assert_eq!(s.shared.seen().len(), 1);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        s.shared.seen()[0].body.as_ref(),
        b"{}",
        "the default payload"
    );
}

#[tokio::test]
async fn retry_after_is_honoured_and_retries_run_out() {
    let s = Server::start().await;
    s.shared.flaky.lock().unwrap().push_back((429, Some("2")));
    let started = Instant::now();
    let ran = run("webhook.call", json!({"url": s.url("/flaky")})).await;
    assert!(ran.succeeded(), "{ran:?}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(2),
        "Retry-After: 2 beats the 1s backoff: {waited:?}"
    );
    assert!(
        ran.out.stderr.contains("retrying in 2.0s"),
        "{}",
        ran.out.stderr
    );

    let s = Server::start().await;
    for _ in 0..5 {
        s.shared.flaky.lock().unwrap().push_back((503, Some("0")));
    }
    let ran = run(
        "webhook.call",
        json!({"url": s.url("/flaky"), "retries": "2"}),
    )
    .await;
    assert_eq!(ran.outcome.status, StepStatus::Failed);
    assert_eq!(ran.outcome.exit_code, Some(503));
    assert!(ran.error().ends_with("after 3 attempts"), "{}", ran.error());
    assert_eq!(s.shared.seen().len(), 3);

    let too_many = run(
        "webhook.call",
        json!({"url": s.url("/flaky"), "retries": 11}),
    )
    .await;
    assert!(
        too_many.error().contains("at most 10"),
        "{}",
        too_many.error()
    );
}

#[tokio::test]
async fn connection_errors_are_retried() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let ran = run(
        "webhook.call",
        json!({"url": format!("http://127.0.0.1:{port}/hook"), "retries": 1}),
    )
    .await;
    assert_eq!(ran.outcome.status, StepStatus::Failed);
    assert!(ran.error().contains("cannot connect"), "{}", ran.error());
    assert!(
        ran.out.stderr.contains("attempt 1 of 2 failed"),
        "{}",
        ran.out.stderr
    );
}

#[tokio::test]
async fn cancel_ends_the_wait_between_attempts() {
    let s = Server::start().await;
    s.shared.flaky.lock().unwrap().push_back((503, Some("30")));
    let call = Call::default();
    let cancel = call.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        cancel.cancel();
    });
    let started = Instant::now();
    let ran = call
        .run("webhook.call", json!({"url": s.url("/flaky")}))
        .await;
    assert_eq!(ran.error(), "interrupted");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(s.shared.seen().len(), 1);
}
