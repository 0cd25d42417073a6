//! The notice handler (durable `notifier-events` on
//! `<p>.evt.notice.>`): decide, remember, record, deliver.
//!
//! The decisions and the job's state change are written once
//! (compare-and-set on `job.<id>`, with the notice's deliveries
//! remembered), so a redelivered notice changes no state and only the
//! deliveries not yet in `<p>_notify_sent` are tried again.

use async_nats::jetstream::kv;
use chrono::{DateTime, Utc};
use opsc_proto::CloudEvent;
use opsc_proto::notify::{DeliveryStatus, Notice, keys, template};
use opsc_runtime::bus::consume::{Delivery, Handler, Outcome};
use std::time::Duration;

use crate::config::Snapshot;
use crate::decide::{Decision, Verdict, decide};
use crate::deliver::{Deliverer, Message, Tried};
use crate::render::{self, Rendered};
use crate::state::{self, HeldDoc, HeldItem, JobState};

/// The handler.
#[derive(Debug)]
pub struct Notices {
    /// Delivery.
    pub d: Deliverer,
    /// `<p>_notify_state`.
    pub state: kv::Store,
}

/// Renders a decision's message.
pub fn message(cfg: &Snapshot, notice: &Notice, d: &Decision) -> Message {
    let rendered = match cfg.channels.get(&d.channel_id) {
        Some(c) => render::render(cfg.templates.values(), &c.doc, notice, d.trigger),
        None => Rendered {
            parts: template::Parts {
                subject: format!("[{}] {}", template::label(d.trigger), notice.notice_id),
                text: String::new(),
                html: None,
            },
            data: serde_json::Value::Null,
            tone: render::tone(d.trigger),
            link: None,
            error: None,
        },
    };
    Message {
        id: d.id,
        origin: d.origin.to_owned(),
        rule_id: d.rule_id,
        trigger: Some(d.trigger),
        notice_id: Some(notice.notice_id.clone()),
        channel_id: d.channel_id,
        to: d.to.clone(),
        user_id: d.user_id,
        job_id: notice.job().map(|j| j.id),
        run_id: notice.run.as_ref().map(|r| r.run_id),
        rendered,
    }
}

fn held_item(m: &Message) -> HeldItem {
    HeldItem {
        notice_id: m.notice_id.clone().unwrap_or_default(),
        subject: m.rendered.parts.subject.clone(),
        link: m.rendered.link.clone(),
        channel_id: m.channel_id,
        to: m.to.clone(),
    }
}

/// Decides a notice once: on a notice decided before, only its remembered
/// sends come back and the state is left as it is. `true` on the first time.
pub fn decide_once(
    cfg: &Snapshot,
    notice: &Notice,
    st: &mut JobState,
    now: DateTime<Utc>,
) -> (Vec<Decision>, bool) {
    if let Some(ids) = st.decided_for(&notice.notice_id) {
        let ids = ids.to_vec();
        let mut scratch = st.clone();
        let ds = decide(cfg, notice, &mut scratch, now)
            .into_iter()
            .filter(|d| d.verdict == Verdict::Send && ids.contains(&d.id))
            .collect();
        return (ds, false);
    }
    let ds = decide(cfg, notice, st, now);
    for d in &ds {
        if d.verdict == Verdict::Throttled
            && let Some(w) = d.rule_id.and_then(|r| st.windows.get_mut(&r))
        {
            w.held.push(held_item(&message(cfg, notice, d)));
        }
    }
    let sends = ds
        .iter()
        .filter(|d| d.verdict == Verdict::Send)
        .map(|d| d.id)
        .collect();
    st.remember(&notice.notice_id, sends);
    (ds, true)
}

impl Handler<CloudEvent<Notice>> for Notices {
    async fn handle(&self, d: &Delivery<CloudEvent<Notice>>) -> Outcome {
        // The deliveries continue the trace of whatever the notice is about.
        let notice = &d.message.data;
        let span = tracing::info_span!(
            "notifier.notice",
            notice_id = %notice.notice_id,
            run_id = notice.run.as_ref().map(|r| tracing::field::display(r.run_id)),
            job_id = notice.job().map(|j| tracing::field::display(j.id)),
            trace_id = tracing::field::Empty,
        );
        opsc_runtime::telemetry::set_parent(&span, d.message.traceparent.as_deref());
        tracing::Instrument::instrument(self.handle_in_span(d), span).await
    }
}

impl Notices {
    async fn handle_in_span(&self, d: &Delivery<CloudEvent<Notice>>) -> Outcome {
        let notice = &d.message.data;
        let Some(cfg) = self.d.cfg.read().ok().map(|c| c.clone()) else {
            return Outcome::retry(Duration::from_secs(1), "configuration lock poisoned");
        };
        if !cfg.loaded {
            return Outcome::retry(Duration::from_secs(1), "configuration not loaded yet");
        }
        let now = Utc::now();
        let decided = match notice.job() {
            Some(job) => {
                state::update(
                    &self.state,
                    &keys::job_state(job.id),
                    |st: &mut JobState| decide_once(&cfg, notice, st, now),
                )
                .await
            }
            None => Ok(decide_once(&cfg, notice, &mut JobState::default(), now)),
        };
        let (decisions, first) = match decided {
            Ok(x) => x,
            Err(e) => return Outcome::retry(self.d.backoff(1), e),
        };
        let mut sends = Vec::new();
        for dec in &decisions {
            let m = message(&cfg, notice, dec);
            match &dec.verdict {
                Verdict::Send => sends.push(m),
                _ if !first => {}
                Verdict::Hold(user) => {
                    let item = held_item(&m);
                    let key = keys::held(*user);
                    if let Err(e) = state::update(&self.state, &key, |h: &mut HeldDoc| {
                        h.items.push(item.clone());
                    })
                    .await
                    {
                        tracing::warn!(error = %e, "Cannot hold a message for quiet hours.");
                    }
                    self.d
                        .record(
                            &m,
                            DeliveryStatus::Held,
                            0,
                            0,
                            None,
                            Some("quiet hours".to_owned()),
                            now,
                            0,
                        )
                        .await;
                }
                Verdict::Throttled => {
                    self.d
                        .record(
                            &m,
                            DeliveryStatus::Held,
                            0,
                            0,
                            None,
                            Some("throttled: held for the period's digest".to_owned()),
                            now,
                            0,
                        )
                        .await;
                }
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
            }
        }
        if sends.is_empty() {
            return Outcome::Ack;
        }
        if self.d.paused() {
            return Outcome::retry(Duration::from_secs(5), "delivery is paused");
        }
        let attempt = u32::try_from(d.deliveries).unwrap_or(u32::MAX);
        let mut again = false;
        for m in &sends {
            if self.d.attempt(m, attempt, false, d).await == Tried::Again {
                again = true;
            }
        }
        if again {
            return Outcome::retry(
                self.d.backoff(attempt),
                "a delivery failed and will be tried again",
            );
        }
        Outcome::Ack
    }
}
