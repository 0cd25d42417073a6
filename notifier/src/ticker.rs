//! Every `tick_secs`: quiet-hours digests that fell due (one per user and
//! channel), throttle digests whose period ended (one per rule, channel and
//! address), and escalations of alerts nobody acknowledged in time. The
//! replica whose compare-and-set takes the held messages (or the open
//! alert) sends; the others find nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream::kv;
use chrono::Utc;
use futures::StreamExt as _;
use opsc_proto::notify::{DeliveryStatus, delivery_id, keys};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::decide::{self, Verdict};
use crate::deliver::{Deliverer, Message, Tried};
use crate::notices::message;
use crate::render;
use crate::state::{self, HeldDoc, HeldItem, JobState, OpenAlert};

/// The ticker.
#[derive(Debug)]
pub struct Ticker {
    /// Delivery.
    pub d: Deliverer,
    /// `<p>_notify_state`.
    pub state: kv::Store,
    /// Seconds between ticks.
    pub every: Duration,
    /// Cancelled on shutdown.
    pub shutdown: CancellationToken,
}

impl Ticker {
    /// Runs until shutdown.
    pub async fn run(self) {
        let mut tick = tokio::time::interval(self.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = self.shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            if self.d.paused() {
                continue;
            }
            let mut listed = match self.state.keys().await {
                Ok(k) => k,
                Err(e) => {
                    tracing::debug!(error = %e, "Cannot list the notifier state.");
                    continue;
                }
            };
            // The key listing may not end while keys are being written
            // (the replica status every 3 s): take what it gave in time.
            let mut keys = Vec::new();
            let until = tokio::time::Instant::now() + Duration::from_secs(2);
            while let Ok(Some(k)) = tokio::time::timeout_at(until, listed.next()).await {
                if let Ok(k) = k {
                    keys.push(k);
                }
            }
            for key in keys {
                if let Some(user) = key.strip_prefix(keys::HELD_PREFIX) {
                    if let Ok(user) = user.parse::<Uuid>() {
                        Box::pin(self.quiet_digest(&key, user)).await;
                    }
                } else if key.starts_with("job.") {
                    Box::pin(self.job(&key)).await;
                }
            }
        }
    }

    /// Delivers `m`, retrying in place up to the channel's attempts.
    async fn deliver(&self, m: &Message) {
        for attempt in 1..=10 {
            if self.shutdown.is_cancelled() {
                return;
            }
            if self.d.attempt(m, attempt, false, &()).await == Tried::Done {
                return;
            }
            tokio::time::sleep(self.d.backoff(attempt)).await;
        }
    }

    async fn digests(
        &self,
        origin: &str,
        title: &str,
        scope: &str,
        items: Vec<HeldItem>,
        user: Option<Uuid>,
    ) {
        let mut groups: BTreeMap<(Uuid, Option<String>), Vec<HeldItem>> = BTreeMap::new();
        for i in items {
            groups
                .entry((i.channel_id, i.to.clone()))
                .or_default()
                .push(i);
        }
        for ((channel_id, to), items) in groups {
            let first = items
                .first()
                .map(|i| i.notice_id.clone())
                .unwrap_or_default();
            let m = Message {
                id: delivery_id(&[
                    origin,
                    scope,
                    &channel_id.to_string(),
                    to.as_deref().unwrap_or("default"),
                    &first,
                ]),
                origin: "digest".to_owned(),
                rule_id: None,
                trigger: None,
                notice_id: None,
                channel_id,
                to,
                user_id: user,
                job_id: None,
                run_id: None,
                rendered: render::digest(title, &items),
            };
            self.deliver(&m).await;
        }
    }

    async fn quiet_digest(&self, key: &str, user: Uuid) {
        let Ok((doc, rev)) = state::read::<HeldDoc>(&self.state, key).await else {
            return;
        };
        if doc.items.is_empty() {
            return;
        }
        let quiet = self.d.cfg.read().ok().is_some_and(|c| {
            c.prefs
                .get(&user)
                .is_some_and(|p| decide::in_quiet_hours(&c, p, Utc::now()))
        });
        if quiet {
            return;
        }
        if !matches!(
            state::write(&self.state, key, &HeldDoc::default(), rev).await,
            Ok(true)
        ) {
            return;
        }
        self.digests(
            "quiet",
            "Held during your quiet hours",
            &user.to_string(),
            doc.items,
            Some(user),
        )
        .await;
    }

    async fn job(&self, key: &str) {
        let now = Utc::now();
        let Ok((peek, _)) = state::read::<JobState>(&self.state, key).await else {
            return;
        };
        let windows_due = peek.windows.values().any(|w| {
            !w.held.is_empty()
                && now >= w.start + chrono::Duration::minutes(i64::from(w.per_minutes))
        });
        if !windows_due && !peek.open.iter().any(|o| o.due <= now) {
            return;
        }
        let taken = state::update(&self.state, key, |st: &mut JobState| {
            let mut held = Vec::new();
            for (rule, w) in &mut st.windows {
                let end = w.start + chrono::Duration::minutes(i64::from(w.per_minutes));
                if now >= end && !w.held.is_empty() {
                    held.push((*rule, std::mem::take(&mut w.held)));
                }
            }
            let (due, open): (Vec<OpenAlert>, Vec<OpenAlert>) = std::mem::take(&mut st.open)
                .into_iter()
                .partition(|o| o.due <= now);
            st.open = open;
            (held, due)
        })
        .await;
        let Ok((held, due)) = taken else {
            return;
        };
        for (rule, items) in held {
            self.digests(
                "throttle",
                "Held by a throttle",
                &format!("{key}:{rule}"),
                items,
                None,
            )
            .await;
        }
        for alert in due {
            let Some(cfg) = self.d.cfg.read().ok().map(|c| c.clone()) else {
                return;
            };
            let Some(rule) = cfg.rules.get(&alert.rule_id) else {
                continue;
            };
            for dec in decide::escalation(&cfg, &alert.notice, rule, now) {
                let m = message(&cfg, &alert.notice, &dec);
                match &dec.verdict {
                    Verdict::Drop(why) => {
                        self.d
                            .record(
                                &m,
                                DeliveryStatus::Dropped,
                                0,
                                0,
                                None,
                                Some(why.clone()),
                                now,
                                0,
                            )
                            .await;
                    }
                    _ => self.deliver(&m).await,
                }
            }
        }
    }
}
