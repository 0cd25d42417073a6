//! OpenTelemetry traces across processes: the api, a worker and the
//! notifier run as separate processes exporting to a real OTLP/HTTP
//! receiver. One run (an SSH step on the test sshd, then a
//! `notify.webhook` step delivered by the notifier to a real webhook
//! receiver) is requested with a `traceparent` of the test's own, and its
//! spans must arrive as one trace with the right parent-child links:
//!
//! request → admission → dispatch → worker shard → steps → notifier
//! command → delivery, and the recorder's fold a child of a span of the
//! run; spans from three `service.name`s. The worker's JSON log lines of
//! the run carry that trace's id, the current span's id, `run_id` and
//! `job_id`. A bad endpoint is refused at start, naming the setting.

mod receiver;

use std::collections::BTreeMap;
use std::time::Duration;

use opsc_notify_peers::WebhookPeer;
use reqwest::Method;
use serde_json::{Value, json};

use self::receiver::{Got, Receiver};
use crate::harness::runs::{create_job, wait_end};
use crate::harness::{
    ApiServer, Opsc, Sshd, TEST_MASTER_KEY, env_of, free_port, shared_nats_url, wait_until,
};

const WAIT: Duration = Duration::from_secs(60);

/// `server notifier` on the api's prefix, exporting to `endpoint`.
async fn start_notifier(api: &ApiServer, endpoint: &str) -> Opsc {
    let health = format!("127.0.0.1:{}", free_port());
    let env = env_of(&[
        ("OPSC_NATS_PREFIX", api.prefix.to_string()),
        ("OPSC_NATS_URL", shared_nats_url()),
        ("OPSC_MASTER_KEY", TEST_MASTER_KEY.to_owned()),
        ("OPSC_NOTIFIER_HEALTH_ADDR", health.clone()),
        ("OPSC_NOTIFIER_TICK_SECS", "1".to_owned()),
        ("OPSC_NOTIFIER_RETRY_BASE_MS", "100".to_owned()),
        ("OPSC_LOG_LEVEL", "debug".to_owned()),
        ("OPSC_TELEMETRY_OTLP_ENDPOINT", endpoint.to_owned()),
    ]);
    let p = Opsc::spawn(&["server", "notifier"], &env);
    let ready = format!("http://{health}/readyz");
    wait_until("the notifier is ready", Duration::from_secs(20), || {
        let ready = ready.clone();
        async move { crate::harness::status_of(&ready).await == 200 }
    })
    .await;
    p
}

fn one<'a>(spans: &'a [Got], name: &str, what: impl Fn(&Got) -> bool) -> &'a Got {
    let found: Vec<&Got> = spans.iter().filter(|s| s.name == name && what(s)).collect();
    assert_eq!(
        found.len(),
        1,
        "one {name} span: {found:#?}\nall: {spans:#?}"
    );
    found[0]
}

/// Whether `ancestor` is `span`'s parent, grandparent … within `spans`.
fn descends(spans: &[Got], span: &Got, ancestor: &Got) -> bool {
    let by_id: BTreeMap<&str, &Got> = spans.iter().map(|s| (s.span_id.as_str(), s)).collect();
    let mut at = span;
    for _ in 0..32 {
        if at.parent == ancestor.span_id {
            return true;
        }
        match by_id.get(at.parent.as_str()) {
            Some(p) => at = p,
            None => return false,
        }
    }
    false
}

async fn created(api: &ApiServer, token: &str, path: &str, body: Value) -> String {
    let (s, b) = api.call(Method::POST, path, Some(token), Some(body)).await;
    assert_eq!(s, 201, "{path}: {b}");
    b["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn one_runs_spans_cross_the_bus_as_one_trace_and_the_logs_join_it() {
    let otlp = Receiver::start().await;
    let endpoint = otlp.endpoint.clone();
    let api = ApiServer::start(&[("OPSC_TELEMETRY_OTLP_ENDPOINT", &endpoint)]).await;
    let worker = api
        .start_worker_with("default", &[("OPSC_TELEMETRY_OTLP_ENDPOINT", &endpoint)])
        .await;
    let notifier = start_notifier(&api, &endpoint).await;
    let sshd = Sshd::start().await;
    let hook = WebhookPeer::start("trace-hook-secret")
        .await
        .expect("webhook");
    let admin = api.admin().await;

    let cred = created(&api, &admin, "/api/v1/credentials",
        json!({"name": "key", "spec": {"type": "ssh_key", "username": sshd.user, "private_key": sshd.key_plain()}})).await;
    let target = created(
        &api,
        &admin,
        "/api/v1/targets",
        json!({"name": "web-1", "hostname": "127.0.0.1", "os_type": "linux",
               "ssh": {"port": sshd.port, "credential_id": cred, "host_key_policy": "accept-new"}}),
    )
    .await;
    let (_, tested) = api
        .call(
            Method::POST,
            &format!("/api/v1/targets/{target}/test"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(tested["ok"], true, "{tested}");
    created(
        &api,
        &admin,
        "/api/v1/notifications/channels",
        json!({
            "name": "trace-hook", "allow_steps": true,
            "settings": {"kind": "webhook", "url": hook.url()},
            "secrets": {"signing_secret": "trace-hook-secret"}, "max_attempts": 3
        }),
    )
    .await;
    let job = create_job(
        &api,
        &admin,
        json!({
            "name": "traced",
            "steps": [
                {"id": "remote", "type": "ssh.exec", "targets": {"targets": [target]},
                 "with": {"command": "echo traced-on-$(hostname)"}},
                {"id": "tell", "type": "notify.webhook",
                 "with": {"channel": "trace-hook", "subject": "traced", "text": "run {{ run.id }}"}}
            ]
        }),
    )
    .await;

    // The caller's own trace: the request span must be its child. The
    // notifier learns the new channel from the api's mirror a moment
    // later; a run before that fails its notify step, so run until one
    // succeeds (each in a trace of its own).
    let mut attempt = 0;
    let (trace_id, caller_span, run) = loop {
        attempt += 1;
        let trace_id = uuid::Uuid::new_v4().simple().to_string();
        let caller_span = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
        let res = api
            .req(
                Method::POST,
                &format!("/api/v1/jobs/{job}/run"),
                Some(&admin),
            )
            .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 202);
        let body: Value = res.json().await.unwrap();
        let run = body["run_id"].as_str().unwrap().to_owned();
        let end = wait_end(&api, &admin, &run).await;
        let steps = crate::harness::runs::steps(&api, &admin, &run).await;
        if end["status"] == "succeeded" {
            break (trace_id, caller_span, run);
        }
        assert!(
            attempt < 20,
            "the run never succeeded: {end}\n{steps:#?}\n{}",
            notifier.output()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    hook.wait_for(1, WAIT).await;

    // Every span of the run arrives (batches are exported every few seconds).
    let wanted = [
        "http",
        "run.admit",
        "run.dispatch",
        "worker.shard",
        "worker.step",
        "recorder.fold",
        "notifier.command",
        "notifier.deliver",
    ];
    wait_until("every span of the run at the receiver", WAIT, || {
        let spans = otlp.trace(&trace_id);
        let steps = spans.iter().filter(|s| s.name == "worker.step").count();
        async move { steps >= 2 && wanted.iter().all(|w| spans.iter().any(|s| s.name == *w)) }
    })
    .await;
    let spans = otlp.trace(&trace_id);

    let http = one(&spans, "http", |s| {
        s.attrs.get("path").is_some_and(|p| p.ends_with("/run"))
    });
    assert_eq!(
        http.parent, caller_span,
        "the request span continues the caller's trace"
    );
    assert_eq!(http.service, "opsconductor-api");
    let admit = one(&spans, "run.admit", |_| true);
    assert!(
        descends(&spans, admit, http),
        "admission inside the request"
    );
    assert_eq!(admit.attrs.get("run_id"), Some(&run));
    assert_eq!(admit.attrs.get("job_id"), Some(&job));
    let dispatch = one(&spans, "run.dispatch", |_| true);
    assert!(
        descends(&spans, dispatch, admit),
        "dispatch inside the admission"
    );
    assert_eq!(dispatch.service, "opsconductor-api");

    let shard = one(&spans, "worker.shard", |_| true);
    assert_eq!(shard.service, "opsconductor-worker");
    assert_eq!(
        shard.parent, dispatch.span_id,
        "the shard is the dispatch's child, across the bus"
    );
    assert_eq!(shard.attrs.get("run_id"), Some(&run));
    assert_eq!(shard.attrs.get("job_id"), Some(&job));
    let remote = one(&spans, "worker.step", |s| {
        s.attrs.get("step_id").map(String::as_str) == Some("remote")
    });
    let tell = one(&spans, "worker.step", |s| {
        s.attrs.get("step_id").map(String::as_str) == Some("tell")
    });
    for step in [remote, tell] {
        assert_eq!(
            step.parent, shard.span_id,
            "steps are children of the shard: {step:?}"
        );
        assert_eq!(step.attrs.get("run_id"), Some(&run));
    }
    assert_eq!(
        remote.attrs.get("target").map(String::as_str),
        Some("web-1")
    );
    assert_eq!(
        remote.attrs.get("step_type").map(String::as_str),
        Some("ssh.exec")
    );

    let command = one(&spans, "notifier.command", |_| true);
    assert_eq!(command.service, "opsconductor-notifier");
    assert_eq!(
        command.parent, tell.span_id,
        "the notifier continues the notify step's trace"
    );
    let delivered: Vec<&Got> = spans
        .iter()
        .filter(|s| s.name == "notifier.deliver")
        .collect();
    assert!(!delivered.is_empty());
    for d in &delivered {
        assert_eq!(
            d.parent, command.span_id,
            "deliveries are the command's children: {d:?}"
        );
        assert_eq!(d.service, "opsconductor-notifier");
    }

    let ids: Vec<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    let folds: Vec<&Got> = spans.iter().filter(|s| s.name == "recorder.fold").collect();
    for f in &folds {
        assert_eq!(f.service, "opsconductor-api");
        assert_eq!(f.attrs.get("run_id"), Some(&run));
        assert!(
            ids.contains(&f.parent.as_str()),
            "the recorder's fold is a child of a span of the run: {f:?}"
        );
    }
    let services: std::collections::BTreeSet<&str> =
        spans.iter().map(|s| s.service.as_str()).collect();
    assert!(
        services.len() >= 3,
        "spans from three processes: {services:?}"
    );
    // No work of this run started a trace of its own.
    let stray: Vec<Got> = otlp
        .all()
        .into_iter()
        .filter(|s| {
            s.trace_id != trace_id
                && s.attrs.get("run_id") == Some(&run)
                && (s.name.starts_with("worker.") || s.name.starts_with("run."))
        })
        .collect();
    assert!(
        stray.is_empty(),
        "spans of the run outside its trace: {stray:#?}"
    );

    // The worker's JSON log lines of the run join the trace.
    let lines: Vec<Value> = worker
        .output()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["run_id"] == run.as_str() && l.get("span").is_some())
        .collect();
    let stepped: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "Step ended.")
        .collect();
    assert_eq!(stepped.len(), 2, "{lines:#?}");
    for l in &lines {
        assert_eq!(l["trace_id"], trace_id.as_str(), "{l}");
        assert_eq!(l["job_id"], job.as_str(), "{l}");
        assert!(l["span_id"].as_str().is_some_and(|s| s.len() == 16), "{l}");
    }
    for (l, step) in stepped.iter().zip([remote, tell]) {
        assert_eq!(l["step_id"], step.attrs["step_id"].as_str(), "{l}");
        assert_eq!(
            l["span_id"],
            step.span_id.as_str(),
            "a step's line names the step's span: {l}"
        );
    }
}

#[tokio::test]
async fn a_bad_collector_address_is_refused_at_start() {
    for bad in ["collector:4318", "ftp://collector", "http://"] {
        let mut p = Opsc::spawn(
            &["server", "worker"],
            &env_of(&[
                ("OPSC_NATS_URL", shared_nats_url()),
                (
                    "OPSC_WORKER_SEAL_KEY",
                    "dGVzdC1zZWFsLWtleS0zMi1ieXRlcy1sb25nISEhISE=".to_owned(),
                ),
                ("OPSC_TELEMETRY_OTLP_ENDPOINT", bad.to_owned()),
            ]),
        );
        assert_ne!(p.wait().await, Some(0));
        let out = p.output();
        assert!(
            out.contains("telemetry.otlp_endpoint (OPSC_TELEMETRY_OTLP_ENDPOINT)"),
            "{bad}: {out}"
        );
    }
}
