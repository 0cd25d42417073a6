//! The pure decisions: triggers of a notice, rule matching, levels, quiet
//! hours, subscriptions, rule checks, templates and delivery ids.

use chrono::{TimeZone, Utc};
use uuid::Uuid;

use super::template::{check, context, default_for, render, render_parts};
use super::*;
use crate::commands::{Trigger, TriggerKind};
use crate::events::RunStatus;

fn digest(status: RunStatus) -> RunDigest {
    RunDigest {
        run_id: Uuid::from_u128(1),
        job: JobRef {
            id: Uuid::from_u128(2),
            name: "backup".into(),
            tags: vec!["db".into()],
            owner_id: Some(Uuid::from_u128(3)),
            critical: false,
        },
        job_version: 1,
        status,
        reason: None,
        trigger: Trigger::new(TriggerKind::Manual, Uuid::from_u128(3).to_string()),
        started_by: Some(Uuid::from_u128(3)),
        attempt: 1,
        retry_root: Uuid::from_u128(1),
        will_retry: false,
        duration_ms: Some(1000),
        baseline: None,
        previous_status: None,
        failure_streak: 0,
        targets: vec![TargetDigest {
            id: Uuid::from_u128(9),
            name: "web-1".into(),
            status: Some("failed".into()),
        }],
        group_ids: vec![Uuid::from_u128(7)],
        failed_steps: vec![],
        schedule: None,
    }
}

fn notice(run: RunDigest) -> Notice {
    Notice {
        notice_id: format!("run:{}:finished", run.run_id),
        kind: NoticeKind::RunFinished,
        at: Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap(),
        console_url: Some("https://ops.example/".into()),
        run: Some(run),
        schedule: None,
        target: None,
        dead_letter: None,
    }
}

fn rule(triggers: Vec<NotifyTrigger>) -> RuleDoc {
    RuleDoc {
        id: Uuid::from_u128(5),
        name: "r".into(),
        enabled: true,
        triggers,
        conditions: RuleConditions::default(),
        send_to: vec![RuleTarget {
            channel_id: Uuid::from_u128(6),
            to: vec![],
        }],
        after_failures: None,
        throttle: None,
        escalation: None,
        recovery: true,
        revision: 1,
    }
}

#[test]
fn a_failure_that_will_be_retried_is_only_retrying() {
    let mut d = digest(RunStatus::Failed);
    d.will_retry = true;
    d.previous_status = Some(RunStatus::Succeeded);
    d.failure_streak = 3;
    assert_eq!(
        notice(d.clone()).triggers(50),
        vec![NotifyTrigger::RunRetrying]
    );
    d.will_retry = false;
    let t = notice(d).triggers(50);
    assert!(t.contains(&NotifyTrigger::RunFailed));
    assert!(t.contains(&NotifyTrigger::StatusChanged));
    assert!(t.contains(&NotifyTrigger::FailureStreak));
    assert!(!t.contains(&NotifyTrigger::RunRetrying));
}

#[test]
fn recovery_status_change_and_slowness() {
    let mut d = digest(RunStatus::Succeeded);
    d.previous_status = Some(RunStatus::TimedOut);
    d.baseline = Some(Baseline {
        p95_ms: 600,
        p50_ms: 500,
        samples: 5,
    });
    let t = notice(d.clone()).triggers(50);
    assert!(t.contains(&NotifyTrigger::Recovered));
    assert!(t.contains(&NotifyTrigger::StatusChanged));
    assert!(t.contains(&NotifyTrigger::RunSlow), "1000 > 600 * 1.5");
    assert!(
        !notice(d.clone())
            .triggers(70)
            .contains(&NotifyTrigger::RunSlow),
        "1000 < 600 * 1.7"
    );
    d.previous_status = Some(RunStatus::Succeeded);
    let t = notice(d).triggers(50);
    assert!(!t.contains(&NotifyTrigger::Recovered));
    assert!(!t.contains(&NotifyTrigger::StatusChanged));
}

#[test]
fn rules_match_on_their_conditions_only() {
    let n = notice(digest(RunStatus::Failed));
    let at = n.at;
    let mut r = rule(vec![NotifyTrigger::RunFailed]);
    assert_eq!(r.matches(&n, at), vec![NotifyTrigger::RunFailed]);
    r.conditions.job_tags = vec!["web".into()];
    assert!(r.matches(&n, at).is_empty(), "tag not carried");
    r.conditions.job_tags = vec!["db".into()];
    r.conditions.target_group_ids = vec![Uuid::from_u128(7)];
    r.conditions.min_duration_ms = Some(1000);
    assert_eq!(r.matches(&n, at).len(), 1);
    r.conditions.min_duration_ms = Some(1001);
    assert!(r.matches(&n, at).is_empty());
    r.conditions.min_duration_ms = None;
    r.conditions.time_of_day = Some(TimeOfDay {
        from: "08:00".into(),
        to: "12:00".into(),
        zone: "Europe/Berlin".into(),
        days: vec![],
    });
    assert!(r.matches(&n, at).is_empty(), "12:00 UTC is 13:00 in Berlin");
    r.conditions.time_of_day.as_mut().unwrap().to = "14:00".into();
    assert_eq!(r.matches(&n, at).len(), 1);
    r.enabled = false;
    assert!(r.matches(&n, at).is_empty());
    let succeeded = notice(digest(RunStatus::Succeeded));
    assert!(
        rule(vec![NotifyTrigger::RunFailed])
            .matches(&succeeded, at)
            .is_empty()
    );
}

#[test]
fn levels_follow_polarity() {
    assert!(Level::FailuresOnly.admits(NotifyTrigger::RunFailed));
    assert!(!Level::FailuresOnly.admits(NotifyTrigger::RunSucceeded));
    assert!(Level::SuccessesOnly.admits(NotifyTrigger::Recovered));
    assert!(!Level::SuccessesOnly.admits(NotifyTrigger::RunStarted));
    assert!(!Level::None.admits(NotifyTrigger::DeadLetter));
    assert!(Level::All.admits(NotifyTrigger::RunStarted));
}

#[test]
fn quiet_hours_span_midnight_in_the_users_zone() {
    let q = QuietHours {
        from: "22:00".into(),
        to: "07:00".into(),
        days: vec![],
        mode: QuietMode::Digest,
    };
    let at = |h| Utc.with_ymd_and_hms(2026, 7, 1, h, 30, 0).unwrap();
    // New York is UTC-4 in July.
    assert!(q.contains(at(3), "America/New_York"), "23:30 local");
    assert!(q.contains(at(10), "America/New_York"), "06:30 local");
    assert!(!q.contains(at(11), "America/New_York"), "07:30 local");
    assert!(!q.contains(at(3), "Not/AZone"));
    let weekdays = QuietHours {
        days: vec!["fri".into()],
        ..q
    };
    // 2026-07-03 is a Friday: Friday 23:30 and Saturday 06:30 belong to Friday's night.
    let fri = Utc.with_ymd_and_hms(2026, 7, 3, 23, 30, 0).unwrap();
    let sat_morning = Utc.with_ymd_and_hms(2026, 7, 4, 6, 30, 0).unwrap();
    let sat_night = Utc.with_ymd_and_hms(2026, 7, 4, 23, 30, 0).unwrap();
    assert!(weekdays.contains(fri, "UTC"));
    assert!(weekdays.contains(sat_morning, "UTC"));
    assert!(!weekdays.contains(sat_night, "UTC"));
    assert_eq!(weekdays.check("/q").len(), 0);
    let bad = QuietHours {
        from: "25:00".into(),
        days: vec!["someday".into()],
        ..weekdays
    };
    let paths: Vec<String> = bad.check("/q").into_iter().map(|e| e.path).collect();
    assert_eq!(paths, vec!["/q/from", "/q/days/0"]);
}

#[test]
fn subscriptions_cover_jobs_tags_and_groups() {
    let n = notice(digest(RunStatus::Failed));
    let by_tag = Subscriptions {
        tags: vec!["db".into()],
        ..Subscriptions::default()
    };
    let by_group = Subscriptions {
        group_ids: vec![Uuid::from_u128(7)],
        ..Subscriptions::default()
    };
    let other = Subscriptions {
        job_ids: vec![Uuid::from_u128(99)],
        ..Subscriptions::default()
    };
    assert!(by_tag.covers(&n) && by_group.covers(&n));
    assert!(!other.covers(&n));
}

#[test]
fn rule_checks_name_the_field() {
    let mut r = rule(vec![]);
    r.send_to.clear();
    r.after_failures = Some(0);
    r.throttle = Some(Throttle {
        max: 0,
        per_minutes: 20_000,
        then: ThrottleMode::Digest,
    });
    r.escalation = Some(Escalation {
        after_failures: None,
        unacked_minutes: None,
        send_to: vec![],
    });
    r.conditions.time_of_day = Some(TimeOfDay {
        from: "8".into(),
        to: "09:00".into(),
        zone: "Mars/Olympus".into(),
        days: vec![],
    });
    let paths: Vec<String> = r.check().into_iter().map(|e| e.path).collect();
    for p in [
        "/triggers",
        "/send_to",
        "/after_failures",
        "/throttle/max",
        "/throttle/per_minutes",
        "/escalation",
        "/escalation/send_to",
        "/conditions/time_of_day/from",
        "/conditions/time_of_day/zone",
    ] {
        assert!(paths.iter().any(|x| x == p), "{p} missing from {paths:?}");
    }
    assert!(rule(vec![NotifyTrigger::RunFailed]).check().is_empty());
}

#[test]
fn default_templates_render_every_trigger_and_kind() {
    let mut d = digest(RunStatus::Failed);
    d.failed_steps.push(FailedStepDigest {
        step_id: "dump".into(),
        target: Some("web-1".into()),
        status: "failed".into(),
        exit_code: Some(3),
        error: Some("exited with 3".into()),
        last_lines: vec!["pg_dump: error: <boom>".into()],
    });
    let n = notice(d);
    for kind in ChannelKind::ALL {
        for trigger in NotifyTrigger::ALL {
            let parts = render_parts(&default_for(kind), &context(&n, trigger)).unwrap();
            assert!(parts.subject.contains("backup"), "{}", parts.subject);
            assert!(!parts.subject.contains('\n'));
            assert!(parts.text.contains("exit 3"), "{}", parts.text);
            assert!(
                parts.text.contains("https://ops.example/runs/"),
                "{}",
                parts.text
            );
            if let Some(html) = parts.html {
                assert!(html.contains("&lt;boom&gt;"), "HTML escapes output: {html}");
            }
        }
    }
}

#[test]
fn templates_are_bounded() {
    assert!(check("{{ job.name }}").is_ok());
    assert!(check("{{ job.name ").is_err());
    let ctx = serde_json::json!({"job": {"name": "x"}});
    let loop_forever =
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}";
    assert!(render(loop_forever, &ctx, false).is_err());
    assert_eq!(
        render("{{ job.name }}-{{ nothing.here }}", &ctx, false).unwrap(),
        "x-"
    );
}

#[test]
fn delivery_ids_are_stable_and_distinct() {
    let a = delivery_id(&["run:1:finished", "rule:5", "chan", "a@example.com"]);
    assert_eq!(
        a,
        delivery_id(&["run:1:finished", "rule:5", "chan", "a@example.com"])
    );
    assert_ne!(
        a,
        delivery_id(&["run:1:finished", "rule:5", "chan", "b@example.com"])
    );
    assert_ne!(
        delivery_id(&["ab", "c"]),
        delivery_id(&["a", "bc"]),
        "parts are separated"
    );
}
