//! The notifier's decisions and delivery end to end: a notifier process on
//! its own prefix, configuration put into `<p>_notify_config` as the api
//! would, notices published on the bus, deliveries seen at a signed
//! webhook receiver and every outcome on `<p>.evt.notification.>`.

use std::time::Duration;

use chrono::Utc;
use futures::StreamExt as _;
use opsc_notify_peers::WebhookPeer;
use opsc_proto::CloudEvent;
use opsc_proto::commands::{Trigger, TriggerKind};
use opsc_proto::events::RunStatus;
use opsc_proto::notify::{
    ChannelDoc, ChannelSecrets, ChannelSettings, JobRef, Notice, NoticeKind, NotificationRecorded,
    NotifyTrigger, RuleConditions, RuleDoc, RuleTarget, RunDigest, WebhookSettings, keys,
};
use uuid::Uuid;

use crate::harness::NotifyBus;

const SECRET: &str = "whsec-e2e-signing";
const CANARY: &str = "canary-9d1e7c-secret-header";

async fn setup(peer_url: &str, max_attempts: u32) -> (NotifyBus, Uuid, Uuid) {
    setup_with(peer_url, max_attempts, |_| {}).await
}

async fn setup_with(
    peer_url: &str,
    max_attempts: u32,
    tune: impl FnOnce(&mut RuleDoc),
) -> (NotifyBus, Uuid, Uuid) {
    let nb = NotifyBus::start().await;
    let channel = Uuid::now_v7();
    let secrets = ChannelSecrets {
        signing_secret: Some(SECRET.to_owned()),
        headers: [("x-canary".to_owned(), CANARY.to_owned())].into(),
        ..Default::default()
    };
    let sealed = NotifyBus::seal_key().seal(
        &serde_json::to_vec(&secrets).unwrap(),
        &ChannelDoc::seal_context(channel),
    );
    let doc = ChannelDoc {
        id: channel,
        name: "hook".into(),
        enabled: true,
        settings: ChannelSettings::Webhook(WebhookSettings {
            url: peer_url.to_owned(),
            headers: Default::default(),
        }),
        sealed_secrets: Some(sealed),
        rate_limit: None,
        max_attempts,
        allow_steps: false,
        revision: 1,
    };
    nb.put_config(&keys::channel(channel), &doc).await;
    let job = Uuid::now_v7();
    let mut rule = RuleDoc {
        id: Uuid::now_v7(),
        name: "failures".into(),
        enabled: true,
        triggers: vec![NotifyTrigger::RunFailed],
        conditions: RuleConditions {
            job_ids: vec![job],
            ..Default::default()
        },
        send_to: vec![RuleTarget {
            channel_id: channel,
            to: vec![],
        }],
        after_failures: None,
        throttle: None,
        escalation: None,
        recovery: true,
        revision: 1,
    };
    tune(&mut rule);
    nb.put_config(&keys::rule(rule.id), &rule).await;
    (nb, channel, job)
}

fn notice(job: Uuid, status: RunStatus, streak: u32) -> Notice {
    let run_id = Uuid::now_v7();
    Notice {
        notice_id: format!("run:{run_id}:finished"),
        kind: NoticeKind::RunFinished,
        at: Utc::now(),
        console_url: None,
        run: Some(RunDigest {
            run_id,
            job: JobRef {
                id: job,
                name: "nightly".into(),
                tags: vec![],
                owner_id: None,
                critical: false,
            },
            job_version: 1,
            status,
            reason: None,
            trigger: Trigger::new(TriggerKind::Api, "e2e"),
            started_by: None,
            attempt: 1,
            retry_root: run_id,
            will_retry: false,
            duration_ms: Some(10),
            baseline: None,
            previous_status: None,
            failure_streak: streak,
            targets: vec![],
            group_ids: vec![],
            failed_steps: vec![],
            schedule: None,
        }),
        schedule: None,
        target: None,
        dead_letter: None,
    }
}

async fn publish(nb: &NotifyBus, n: &Notice, envelope_id: &str) {
    let ev = CloudEvent::new("e2e", n.clone()).with_id(envelope_id);
    nb.rt.bus.publish(&ev).await.expect("notice published");
}

async fn records(nb: &NotifyBus) -> async_nats::Subscriber {
    nb.rt
        .bus
        .client
        .subscribe(format!("{}.evt.notification.>", nb.prefix))
        .await
        .expect("subscribe")
}

async fn collect(
    sub: &mut async_nats::Subscriber,
    within: Duration,
) -> Vec<(NotificationRecorded, String)> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    while let Ok(Some(m)) = tokio::time::timeout_at(deadline, sub.next()).await {
        let raw = String::from_utf8_lossy(&m.payload).into_owned();
        if let Ok(ev) = CloudEvent::<NotificationRecorded>::decode(&m.payload) {
            out.push((ev.data, raw));
        }
    }
    out
}

#[tokio::test]
async fn a_matching_rule_delivers_once_and_others_send_nothing() {
    let peer = WebhookPeer::start(SECRET).await.unwrap();
    let (nb, _channel, job) = setup(&peer.url(), 3).await;
    let mut sub = records(&nb).await;
    let notifier = nb.start_notifier(&[]).await;
    let failed = notice(job, RunStatus::Failed, 1);
    publish(&nb, &failed, &failed.notice_id).await;
    // The same fact again under another envelope id: no second message.
    publish(&nb, &failed, &format!("{}:again", failed.notice_id)).await;
    let got = peer.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 1);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(peer.deliveries().len(), 1, "a duplicate notice sent twice");
    // A success and another job's failure do not match the rule (the
    // success is a recovery to the channel alerted).
    let ok = notice(job, RunStatus::Succeeded, 0);
    publish(&nb, &ok, &ok.notice_id).await;
    let other = notice(Uuid::now_v7(), RunStatus::Failed, 1);
    publish(&nb, &other, &other.notice_id).await;
    let recs = collect(&mut sub, Duration::from_secs(5)).await;
    let all = peer.deliveries();
    assert_eq!(all.len(), 2, "the failure and its recovery: {all:?}");
    let delivered: Vec<_> = recs
        .iter()
        .filter(|(r, _)| r.status == opsc_proto::notify::DeliveryStatus::Delivered)
        .collect();
    assert!(delivered.iter().any(|(r, _)| r.origin == "rule"));
    assert!(delivered.iter().any(|(r, _)| r.origin == "recovery"));
    for (_, raw) in &recs {
        assert!(!raw.contains(CANARY), "a secret in a record: {raw}");
    }
    assert!(!notifier.output().contains(CANARY), "a secret in the log");
}

#[tokio::test]
async fn a_failing_channel_is_dead_lettered_after_its_attempts() {
    let peer = WebhookPeer::start(SECRET).await.unwrap();
    peer.fail_next(100);
    let (nb, _channel, job) = setup(&peer.url(), 3).await;
    let mut sub = records(&nb).await;
    let notifier = nb.start_notifier(&[]).await;
    let failed = notice(job, RunStatus::Failed, 1);
    publish(&nb, &failed, &failed.notice_id).await;
    let recs = collect(&mut sub, Duration::from_secs(12)).await;
    let statuses: Vec<_> = recs.iter().map(|(r, _)| (r.status, r.attempt)).collect();
    use opsc_proto::notify::DeliveryStatus as S;
    assert_eq!(
        statuses,
        vec![(S::Failed, 1), (S::Failed, 2), (S::DeadLettered, 3)],
        "{}",
        notifier.output()
    );
    assert_eq!(peer.requests(), 3);
    for (_, raw) in &recs {
        assert!(!raw.contains(CANARY), "a secret in a record: {raw}");
    }
    assert!(!notifier.output().contains(CANARY), "a secret in the log");
}

#[tokio::test]
async fn after_failures_then_a_throttle_silences_until_success() {
    use opsc_proto::notify::{DeliveryStatus as S, Throttle, ThrottleMode};
    let peer = WebhookPeer::start(SECRET).await.unwrap();
    let (nb, _channel, job) = setup_with(&peer.url(), 3, |r| {
        r.after_failures = Some(2);
        r.throttle = Some(Throttle {
            max: 1,
            per_minutes: 60,
            then: ThrottleMode::SilenceUntilSuccess,
        });
    })
    .await;
    let mut sub = records(&nb).await;
    let _notifier = nb.start_notifier(&[]).await;
    for streak in 1..=3 {
        let n = notice(job, RunStatus::Failed, streak);
        publish(&nb, &n, &n.notice_id).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    let recs = collect(&mut sub, Duration::from_secs(3)).await;
    assert_eq!(
        peer.deliveries().len(),
        1,
        "only the second failure is sent"
    );
    assert!(
        recs.iter().any(|(r, _)| r.status == S::Dropped
            && r.error.as_deref().is_some_and(|e| e.contains("silenced"))),
        "the third is dropped by the throttle: {recs:?}"
    );
}
