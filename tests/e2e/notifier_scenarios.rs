//! The notifier's decisions over time, end to end: user preferences and
//! tag subscriptions, quiet hours (digest, drop, critical bypass),
//! escalation (after failures, unacknowledged) and recovery to everyone
//! alerted. Messages go through an email channel to a real SMTP server, so
//! each user is a distinct address; outcomes are read on
//! `<p>.evt.notification.>`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use opsc_notify_peers::{SmtpMessage, SmtpPeer, SmtpTls};
use opsc_proto::CloudEvent;
use opsc_proto::commands::{Trigger, TriggerKind};
use opsc_proto::events::RunStatus;
use opsc_proto::notify::{
    AckRequest, ChannelDoc, ChannelSettings, DeliveryStatus as S, EmailSettings, EmailTls,
    Escalation, JobRef, Level, Notice, NoticeKind, NotificationRecorded, NotifyCommand,
    NotifyTrigger, PreferencesDoc, QuietHours, QuietMode, Recipient, RuleConditions, RuleDoc,
    RuleTarget, RunDigest, Subscriptions, keys,
};
use uuid::Uuid;

use crate::harness::NotifyBus;

async fn email_channel(nb: &NotifyBus, peer: &SmtpPeer) -> Uuid {
    let id = Uuid::now_v7();
    let doc = ChannelDoc {
        id,
        name: "mail".into(),
        enabled: true,
        settings: ChannelSettings::Email(EmailSettings {
            host: peer.host().into(),
            port: peer.port(),
            tls: EmailTls::None,
            username: None,
            from: "OpsConductor <ops@example.com>".into(),
            default_to: vec!["oncall@example.com".into()],
            ca_pem: None,
            timeout_secs: Some(10),
        }),
        sealed_secrets: None,
        rate_limit: None,
        max_attempts: 3,
        allow_steps: false,
        revision: 1,
    };
    nb.put_config(&keys::channel(id), &doc).await;
    id
}

fn prefs(user: Uuid, name: &str) -> PreferencesDoc {
    PreferencesDoc {
        user_id: user,
        username: name.into(),
        email: Some(format!("{name}@example.com")),
        slack_user: None,
        time_zone: "UTC".into(),
        channels: Default::default(),
        subscriptions: Subscriptions::default(),
        quiet_hours: None,
        quiet_hours_off: false,
        active: true,
        revision: 1,
    }
}

fn rule(jobs: &[Uuid], triggers: Vec<NotifyTrigger>, channel: Uuid, to: Vec<Recipient>) -> RuleDoc {
    RuleDoc {
        id: Uuid::now_v7(),
        name: "scenario".into(),
        enabled: true,
        triggers,
        conditions: RuleConditions {
            job_ids: jobs.to_vec(),
            ..Default::default()
        },
        send_to: vec![RuleTarget {
            channel_id: channel,
            to,
        }],
        after_failures: None,
        throttle: None,
        escalation: None,
        recovery: true,
        revision: 1,
    }
}

fn email(a: &str) -> Recipient {
    Recipient::Email {
        address: a.to_owned(),
    }
}

struct N {
    job: Uuid,
    name: &'static str,
    status: RunStatus,
    streak: u32,
    previous: Option<RunStatus>,
    tags: Vec<String>,
    critical: bool,
}

impl N {
    fn new(job: Uuid, name: &'static str, status: RunStatus, streak: u32) -> Self {
        Self {
            job,
            name,
            status,
            streak,
            previous: None,
            tags: vec![],
            critical: false,
        }
    }

    fn notice(self) -> Notice {
        let run_id = Uuid::now_v7();
        Notice {
            notice_id: format!("run:{run_id}:finished"),
            kind: NoticeKind::RunFinished,
            at: Utc::now(),
            console_url: None,
            run: Some(RunDigest {
                run_id,
                job: JobRef {
                    id: self.job,
                    name: self.name.into(),
                    tags: self.tags,
                    owner_id: None,
                    critical: self.critical,
                },
                job_version: 1,
                status: self.status,
                reason: None,
                trigger: Trigger::new(TriggerKind::Api, "e2e"),
                started_by: None,
                attempt: 1,
                retry_root: run_id,
                will_retry: false,
                duration_ms: Some(10),
                baseline: None,
                previous_status: self.previous,
                failure_streak: self.streak,
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
}

async fn publish(nb: &NotifyBus, n: &Notice) {
    let ev = CloudEvent::new("e2e", n.clone()).with_id(&n.notice_id);
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

async fn collect(sub: &mut async_nats::Subscriber, within: Duration) -> Vec<NotificationRecorded> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    while let Ok(Some(m)) = tokio::time::timeout_at(deadline, sub.next()).await {
        if let Ok(ev) = CloudEvent::<NotificationRecorded>::decode(&m.payload) {
            out.push(ev.data);
        }
    }
    out
}

fn to(peer: &SmtpPeer, addr: &str) -> Vec<SmtpMessage> {
    peer.messages()
        .expect("smtp messages")
        .into_iter()
        .filter(|m| m.rcpt_to.iter().any(|r| r == addr))
        .collect()
}

fn subjects(ms: &[SmtpMessage]) -> Vec<String> {
    ms.iter()
        .map(|m| m.subject.clone().unwrap_or_default())
        .collect()
}

/// Waits until `addr` got `n` messages (or `within` passed).
async fn wait_to(peer: &SmtpPeer, addr: &str, n: usize, within: Duration) -> Vec<SmtpMessage> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let got = to(peer, addr);
        if got.len() >= n || tokio::time::Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every key of `<p>_notify_state` with its value (for failure messages).
async fn dump_state(nb: &NotifyBus) -> String {
    let kv = nb
        .rt
        .bus
        .bucket("notify_state")
        .await
        .expect("state bucket");
    let keys: Vec<String> = kv
        .keys()
        .await
        .expect("keys")
        .filter_map(|k| async move { k.ok() })
        .collect()
        .await;
    let mut out = String::new();
    for k in keys {
        let v = kv.get(&k).await.ok().flatten().unwrap_or_default();
        out.push_str(&format!("{k} = {}\n", String::from_utf8_lossy(&v)));
    }
    out
}

fn hhmm(t: DateTime<Utc>) -> String {
    t.format("%H:%M").to_string()
}

const SHORT: Duration = Duration::from_secs(15);

#[tokio::test]
async fn preferences_levels_filter_and_tag_subscriptions_deliver() {
    let peer = SmtpPeer::start(SmtpTls::None, None).await.unwrap();
    let nb = NotifyBus::start().await;
    let chan = email_channel(&nb, &peer).await;
    let (fo, nothing, sub_user) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let mut p = prefs(fo, "failonly");
    p.channels.insert(chan, Level::FailuresOnly);
    nb.put_config(&keys::preferences(fo), &p).await;
    let mut p = prefs(nothing, "nothing");
    p.channels.insert(chan, Level::None);
    nb.put_config(&keys::preferences(nothing), &p).await;
    let mut p = prefs(sub_user, "subscriber");
    p.subscriptions = Subscriptions {
        tags: vec!["db".into()],
        channels: vec![chan],
        ..Default::default()
    };
    nb.put_config(&keys::preferences(sub_user), &p).await;
    let job = Uuid::now_v7();
    let mut r = rule(
        &[job],
        vec![NotifyTrigger::RunFailed, NotifyTrigger::RunSucceeded],
        chan,
        vec![
            Recipient::User { user_id: fo },
            Recipient::User { user_id: nothing },
        ],
    );
    r.recovery = false;
    nb.put_config(&keys::rule(r.id), &r).await;
    let mut sub = records(&nb).await;
    let notifier = nb.start_notifier(&[]).await;

    let mut n = N::new(job, "backup", RunStatus::Failed, 1);
    n.tags = vec!["db".into()];
    publish(&nb, &n.notice()).await;
    let got = wait_to(&peer, "failonly@example.com", 1, SHORT).await;
    assert_eq!(
        got.len(),
        1,
        "the failure reaches failures_only: {}",
        notifier.output()
    );
    let got = wait_to(&peer, "subscriber@example.com", 1, SHORT).await;
    assert_eq!(got.len(), 1, "the tag subscription delivers the failure");

    let mut n = N::new(job, "backup", RunStatus::Succeeded, 0);
    n.tags = vec!["db".into()];
    n.previous = Some(RunStatus::Failed);
    publish(&nb, &n.notice()).await;
    let got = wait_to(&peer, "subscriber@example.com", 2, SHORT).await;
    assert_eq!(got.len(), 2, "the tag subscription delivers the success");
    let recs = collect(&mut sub, Duration::from_secs(3)).await;

    assert_eq!(
        subjects(&to(&peer, "failonly@example.com")).len(),
        1,
        "failures_only got the success: {:?}",
        subjects(&to(&peer, "failonly@example.com"))
    );
    assert!(
        to(&peer, "nothing@example.com").is_empty(),
        "level none got a message"
    );
    let dropped: Vec<_> = recs.iter().filter(|r| r.status == S::Dropped).collect();
    assert!(
        dropped
            .iter()
            .any(|r| r.user_id == Some(nothing) && r.trigger == Some(NotifyTrigger::RunFailed)),
        "level none's failure recorded dropped: {recs:?}"
    );
    assert!(
        dropped
            .iter()
            .any(|r| r.user_id == Some(fo) && r.trigger == Some(NotifyTrigger::RunSucceeded)),
        "failures_only's success recorded dropped: {recs:?}"
    );
    assert!(
        recs.iter()
            .any(|r| r.status == S::Delivered && r.origin == "subscription"),
        "{recs:?}"
    );
}

#[tokio::test]
async fn quiet_hours_hold_two_failures_for_one_digest_and_critical_bypasses() {
    let peer = SmtpPeer::start(SmtpTls::None, None).await.unwrap();
    let nb = NotifyBus::start().await;
    let chan = email_channel(&nb, &peer).await;
    let user = Uuid::now_v7();
    let now = Utc::now();
    let mut p = prefs(user, "sleeper");
    p.quiet_hours = Some(QuietHours {
        from: hhmm(now - chrono::Duration::hours(1)),
        to: hhmm(now + chrono::Duration::minutes(2)),
        days: vec![],
        mode: QuietMode::Digest,
    });
    nb.put_config(&keys::preferences(user), &p).await;
    let (job, crit) = (Uuid::now_v7(), Uuid::now_v7());
    let r = rule(
        &[job, crit],
        vec![NotifyTrigger::RunFailed],
        chan,
        vec![Recipient::User { user_id: user }],
    );
    nb.put_config(&keys::rule(r.id), &r).await;
    let mut sub = records(&nb).await;
    let notifier = nb.start_notifier(&[]).await;
    let addr = "sleeper@example.com";

    publish(
        &nb,
        &N::new(job, "alpha-job", RunStatus::Failed, 1).notice(),
    )
    .await;
    publish(&nb, &N::new(job, "beta-job", RunStatus::Failed, 2).notice()).await;
    let recs = collect(&mut sub, Duration::from_secs(3)).await;
    assert!(to(&peer, addr).is_empty(), "a message during quiet hours");
    let held = recs.iter().filter(|r| r.status == S::Held).count();
    assert_eq!(held, 2, "both failures recorded held: {recs:?}");

    // A critical job's failure bypasses quiet hours.
    let mut c = N::new(crit, "critical-job", RunStatus::Failed, 1);
    c.critical = true;
    publish(&nb, &c.notice()).await;
    let got = wait_to(&peer, addr, 1, SHORT).await;
    assert_eq!(got.len(), 1, "the critical failure: {}", notifier.output());
    assert!(
        subjects(&got)[0].contains("critical-job"),
        "{:?}",
        subjects(&got)
    );

    // One digest once quiet hours end (at most two minutes from now).
    let got = wait_to(&peer, addr, 2, Duration::from_secs(150)).await;
    assert_eq!(
        got.len(),
        2,
        "the digest after quiet hours: {}",
        notifier.output()
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    let all = to(&peer, addr);
    assert_eq!(all.len(), 2, "more than one digest: {:?}", subjects(&all));
    let digest = &all[1];
    let text = digest.text.clone().unwrap_or_default();
    assert!(
        text.contains("alpha-job") && text.contains("beta-job"),
        "the digest lists both: {text}"
    );
}

#[tokio::test]
async fn quiet_hours_in_drop_mode_drop() {
    let peer = SmtpPeer::start(SmtpTls::None, None).await.unwrap();
    let nb = NotifyBus::start().await;
    let chan = email_channel(&nb, &peer).await;
    let user = Uuid::now_v7();
    let now = Utc::now();
    let mut p = prefs(user, "dropper");
    p.quiet_hours = Some(QuietHours {
        from: hhmm(now - chrono::Duration::hours(1)),
        to: hhmm(now + chrono::Duration::minutes(2)),
        days: vec![],
        mode: QuietMode::Drop,
    });
    nb.put_config(&keys::preferences(user), &p).await;
    let job = Uuid::now_v7();
    let r = rule(
        &[job],
        vec![NotifyTrigger::RunFailed],
        chan,
        vec![Recipient::User { user_id: user }],
    );
    nb.put_config(&keys::rule(r.id), &r).await;
    let mut sub = records(&nb).await;
    let _notifier = nb.start_notifier(&[]).await;
    publish(
        &nb,
        &N::new(job, "alpha-job", RunStatus::Failed, 1).notice(),
    )
    .await;
    publish(&nb, &N::new(job, "beta-job", RunStatus::Failed, 2).notice()).await;
    let recs = collect(&mut sub, Duration::from_secs(5)).await;
    assert!(to(&peer, "dropper@example.com").is_empty());
    let dropped: Vec<_> = recs
        .iter()
        .filter(|r| {
            r.status == S::Dropped
                && r.error
                    .as_deref()
                    .is_some_and(|e| e.contains("quiet hours"))
        })
        .collect();
    assert_eq!(dropped.len(), 2, "both dropped for quiet hours: {recs:?}");
    assert!(!recs.iter().any(|r| r.status == S::Held), "{recs:?}");
}

#[tokio::test]
async fn escalation_after_two_failures_sends_the_list_once() {
    let peer = SmtpPeer::start(SmtpTls::None, None).await.unwrap();
    let nb = NotifyBus::start().await;
    let chan = email_channel(&nb, &peer).await;
    let job = Uuid::now_v7();
    let mut r = rule(
        &[job],
        vec![NotifyTrigger::RunFailed],
        chan,
        vec![email("ops@example.com")],
    );
    r.escalation = Some(Escalation {
        after_failures: Some(2),
        unacked_minutes: None,
        send_to: vec![RuleTarget {
            channel_id: chan,
            to: vec![email("boss@example.com")],
        }],
    });
    nb.put_config(&keys::rule(r.id), &r).await;
    let notifier = nb.start_notifier(&[]).await;
    for streak in 1..=3 {
        publish(
            &nb,
            &N::new(job, "flaky", RunStatus::Failed, streak).notice(),
        )
        .await;
        let got = wait_to(&peer, "ops@example.com", streak as usize, SHORT).await;
        assert_eq!(got.len(), streak as usize, "{}", notifier.output());
        let boss = to(&peer, "boss@example.com").len();
        if streak == 1 {
            tokio::time::sleep(Duration::from_secs(2)).await;
            assert_eq!(
                to(&peer, "boss@example.com").len(),
                0,
                "escalated on the first failure"
            );
        } else if streak == 2 {
            assert_eq!(wait_to(&peer, "boss@example.com", 1, SHORT).await.len(), 1);
        } else {
            tokio::time::sleep(Duration::from_secs(2)).await;
            assert_eq!(boss, 1);
            assert_eq!(to(&peer, "boss@example.com").len(), 1, "escalated twice");
        }
    }
}

#[tokio::test]
async fn an_unacknowledged_alert_escalates_and_an_acknowledged_one_does_not() {
    let peer = SmtpPeer::start(SmtpTls::None, None).await.unwrap();
    let nb = NotifyBus::start().await;
    let chan = email_channel(&nb, &peer).await;
    let (ignored, acked) = (Uuid::now_v7(), Uuid::now_v7());
    let mut r = rule(
        &[ignored, acked],
        vec![NotifyTrigger::RunFailed],
        chan,
        vec![email("ops@example.com")],
    );
    r.escalation = Some(Escalation {
        after_failures: None,
        unacked_minutes: Some(1),
        send_to: vec![RuleTarget {
            channel_id: chan,
            to: vec![email("boss@example.com")],
        }],
    });
    nb.put_config(&keys::rule(r.id), &r).await;
    let mut sub = records(&nb).await;
    let notifier = nb.start_notifier(&[]).await;
    publish(
        &nb,
        &N::new(ignored, "ignored-job", RunStatus::Failed, 1).notice(),
    )
    .await;
    publish(
        &nb,
        &N::new(acked, "acked-job", RunStatus::Failed, 1).notice(),
    )
    .await;
    let got = wait_to(&peer, "ops@example.com", 2, SHORT).await;
    assert_eq!(got.len(), 2, "{}", notifier.output());
    let recs = collect(&mut sub, Duration::from_secs(2)).await;
    let to_ack = recs
        .iter()
        .find(|r| r.status == S::Delivered && r.origin == "rule" && r.job_id == Some(acked))
        .unwrap_or_else(|| panic!("the acked job's delivery: {recs:?}"));
    let ack = NotifyCommand::Ack(AckRequest {
        notification_id: to_ack.notification_id,
        job_id: Some(acked),
        by: "alice".into(),
        at: Utc::now(),
    });
    nb.rt
        .bus
        .publish(&CloudEvent::new("e2e", ack))
        .await
        .expect("ack published");
    let recs = collect(&mut sub, Duration::from_secs(3)).await;
    assert!(
        recs.iter()
            .any(|r| r.status == S::Acknowledged && r.notification_id == to_ack.notification_id),
        "the ack recorded: {recs:?}"
    );
    assert!(
        to(&peer, "boss@example.com").is_empty(),
        "escalated before the minute"
    );
    let boss = wait_to(&peer, "boss@example.com", 1, Duration::from_secs(80)).await;
    let why = if boss.is_empty() {
        let later = collect(&mut sub, Duration::from_millis(500)).await;
        format!("state: {}\nrecords: {later:?}", dump_state(&nb).await)
    } else {
        String::new()
    };
    assert_eq!(
        boss.len(),
        1,
        "no escalation after a minute: {why}\n{}",
        notifier.output()
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
    let boss = to(&peer, "boss@example.com");
    assert_eq!(
        boss.len(),
        1,
        "escalated more than once: {:?}",
        subjects(&boss)
    );
    assert!(
        subjects(&boss)[0].contains("ignored-job"),
        "the escalation is the unacknowledged job's: {:?}",
        subjects(&boss)
    );
}

#[tokio::test]
async fn recovery_reaches_everyone_alerted_once() {
    let peer = SmtpPeer::start(SmtpTls::None, None).await.unwrap();
    let nb = NotifyBus::start().await;
    let chan = email_channel(&nb, &peer).await;
    let job = Uuid::now_v7();
    let r = rule(
        &[job],
        vec![NotifyTrigger::RunFailed],
        chan,
        vec![email("x@example.com"), email("y@example.com")],
    );
    nb.put_config(&keys::rule(r.id), &r).await;
    let mut sub = records(&nb).await;
    let notifier = nb.start_notifier(&[]).await;
    publish(&nb, &N::new(job, "sync", RunStatus::Failed, 1).notice()).await;
    for a in ["x@example.com", "y@example.com"] {
        assert_eq!(
            wait_to(&peer, a, 1, SHORT).await.len(),
            1,
            "{}",
            notifier.output()
        );
    }
    let mut ok = N::new(job, "sync", RunStatus::Succeeded, 0);
    ok.previous = Some(RunStatus::Failed);
    publish(&nb, &ok.notice()).await;
    for a in ["x@example.com", "y@example.com"] {
        assert_eq!(
            wait_to(&peer, a, 2, SHORT).await.len(),
            2,
            "{a}: {}",
            notifier.output()
        );
    }
    let mut again = N::new(job, "sync", RunStatus::Succeeded, 0);
    again.previous = Some(RunStatus::Succeeded);
    publish(&nb, &again.notice()).await;
    let recs = collect(&mut sub, Duration::from_secs(4)).await;
    for a in ["x@example.com", "y@example.com"] {
        assert_eq!(to(&peer, a).len(), 2, "{a}: {:?}", subjects(&to(&peer, a)));
    }
    let recoveries = recs
        .iter()
        .filter(|r| r.status == S::Delivered && r.origin == "recovery")
        .count();
    assert_eq!(recoveries, 2, "{recs:?}");
}
