//! The decisions, without a bus: rules, gates, recipients, subscriptions,
//! quiet hours, escalation and recovery.

use chrono::{DateTime, TimeZone, Utc};
use opsc_proto::commands::{Trigger, TriggerKind};
use opsc_proto::events::RunStatus;
use opsc_proto::notify::*;
use uuid::Uuid;

use super::*;
use crate::config::{Chan, Snapshot};

const CH: Uuid = Uuid::from_u128(6);
const ESC: Uuid = Uuid::from_u128(60);
const USER: Uuid = Uuid::from_u128(3);
const RULE: Uuid = Uuid::from_u128(5);

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
}

fn run(status: RunStatus, streak: u32, previous: Option<RunStatus>) -> Notice {
    let d = RunDigest {
        run_id: Uuid::from_u128(u128::from(streak) + 100),
        job: JobRef {
            id: Uuid::from_u128(2),
            name: "backup".into(),
            tags: vec!["db".into()],
            owner_id: Some(USER),
            critical: false,
        },
        job_version: 1,
        status,
        reason: None,
        trigger: Trigger::new(TriggerKind::Manual, USER.to_string()),
        started_by: Some(USER),
        attempt: 1,
        retry_root: Uuid::from_u128(1),
        will_retry: false,
        duration_ms: Some(1000),
        baseline: None,
        previous_status: previous,
        failure_streak: streak,
        targets: vec![],
        group_ids: vec![],
        failed_steps: vec![],
        schedule: None,
    };
    Notice {
        notice_id: format!("run:{}:finished", d.run_id),
        kind: NoticeKind::RunFinished,
        at: now(),
        console_url: None,
        run: Some(d),
        schedule: None,
        target: None,
        dead_letter: None,
    }
}

fn channel(id: Uuid, kind: ChannelKind) -> Chan {
    let settings = match kind {
        ChannelKind::Email => ChannelSettings::Email(EmailSettings {
            host: "smtp".into(),
            port: 25,
            tls: EmailTls::None,
            username: None,
            from: "ops@example.com".into(),
            default_to: vec!["team@example.com".into()],
            ca_pem: None,
            timeout_secs: None,
        }),
        _ => ChannelSettings::Webhook(WebhookSettings {
            url: "http://hook".into(),
            headers: Default::default(),
        }),
    };
    Chan {
        doc: ChannelDoc {
            id,
            name: format!("ch-{id}"),
            enabled: true,
            settings,
            sealed_secrets: None,
            rate_limit: None,
            max_attempts: 3,
            allow_steps: false,
            revision: 1,
        },
        secrets: Ok(ChannelSecrets::default()),
    }
}

fn rule(triggers: Vec<NotifyTrigger>, to: Vec<Recipient>) -> RuleDoc {
    RuleDoc {
        id: RULE,
        name: "r".into(),
        enabled: true,
        triggers,
        conditions: RuleConditions::default(),
        send_to: vec![RuleTarget { channel_id: CH, to }],
        after_failures: None,
        throttle: None,
        escalation: None,
        recovery: true,
        revision: 1,
    }
}

fn prefs() -> PreferencesDoc {
    PreferencesDoc {
        user_id: USER,
        username: "ann".into(),
        email: Some("ann@example.com".into()),
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

fn cfg(rules: Vec<RuleDoc>) -> Snapshot {
    let mut s = Snapshot::default();
    s.channels.insert(CH, channel(CH, ChannelKind::Email));
    s.channels.insert(ESC, channel(ESC, ChannelKind::Webhook));
    for r in rules {
        s.rules.insert(r.id, r);
    }
    s.prefs.insert(USER, prefs());
    s.loaded = true;
    s
}

fn sends(ds: &[Decision]) -> Vec<(Uuid, Option<String>, &'static str)> {
    ds.iter()
        .filter(|d| d.verdict == Verdict::Send)
        .map(|d| (d.channel_id, d.to.clone(), d.origin))
        .collect()
}

#[test]
fn a_matching_rule_sends_and_another_trigger_does_not() {
    let c = cfg(vec![rule(vec![NotifyTrigger::RunFailed], vec![])]);
    let mut st = JobState::default();
    let ds = decide(&c, &run(RunStatus::Failed, 1, None), &mut st, now());
    assert_eq!(sends(&ds), vec![(CH, None, "rule")]);
    let ds = decide(
        &c,
        &run(RunStatus::Succeeded, 0, None),
        &mut JobState::default(),
        now(),
    );
    assert!(sends(&ds).is_empty());
    // The job state remembers who was alerted: the success is a recovery.
    let ds = decide(&c, &run(RunStatus::Succeeded, 0, None), &mut st, now());
    assert_eq!(sends(&ds), vec![(CH, None, "recovery")]);
}

#[test]
fn the_same_notice_gives_the_same_delivery_ids() {
    let c = cfg(vec![rule(vec![NotifyTrigger::RunFailed], vec![])]);
    let n = run(RunStatus::Failed, 1, None);
    let a = decide(&c, &n, &mut JobState::default(), now());
    let b = decide(&c, &n, &mut JobState::default(), now());
    assert_eq!(a[0].id, b[0].id);
}

#[test]
fn after_failures_waits_for_the_streak() {
    let mut r = rule(vec![NotifyTrigger::RunFailed], vec![]);
    r.after_failures = Some(3);
    let c = cfg(vec![r]);
    let mut st = JobState::default();
    assert!(
        sends(&decide(
            &c,
            &run(RunStatus::Failed, 2, None),
            &mut st,
            now()
        ))
        .is_empty()
    );
    assert_eq!(
        sends(&decide(
            &c,
            &run(RunStatus::Failed, 3, None),
            &mut st,
            now()
        ))
        .len(),
        1
    );
}

#[test]
fn a_throttle_silences_until_success() {
    let mut r = rule(
        vec![NotifyTrigger::RunFailed, NotifyTrigger::RunSucceeded],
        vec![],
    );
    r.throttle = Some(Throttle {
        max: 1,
        per_minutes: 60,
        then: ThrottleMode::SilenceUntilSuccess,
    });
    let c = cfg(vec![r]);
    let mut st = JobState::default();
    assert_eq!(
        sends(&decide(
            &c,
            &run(RunStatus::Failed, 1, None),
            &mut st,
            now()
        ))
        .len(),
        1
    );
    let second = decide(&c, &run(RunStatus::Failed, 2, None), &mut st, now());
    assert!(matches!(second[0].verdict, Verdict::Drop(_)));
    assert!(st.silenced.contains(&RULE));
    let ok = decide(
        &c,
        &run(RunStatus::Succeeded, 0, Some(RunStatus::Failed)),
        &mut st,
        now(),
    );
    assert!(!st.silenced.contains(&RULE));
    assert!(!sends(&ok).is_empty());
}

#[test]
fn a_user_gets_one_message_from_a_rule_and_a_subscription() {
    let mut c = cfg(vec![rule(
        vec![NotifyTrigger::RunFailed],
        vec![Recipient::User { user_id: USER }],
    )]);
    if let Some(p) = c.prefs.get_mut(&USER) {
        p.subscriptions.job_ids = vec![Uuid::from_u128(2)];
        p.subscriptions.channels = vec![CH];
    }
    let ds = decide(
        &c,
        &run(RunStatus::Failed, 1, None),
        &mut JobState::default(),
        now(),
    );
    assert_eq!(
        sends(&ds),
        vec![(CH, Some("ann@example.com".into()), "rule")]
    );
}

#[test]
fn a_level_filters_a_user() {
    let mut c = cfg(vec![rule(
        vec![NotifyTrigger::RunSucceeded],
        vec![Recipient::User { user_id: USER }],
    )]);
    if let Some(p) = c.prefs.get_mut(&USER) {
        p.channels.insert(CH, Level::FailuresOnly);
    }
    let ds = decide(
        &c,
        &run(RunStatus::Succeeded, 0, None),
        &mut JobState::default(),
        now(),
    );
    assert!(sends(&ds).is_empty());
    assert!(matches!(ds[0].verdict, Verdict::Drop(_)));
}

#[test]
fn quiet_hours_hold_but_critical_failures_pass() {
    let mut c = cfg(vec![rule(
        vec![NotifyTrigger::RunFailed],
        vec![Recipient::User { user_id: USER }],
    )]);
    if let Some(p) = c.prefs.get_mut(&USER) {
        p.quiet_hours = Some(QuietHours {
            from: "11:00".into(),
            to: "13:00".into(),
            days: vec![],
            mode: QuietMode::Digest,
        });
    }
    let n = run(RunStatus::Failed, 1, None);
    let ds = decide(&c, &n, &mut JobState::default(), now());
    assert_eq!(ds[0].verdict, Verdict::Hold(USER));
    let mut critical = n;
    if let Some(r) = critical.run.as_mut() {
        r.job.critical = true;
    }
    let ds = decide(&c, &critical, &mut JobState::default(), now());
    assert_eq!(ds[0].verdict, Verdict::Send);
}

#[test]
fn escalation_by_streak_ignores_quiet_hours_once_per_streak() {
    let mut r = rule(vec![NotifyTrigger::RunFailed], vec![]);
    r.escalation = Some(Escalation {
        after_failures: Some(2),
        unacked_minutes: Some(5),
        send_to: vec![RuleTarget {
            channel_id: ESC,
            to: vec![],
        }],
    });
    let c = cfg(vec![r]);
    let mut st = JobState::default();
    let first = decide(&c, &run(RunStatus::Failed, 1, None), &mut st, now());
    assert_eq!(sends(&first).len(), 1);
    assert_eq!(st.open.len(), 1);
    let second = decide(&c, &run(RunStatus::Failed, 2, None), &mut st, now());
    assert!(
        sends(&second)
            .iter()
            .any(|s| s.0 == ESC && s.2 == "escalation")
    );
    let third = decide(&c, &run(RunStatus::Failed, 3, None), &mut st, now());
    assert!(!sends(&third).iter().any(|s| s.0 == ESC));
}

#[test]
fn recovery_reaches_everyone_alerted_then_forgets() {
    let c = cfg(vec![rule(
        vec![NotifyTrigger::RunFailed],
        vec![Recipient::Email {
            address: "oncall@example.com".into(),
        }],
    )]);
    let mut st = JobState::default();
    decide(&c, &run(RunStatus::Failed, 1, None), &mut st, now());
    assert_eq!(st.alerted.len(), 1);
    let ok = decide(
        &c,
        &run(RunStatus::Succeeded, 0, Some(RunStatus::Failed)),
        &mut st,
        now(),
    );
    assert_eq!(
        sends(&ok),
        vec![(CH, Some("oncall@example.com".into()), "recovery")]
    );
    assert!(st.alerted.is_empty());
}

#[test]
fn a_disabled_channel_drops() {
    let mut c = cfg(vec![rule(vec![NotifyTrigger::RunFailed], vec![])]);
    if let Some(ch) = c.channels.get_mut(&CH) {
        ch.doc.enabled = false;
    }
    let ds = decide(
        &c,
        &run(RunStatus::Failed, 1, None),
        &mut JobState::default(),
        now(),
    );
    assert!(matches!(&ds[0].verdict, Verdict::Drop(w) if w.contains("disabled")));
}
