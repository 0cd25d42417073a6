//! Decisions: from one notice, the configuration and the job's state over
//! time, to the deliveries it makes (sent, held or dropped). Pure: the
//! caller reads and writes the state ([`crate::state`]) and delivers.
//!
//! Order: every enabled rule that matches (its `after_failures`, throttle
//! and silence gates), its streak escalation, then recovery messages to
//! everyone alerted while the job failed, then subscriptions. A (channel,
//! address) gets at most one message per notice: the first decision wins,
//! so a rule's explicit send wins over a subscription.

mod recipients;
#[cfg(test)]
mod tests;

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use opsc_proto::events::RunStatus;
use opsc_proto::notify::{
    DEFAULT_SLOW_MARGIN_PCT, Notice, NotifyTrigger, Polarity, Recipient, RuleDoc, RuleTarget,
    ThrottleMode, delivery_id,
};
pub use recipients::{Mode, in_quiet_hours, recipient_address};
use uuid::Uuid;

use crate::config::Snapshot;
use crate::state::{Alerted, JobState, OpenAlert, Window};

/// What becomes of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Send now.
    Send,
    /// Hold for this user's quiet-hours digest.
    Hold(Uuid),
    /// Hold for the rule's throttle digest.
    Throttled,
    /// Do not send, for this reason.
    Drop(String),
}

/// One delivery decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The notification id.
    pub id: Uuid,
    /// `rule`, `subscription`, `started_by`, `escalation`, `recovery`.
    pub origin: &'static str,
    /// The rule.
    pub rule_id: Option<Uuid>,
    /// The trigger it is rendered as.
    pub trigger: NotifyTrigger,
    /// The channel.
    pub channel_id: Uuid,
    /// The address (`None`: the channel's default).
    pub to: Option<String>,
    /// The user.
    pub user_id: Option<Uuid>,
    /// What becomes of it.
    pub verdict: Verdict,
}

impl Decision {
    /// The recipient as recorded.
    pub fn recipient(&self) -> String {
        self.to.clone().unwrap_or_else(|| "default".to_owned())
    }
}

struct Acc<'a> {
    cfg: &'a Snapshot,
    notice: &'a Notice,
    now: DateTime<Utc>,
    seen: HashSet<(Uuid, Option<String>)>,
    /// (channel, address) pairs held for a digest.
    held: HashSet<(Uuid, Option<String>)>,
    out: Vec<Decision>,
}

impl Acc<'_> {
    /// Adds the deliveries of one target; returns the ones that will be sent.
    fn target(
        &mut self,
        t: &RuleTarget,
        origin: &'static str,
        rule_id: Option<Uuid>,
        trigger: NotifyTrigger,
        mode: Mode,
    ) -> Vec<Decision> {
        let key = rule_id.map_or_else(|| origin.to_owned(), |r| r.to_string());
        let Some(chan) = self.cfg.channels.get(&t.channel_id) else {
            self.push(Decision {
                id: delivery_id(&[&self.notice.notice_id, &key, &t.channel_id.to_string(), ""]),
                origin,
                rule_id,
                trigger,
                channel_id: t.channel_id,
                to: None,
                user_id: None,
                verdict: Verdict::Drop("the channel does not exist".to_owned()),
            });
            return Vec::new();
        };
        let resolved = recipients::resolve(
            self.cfg,
            &chan.doc,
            &t.to,
            self.notice,
            trigger,
            mode,
            self.now,
        );
        let mut sent = Vec::new();
        for r in resolved {
            let verdict = if chan.doc.enabled || matches!(r.verdict, Verdict::Drop(_)) {
                r.verdict
            } else {
                Verdict::Drop("the channel is disabled".to_owned())
            };
            let d = Decision {
                id: delivery_id(&[
                    &self.notice.notice_id,
                    &key,
                    &t.channel_id.to_string(),
                    r.to.as_deref().unwrap_or("default"),
                ]),
                origin,
                rule_id,
                trigger,
                channel_id: t.channel_id,
                to: r.to,
                user_id: r.user_id,
                verdict,
            };
            if self.push(d.clone()) && d.verdict == Verdict::Send {
                sent.push(d);
            }
        }
        sent
    }

    /// Adds a decision unless its (channel, address) already has one.
    fn push(&mut self, d: Decision) -> bool {
        if matches!(d.verdict, Verdict::Drop(_)) {
            self.out.push(d);
            return true;
        }
        let key = (d.channel_id, d.to.clone());
        if self.seen.contains(&key) {
            return false;
        }
        // A message held for a user's digest does not take the address's
        // slot: a rule that sends to the same address (a shared mailbox or
        // Slack channel a user also named as theirs) still sends now.
        if matches!(d.verdict, Verdict::Hold(_)) {
            if !self.held.insert(key) {
                return false;
            }
        } else {
            self.seen.insert(key);
        }
        self.out.push(d);
        true
    }
}

fn failing(status: RunStatus) -> bool {
    matches!(
        status,
        RunStatus::Failed | RunStatus::TimedOut | RunStatus::WorkerLost
    )
}

/// The decisions for `notice`, updating `state` (the job's, when the notice
/// is about a job).
pub fn decide(
    cfg: &Snapshot,
    notice: &Notice,
    state: &mut JobState,
    now: DateTime<Utc>,
) -> Vec<Decision> {
    let mut acc = Acc {
        cfg,
        notice,
        now,
        seen: HashSet::new(),
        held: HashSet::new(),
        out: Vec::new(),
    };
    let run = notice.run.as_ref();
    let streak = run.map_or(0, |r| r.failure_streak);
    let succeeded = run.is_some_and(|r| r.status == RunStatus::Succeeded);
    let mut rules: Vec<&RuleDoc> = cfg.rules.values().filter(|r| r.enabled).collect();
    rules.sort_by(|a, b| a.name.cmp(&b.name));
    for rule in rules {
        let triggers = rule.matches(notice, now);
        let Some(&trigger) = triggers.first() else {
            continue;
        };
        if let (Some(n), Some(_)) = (rule.after_failures, run)
            && streak < n
        {
            continue;
        }
        if let Some(esc) = &rule.escalation
            && esc.after_failures.is_some_and(|n| streak >= n)
            && state.escalated.insert(rule.id)
        {
            for t in &esc.send_to {
                acc.target(t, "escalation", Some(rule.id), trigger, Mode::Escalation);
            }
        }
        let gate = throttle_gate(rule, state, now, succeeded);
        let before = acc.out.len();
        let mut sent = Vec::new();
        for t in &rule.send_to {
            sent.extend(acc.target(t, "rule", Some(rule.id), trigger, Mode::Normal));
        }
        if let Some(g) = gate {
            for d in &mut acc.out[before..] {
                if matches!(d.verdict, Verdict::Send | Verdict::Hold(_)) {
                    d.verdict = g.clone();
                }
            }
            sent.clear();
        }
        if trigger.polarity() == Polarity::Failure && !sent.is_empty() {
            if rule.recovery {
                for d in &sent {
                    state.alerted.insert(Alerted {
                        channel_id: d.channel_id,
                        to: d.to.clone(),
                        user_id: d.user_id,
                    });
                }
            }
            if let Some(m) = rule.escalation.as_ref().and_then(|e| e.unacked_minutes)
                && !state.open.iter().any(|o| o.rule_id == rule.id)
            {
                state.open.push(OpenAlert {
                    rule_id: rule.id,
                    notification_ids: sent.iter().map(|d| d.id).collect(),
                    due: now + Duration::minutes(i64::from(m)),
                    notice: notice.clone(),
                });
            }
        }
    }
    if succeeded {
        let was_failing = run.and_then(|r| r.previous_status).is_some_and(failing);
        if was_failing || !state.alerted.is_empty() {
            for a in std::mem::take(&mut state.alerted) {
                let t = RuleTarget {
                    channel_id: a.channel_id,
                    to: recovery_to(&a),
                };
                acc.target(
                    &t,
                    "recovery",
                    None,
                    NotifyTrigger::Recovered,
                    Mode::Escalation,
                );
            }
        }
        state.silenced.clear();
        state.escalated.clear();
        state.open.clear();
    }
    subscriptions(&mut acc);
    acc.out
}

fn recovery_to(a: &Alerted) -> Vec<Recipient> {
    if let Some(u) = a.user_id {
        return vec![Recipient::User { user_id: u }];
    }
    match &a.to {
        None => Vec::new(),
        Some(addr) if addr.contains('@') => vec![Recipient::Email {
            address: addr.clone(),
        }],
        Some(addr) if addr.starts_with('U') || addr.starts_with('W') => {
            vec![Recipient::SlackUser { user: addr.clone() }]
        }
        Some(addr) => vec![Recipient::SlackChannel {
            channel: addr.clone(),
        }],
    }
}

/// The throttle's verdict for the rule's deliveries (`None`: they pass).
fn throttle_gate(
    rule: &RuleDoc,
    state: &mut JobState,
    now: DateTime<Utc>,
    succeeded: bool,
) -> Option<Verdict> {
    let th = rule.throttle?;
    if succeeded && state.silenced.remove(&rule.id) {
        state.windows.remove(&rule.id);
    }
    if state.silenced.contains(&rule.id) {
        return Some(Verdict::Drop(
            "throttled: silenced until the job succeeds again".to_owned(),
        ));
    }
    let period = Duration::minutes(i64::from(th.per_minutes));
    let w = state.windows.entry(rule.id).or_insert_with(|| Window {
        start: now,
        count: 0,
        per_minutes: th.per_minutes,
        held: Vec::new(),
    });
    if now >= w.start + period && w.held.is_empty() {
        *w = Window {
            start: now,
            count: 0,
            per_minutes: th.per_minutes,
            held: Vec::new(),
        };
    }
    if w.count < th.max {
        w.count += 1;
        return None;
    }
    match th.then {
        ThrottleMode::SilenceUntilSuccess => {
            state.silenced.insert(rule.id);
            Some(Verdict::Drop(format!(
                "throttled: more than {} in {} minutes; silenced until the job succeeds again",
                th.max, th.per_minutes
            )))
        }
        ThrottleMode::Digest => Some(Verdict::Throttled),
    }
}

/// Subscriptions: every active user whose subscriptions cover the notice
/// (or who started the run and hears of their own runs).
fn subscriptions(acc: &mut Acc<'_>) {
    let Some(&trigger) = acc.notice.triggers(DEFAULT_SLOW_MARGIN_PCT).first() else {
        return;
    };
    let started_by = acc.notice.run.as_ref().and_then(|r| r.started_by);
    let mut users: Vec<_> = acc.cfg.prefs.values().filter(|p| p.active).collect();
    users.sort_by_key(|p| p.user_id);
    for p in users {
        let own = p.subscriptions.own_runs && started_by == Some(p.user_id);
        if !own && !p.subscriptions.covers(acc.notice) {
            continue;
        }
        let origin = if own { "started_by" } else { "subscription" };
        let channels = if p.subscriptions.channels.is_empty() {
            &acc.cfg.defaults.channels_for_users
        } else {
            &p.subscriptions.channels
        };
        for c in channels.clone() {
            let t = RuleTarget {
                channel_id: c,
                to: vec![Recipient::User { user_id: p.user_id }],
            };
            let key = format!("{origin}:{}", p.user_id);
            let before = acc.out.len();
            acc.target(&t, origin, None, trigger, Mode::Normal);
            for d in &mut acc.out[before..] {
                d.id = delivery_id(&[
                    &acc.notice.notice_id,
                    &key,
                    &c.to_string(),
                    d.to.as_deref().unwrap_or("default"),
                ]);
            }
        }
    }
}

/// The escalation list of `rule` for `notice`, now (an alert nobody
/// acknowledged in time).
pub fn escalation(
    cfg: &Snapshot,
    notice: &Notice,
    rule: &RuleDoc,
    now: DateTime<Utc>,
) -> Vec<Decision> {
    let Some(esc) = &rule.escalation else {
        return Vec::new();
    };
    let trigger = notice
        .triggers(DEFAULT_SLOW_MARGIN_PCT)
        .first()
        .copied()
        .unwrap_or(NotifyTrigger::RunFailed);
    let mut acc = Acc {
        cfg,
        notice,
        now,
        seen: HashSet::new(),
        held: HashSet::new(),
        out: Vec::new(),
    };
    for t in &esc.send_to {
        acc.target(t, "escalation", Some(rule.id), trigger, Mode::Escalation);
    }
    for d in &mut acc.out {
        d.id = delivery_id(&[
            &notice.notice_id,
            "unacked",
            &rule.id.to_string(),
            &d.channel_id.to_string(),
            d.to.as_deref().unwrap_or("default"),
        ]);
    }
    acc.out
}
