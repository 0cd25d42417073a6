//! The command handler (durable `notifier-commands` on `<p>.cmd.notify`):
//! channel tests (one attempt), notification steps (refused unless the
//! channel allows steps and is of the step's kind; retried like notices),
//! resends (fresh attempts under the resend id) and acknowledgements
//! (stop an open alert's escalation).

use std::time::Duration;

use async_nats::jetstream::kv;
use chrono::Utc;
use opsc_proto::CloudEvent;
use opsc_proto::notify::{
    AckRequest, DeliveryStatus, NotifyCommand, Recipient, ResendRequest, StepSend, TestSend,
    delivery_id, keys, template,
};
use opsc_runtime::bus::consume::{Delivery, Handler, Outcome};
use uuid::Uuid;

use crate::config::Snapshot;
use crate::decide::recipient_address;
use crate::deliver::{Deliverer, Message, Tried};
use crate::render::Rendered;
use crate::state::{self, JobState};

/// The handler.
#[derive(Debug)]
pub struct Commands {
    /// Delivery.
    pub d: Deliverer,
    /// `<p>_notify_state`.
    pub state: kv::Store,
}

fn plain(subject: String, text: String, html: Option<String>, data: serde_json::Value) -> Rendered {
    Rendered {
        parts: template::Parts {
            subject,
            text,
            html,
        },
        data,
        tone: "neutral",
        link: None,
        error: None,
    }
}

fn bare(id: Uuid, origin: &str, channel_id: Uuid, rendered: Rendered) -> Message {
    Message {
        id,
        origin: origin.to_owned(),
        rule_id: None,
        trigger: None,
        notice_id: None,
        channel_id,
        to: None,
        user_id: None,
        job_id: None,
        run_id: None,
        rendered,
    }
}

/// The addresses of explicit recipients (`None`: the channel's default).
fn addresses(
    cfg: &Snapshot,
    channel_id: Uuid,
    to: &[Recipient],
) -> Vec<(Option<String>, Option<Uuid>)> {
    if to.is_empty() {
        return vec![(None, None)];
    }
    let kind = cfg.channels.get(&channel_id).map(|c| c.doc.kind());
    to.iter()
        .filter_map(|r| kind.and_then(|k| recipient_address(cfg, k, r)))
        .collect()
}

impl Commands {
    async fn send_all(
        &self,
        d: &Delivery<CloudEvent<NotifyCommand>>,
        msgs: &[Message],
        one_attempt: bool,
    ) -> Outcome {
        if self.d.paused() {
            return Outcome::retry(Duration::from_secs(5), "delivery is paused");
        }
        let attempt = u32::try_from(d.deliveries).unwrap_or(u32::MAX);
        let mut again = false;
        for m in msgs {
            if self.d.attempt(m, attempt, one_attempt, d).await == Tried::Again {
                again = true;
            }
        }
        if again {
            Outcome::retry(
                self.d.backoff(attempt),
                "a delivery failed and will be tried again",
            )
        } else {
            Outcome::Ack
        }
    }

    fn test(cfg: &Snapshot, t: &TestSend) -> Vec<Message> {
        let rendered = plain(
            "OpsConductor test message".to_owned(),
            format!(
                "This is a test of the channel, asked for by {}.",
                t.requested_by
            ),
            None,
            serde_json::json!({ "test": true, "requested_by": t.requested_by }),
        );
        addresses(cfg, t.channel_id, &t.to)
            .into_iter()
            .enumerate()
            .map(|(i, (to, user_id))| {
                let id = if i == 0 {
                    t.notification_id
                } else {
                    delivery_id(&[
                        &t.notification_id.to_string(),
                        to.as_deref().unwrap_or("default"),
                    ])
                };
                let mut m = bare(id, "test", t.channel_id, rendered.clone());
                m.to = to;
                m.user_id = user_id;
                m
            })
            .collect()
    }

    async fn step(
        &self,
        d: &Delivery<CloudEvent<NotifyCommand>>,
        cfg: &Snapshot,
        s: &StepSend,
    ) -> Outcome {
        let rendered = plain(
            s.subject.clone(),
            s.text.clone(),
            s.html.clone(),
            s.data.clone().unwrap_or(serde_json::Value::Null),
        );
        let chan = cfg.channel_by(&s.channel);
        let refuse = match chan {
            None => Some((Uuid::nil(), format!("no channel named {}", s.channel))),
            Some(c) if !c.doc.allow_steps => Some((
                c.doc.id,
                format!("channel {} does not allow notification steps", c.doc.name),
            )),
            Some(c) if c.doc.kind() != s.kind => Some((
                c.doc.id,
                format!(
                    "channel {} is a {} channel, not {}",
                    c.doc.name,
                    c.doc.kind().as_str(),
                    s.kind.as_str()
                ),
            )),
            Some(_) => None,
        };
        let mut base = bare(s.notification_id, "step", Uuid::nil(), rendered);
        base.job_id = Some(s.job_id);
        base.run_id = Some(s.run_id);
        if let Some((channel_id, why)) = refuse {
            base.channel_id = channel_id;
            if !self.d.already(s.notification_id).await {
                self.d
                    .record(
                        &base,
                        DeliveryStatus::DeadLettered,
                        1,
                        1,
                        None,
                        Some(why),
                        Utc::now(),
                        0,
                    )
                    .await;
            }
            return Outcome::Ack;
        }
        let Some(c) = chan else { return Outcome::Ack };
        base.channel_id = c.doc.id;
        let msgs: Vec<Message> = addresses(cfg, c.doc.id, &s.to)
            .into_iter()
            .enumerate()
            .map(|(i, (to, user_id))| {
                let mut m = base.clone();
                if i > 0 {
                    m.id = delivery_id(&[
                        &s.notification_id.to_string(),
                        to.as_deref().unwrap_or("default"),
                    ]);
                }
                m.to = to;
                m.user_id = user_id;
                m
            })
            .collect();
        self.send_all(d, &msgs, false).await
    }

    fn resend(r: &ResendRequest) -> Message {
        let mut m = bare(
            r.resend_id,
            "resend",
            r.channel_id,
            plain(
                r.subject.clone(),
                r.text.clone(),
                r.html.clone(),
                serde_json::json!({ "resend_of": r.notification_id }),
            ),
        );
        m.to = (!matches!(r.recipient.as_str(), "default" | "endpoint" | ""))
            .then(|| r.recipient.clone());
        m
    }

    async fn ack(&self, a: &AckRequest) -> Outcome {
        let mut m = bare(
            a.notification_id,
            "ack",
            Uuid::nil(),
            plain(
                "Acknowledged".to_owned(),
                format!("Acknowledged by {}", a.by),
                None,
                serde_json::Value::Null,
            ),
        );
        m.job_id = a.job_id;
        if let Some(job) = a.job_id {
            let id = a.notification_id;
            let found = state::update(&self.state, &keys::job_state(job), |st: &mut JobState| {
                let before = st.open.len();
                st.open.retain(|o| !o.notification_ids.contains(&id));
                before != st.open.len()
            })
            .await;
            if let Err(e) = found {
                return Outcome::retry(self.d.backoff(1), e);
            }
        }
        self.d
            .record(&m, DeliveryStatus::Acknowledged, 0, 0, None, None, a.at, 0)
            .await;
        Outcome::Ack
    }
}

impl Handler<CloudEvent<NotifyCommand>> for Commands {
    async fn handle(&self, d: &Delivery<CloudEvent<NotifyCommand>>) -> Outcome {
        // A `notify.*` step's command continues the step's trace.
        let span = tracing::info_span!("notifier.command", trace_id = tracing::field::Empty);
        opsc_runtime::telemetry::set_parent(&span, d.message.traceparent.as_deref());
        tracing::Instrument::instrument(self.handle_in_span(d), span).await
    }
}

impl Commands {
    async fn handle_in_span(&self, d: &Delivery<CloudEvent<NotifyCommand>>) -> Outcome {
        let Some(cfg) = self.d.cfg.read().ok().map(|c| c.clone()) else {
            return Outcome::retry(Duration::from_secs(1), "configuration lock poisoned");
        };
        if !cfg.loaded {
            return Outcome::retry(Duration::from_secs(1), "configuration not loaded yet");
        }
        match &d.message.data {
            NotifyCommand::Test(t) => {
                let msgs = Self::test(&cfg, t);
                self.send_all(d, &msgs, true).await
            }
            NotifyCommand::Step(s) => Box::pin(self.step(d, &cfg, s)).await,
            NotifyCommand::Resend(r) => {
                let m = Self::resend(r);
                self.send_all(d, &[m], false).await
            }
            NotifyCommand::Ack(a) => self.ack(a).await,
        }
    }
}
