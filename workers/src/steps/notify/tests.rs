use std::collections::BTreeMap;
use std::time::Duration;

use opsc_proto::notify::{ChannelKind, Recipient};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::exec::output::OutputSink;
use crate::exec::target::TargetConnections;
use crate::steps::{RunScope, registry};

fn with(v: Value) -> BTreeMap<String, Value> {
    serde_json::from_value(v).unwrap()
}

#[test]
fn settings_are_read() {
    let s = Settings::parse(
        ChannelKind::Email,
        &with(
            json!({"channel": " ops ", "to": ["a@example.com"], "subject": "Hi",
                     "body": "text", "html": "<b>x</b>", "timeout_secs": "5"}),
        ),
    )
    .unwrap();
    assert_eq!(s.channel, "ops");
    assert_eq!(
        s.to,
        [Recipient::Email {
            address: "a@example.com".into()
        }]
    );
    assert_eq!(s.text, "text");
    assert_eq!(s.timeout, Duration::from_secs(5));
    let s = Settings::parse(
        ChannelKind::Slack,
        &with(json!({"channel": "s", "to": ["#ops", "U123"], "text": "x"})),
    )
    .unwrap();
    assert_eq!(
        s.to,
        [
            Recipient::SlackChannel {
                channel: "#ops".into()
            },
            Recipient::SlackUser {
                user: "U123".into()
            }
        ]
    );
    assert_eq!(s.timeout, Duration::from_secs(60));
    let s = Settings::parse(
        ChannelKind::Webhook,
        &with(json!({"channel": "h", "data": {"k": 1}})),
    )
    .unwrap();
    assert_eq!(s.data, Some(json!({"k": 1})));
}

#[test]
fn bad_settings_are_refused() {
    let bad = [
        (ChannelKind::Email, json!({"text": "x"})),
        (ChannelKind::Email, json!({"channel": "c"})),
        (
            ChannelKind::Email,
            json!({"channel": "c", "text": "x", "to": ["nobody"]}),
        ),
        (
            ChannelKind::Email,
            json!({"channel": "c", "text": "x", "to": ["{{ x }}"]}),
        ),
        (
            ChannelKind::Teams,
            json!({"channel": "c", "text": "x", "to": ["a@b.c"]}),
        ),
        (
            ChannelKind::Slack,
            json!({"channel": "c", "text": "x", "html": "<p>"}),
        ),
        (
            ChannelKind::Email,
            json!({"channel": "c", "text": "x", "data": {}}),
        ),
        (ChannelKind::Webhook, json!({"channel": "c", "data": "no"})),
        (
            ChannelKind::Webhook,
            json!({"channel": "c", "text": "x", "timeout_secs": 0}),
        ),
        (
            ChannelKind::Webhook,
            json!({"channel": "c", "text": "x", "timeout_secs": 601}),
        ),
        (
            ChannelKind::Email,
            json!({"channel": "c", "text": "x", "body": "y"}),
        ),
    ];
    for (kind, w) in bad {
        assert!(Settings::parse(kind, &with(w.clone())).is_err(), "{w}");
    }
}

#[test]
fn the_notification_id_is_stable_per_run_step_and_target() {
    let run = uuid::Uuid::now_v7();
    let t = uuid::Uuid::now_v7();
    assert_eq!(
        notification_id(run, "n", None),
        notification_id(run, "n", None)
    );
    assert_ne!(
        notification_id(run, "n", None),
        notification_id(run, "m", None)
    );
    assert_ne!(
        notification_id(run, "n", None),
        notification_id(run, "n", Some(t))
    );
    assert_eq!(
        notification_id(run, "n", None),
        opsc_proto::notify::delivery_id(&[&run.to_string(), "n", "-", "step"])
    );
}

#[test]
fn the_four_types_are_registered_and_targetless() {
    let r = registry();
    for kind in ChannelKind::ALL {
        let t = &r[step_type(kind)];
        assert!(!t.needs_target());
        assert!(t.idempotent());
        assert_eq!(t.runs_after(&with(json!({}))), SendWhen::Always);
        assert_eq!(
            t.runs_after(&with(json!({"send": "on_success"}))),
            SendWhen::OnSuccess
        );
    }
    assert_eq!(
        r["ssh.exec"].runs_after(&with(json!({"send": "always"}))),
        SendWhen::OnSuccess
    );
}

#[tokio::test]
async fn secrets_of_the_run_are_redacted_from_the_message() {
    let sink = OutputSink::capture_only("n", 1024, &["hunter22".to_owned()]);
    let connections = TargetConnections::default();
    let scope = RunScope {
        bus: None,
        run_id: uuid::Uuid::now_v7(),
        job_id: uuid::Uuid::now_v7(),
        job_name: "nightly".into(),
        step_id: "n".into(),
    };
    let w = with(json!({"channel": "h", "text": "pw hunter22", "data": {"k": ["x hunter22"]}}));
    let cancel = CancellationToken::new();
    let call = StepCall {
        with: &w,
        target: None,
        connections: &connections,
        credentials: &BTreeMap::new(),
        host: &crate::host::Host::none(),
        output: &sink,
        cancel: &cancel,
        run: &scope,
    };
    let n = Notify {
        kind: ChannelKind::Webhook,
    };
    let s = Settings::parse(ChannelKind::Webhook, &w).unwrap();
    let cmd = n.command(&call, s);
    assert_eq!(cmd.text, "pw ***");
    assert_eq!(cmd.data, Some(json!({"k": ["x ***"]})));
    assert_eq!(cmd.subject, "nightly: step n");
    assert_eq!(
        cmd.notification_id,
        notification_id(scope.run_id, "n", None)
    );
    // Without a bus (outside a dispatch) the step fails instead of hanging.
    let o = n.run(call).await;
    assert!(o.error.unwrap().contains("bus"));
}
