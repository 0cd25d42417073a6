//! From a rule's or subscription's recipients to (channel, address) pairs,
//! with the user's level and quiet hours.

use chrono::{DateTime, Utc};
use opsc_proto::notify::{
    ChannelDoc, ChannelKind, Level, Notice, NotifyTrigger, Polarity, PreferencesDoc, QuietMode,
    Recipient,
};
use uuid::Uuid;

use super::Verdict;
use crate::config::Snapshot;

/// One resolved recipient on a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The address (`None`: the channel's default or endpoint).
    pub to: Option<String>,
    /// The user, when it is for one.
    pub user_id: Option<Uuid>,
    /// Send, hold or drop.
    pub verdict: Verdict,
}

/// How a recipient is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Preferences and quiet hours apply.
    Normal,
    /// An escalation list: neither applies.
    Escalation,
}

/// The user a recipient stands for, when it stands for one.
fn user_of(r: &Recipient, notice: &Notice) -> Option<Option<Uuid>> {
    match r {
        Recipient::User { user_id } => Some(Some(*user_id)),
        Recipient::StartedBy => Some(notice.run.as_ref().and_then(|r| r.started_by)),
        Recipient::JobOwner => Some(notice.job().and_then(|j| j.owner_id)),
        _ => None,
    }
}

/// Resolves the recipients `to` of `channel` (empty: its default).
pub fn resolve(
    cfg: &Snapshot,
    channel: &ChannelDoc,
    to: &[Recipient],
    notice: &Notice,
    trigger: NotifyTrigger,
    mode: Mode,
    now: DateTime<Utc>,
) -> Vec<Resolved> {
    if to.is_empty() {
        return vec![Resolved {
            to: None,
            user_id: None,
            verdict: Verdict::Send,
        }];
    }
    let kind = channel.kind();
    let mut out = Vec::new();
    for r in to {
        if let Some(user) = user_of(r, notice) {
            let Some(user) = user else {
                continue;
            };
            out.push(for_user(cfg, channel, user, notice, trigger, mode, now));
            continue;
        }
        let (want, addr) = match r {
            Recipient::Email { address } => (ChannelKind::Email, address),
            Recipient::SlackChannel { channel } => (ChannelKind::Slack, channel),
            Recipient::SlackUser { user } => (ChannelKind::Slack, user),
            _ => continue,
        };
        out.push(Resolved {
            to: Some(addr.clone()),
            user_id: None,
            verdict: if want == kind {
                Verdict::Send
            } else {
                Verdict::Drop(format!(
                    "a {} recipient cannot be reached on a {} channel",
                    want.as_str(),
                    kind.as_str()
                ))
            },
        });
    }
    out
}

/// The address of a user on a channel: their email, their Slack member
/// id, or the channel's endpoint (Teams, webhooks).
pub fn address(p: &PreferencesDoc, kind: ChannelKind) -> Result<Option<String>, String> {
    match kind {
        ChannelKind::Email => p
            .email
            .clone()
            .map(Some)
            .ok_or_else(|| format!("user {} has no email address", p.username)),
        ChannelKind::Slack => p
            .slack_user
            .clone()
            .map(Some)
            .ok_or_else(|| format!("user {} has no Slack member id", p.username)),
        ChannelKind::Teams | ChannelKind::Webhook => Ok(None),
    }
}

/// The level a user chose for a channel (else the defaults', else all).
pub fn level(cfg: &Snapshot, p: &PreferencesDoc, channel: Uuid) -> Level {
    p.channels
        .get(&channel)
        .or_else(|| cfg.defaults.channels.get(&channel))
        .copied()
        .unwrap_or_default()
}

/// Resolves one user on a channel.
pub fn for_user(
    cfg: &Snapshot,
    channel: &ChannelDoc,
    user: Uuid,
    notice: &Notice,
    trigger: NotifyTrigger,
    mode: Mode,
    now: DateTime<Utc>,
) -> Resolved {
    let drop = |to: Option<String>, why: String| Resolved {
        to,
        user_id: Some(user),
        verdict: Verdict::Drop(why),
    };
    let Some(p) = cfg.prefs.get(&user) else {
        return drop(None, format!("user {user} is unknown to the notifier"));
    };
    if !p.active {
        return drop(None, format!("user {} is disabled", p.username));
    }
    let to = match address(p, channel.kind()) {
        Ok(a) => a,
        Err(why) => return drop(None, why),
    };
    if mode == Mode::Escalation {
        return Resolved {
            to,
            user_id: Some(user),
            verdict: Verdict::Send,
        };
    }
    if !level(cfg, p, channel.id).admits(trigger) {
        return drop(
            to,
            format!(
                "user {}'s preferences for this channel exclude it",
                p.username
            ),
        );
    }
    let verdict = quiet(cfg, p, notice, trigger, now);
    Resolved {
        to,
        user_id: Some(user),
        verdict,
    }
}

/// Whether quiet hours hold or drop a message to `p` now.
pub fn quiet(
    cfg: &Snapshot,
    p: &PreferencesDoc,
    notice: &Notice,
    trigger: NotifyTrigger,
    now: DateTime<Utc>,
) -> Verdict {
    let critical = notice.job().is_some_and(|j| j.critical);
    if critical && trigger.polarity() == Polarity::Failure {
        return Verdict::Send;
    }
    if !in_quiet_hours(cfg, p, now) {
        return Verdict::Send;
    }
    let qh = quiet_hours(cfg, p);
    match qh.map(|q| q.mode).unwrap_or_default() {
        QuietMode::Digest => Verdict::Hold(p.user_id),
        QuietMode::Drop => Verdict::Drop(format!("quiet hours of {}", p.username)),
    }
}

/// The quiet hours that apply to `p`.
pub fn quiet_hours<'a>(
    cfg: &'a Snapshot,
    p: &'a PreferencesDoc,
) -> Option<&'a opsc_proto::notify::QuietHours> {
    if p.quiet_hours_off {
        return None;
    }
    p.quiet_hours.as_ref().or(cfg.defaults.quiet_hours.as_ref())
}

/// Whether `p` is inside their quiet hours at `now`.
pub fn in_quiet_hours(cfg: &Snapshot, p: &PreferencesDoc, now: DateTime<Utc>) -> bool {
    quiet_hours(cfg, p).is_some_and(|q| q.contains(now, &p.time_zone))
}

/// The address of an explicit recipient on a channel kind, ignoring
/// preferences (tests, steps); `None` when it cannot be reached there.
pub fn recipient_address(
    cfg: &Snapshot,
    kind: ChannelKind,
    r: &Recipient,
) -> Option<(Option<String>, Option<Uuid>)> {
    match r {
        Recipient::User { user_id } => {
            let p = cfg.prefs.get(user_id)?;
            address(p, kind).ok().map(|a| (a, Some(*user_id)))
        }
        Recipient::Email { address } if kind == ChannelKind::Email => {
            Some((Some(address.clone()), None))
        }
        Recipient::SlackChannel { channel } if kind == ChannelKind::Slack => {
            Some((Some(channel.clone()), None))
        }
        Recipient::SlackUser { user } if kind == ChannelKind::Slack => {
            Some((Some(user.clone()), None))
        }
        _ => None,
    }
}
