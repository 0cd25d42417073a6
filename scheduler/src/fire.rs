//! Carrying out a round of actions: run intents first (pipelined, so a
//! thousand fires due at one instant cost one round trip, not a thousand),
//! then the schedule events, then the cursors. A schedule's cursor moves
//! only past actions whose intent and event the bus acknowledged; anything
//! after a failure is done again next round, and the intent's idempotency
//! key (`schedule:<id>:<instant>`) makes the repeat the same run.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use opsc_proto::CloudEvent;
use opsc_proto::commands::{RunIntent, Trigger, TriggerKind};
use opsc_proto::events::{ScheduleFired, ScheduleMisfired, ScheduleSkipped, SkipReason};
use opsc_runtime::bus::{Bus, Pending};

use crate::book::Entry;
use crate::plan::Action;

/// The ready actions of one schedule.
#[derive(Debug)]
pub(crate) struct Work {
    /// The schedule.
    pub entry: Arc<Entry>,
    /// Its actions, in instant order.
    pub actions: Vec<Action>,
}

/// What became of one schedule's work.
#[derive(Debug)]
pub(crate) struct Done {
    /// The schedule.
    pub entry: Arc<Entry>,
    /// The instant of the last action carried out (the new cursor).
    pub handled_until: Option<DateTime<Utc>>,
    /// Whether every action was carried out.
    pub complete: bool,
    /// Lag of each on-time fire, in seconds.
    pub lags: Vec<f64>,
    /// Catch-up fires carried out.
    pub catch_ups: u64,
}

/// Carries out `work` as leader of `term`.
pub(crate) async fn execute(bus: &Bus, term: u64, work: Vec<Work>) -> Vec<Done> {
    // Phase 1: every intent, then every acknowledgement.
    let mut sends = Vec::new();
    for (w, work_item) in work.iter().enumerate() {
        for (a, action) in work_item.actions.iter().enumerate() {
            if let Action::Fire { occurrence, .. } = action {
                let event = intent(&work_item.entry, occurrence.at, term, &bus.source);
                // The intent carries this span's context: the run's trace starts here.
                let span = tracing::info_span!(
                    "scheduler.fire",
                    schedule_id = %work_item.entry.doc.id,
                    job_id = %work_item.entry.doc.job_id,
                    at = %occurrence.at,
                );
                let sent = tracing::Instrument::instrument(bus.send(&event), span).await;
                sends.push(((w, a), sent));
            }
        }
    }
    let acks = join_all(sends.into_iter().map(|(at, sent)| async move {
        let acked = match sent {
            Ok(p) => ack(p).await,
            Err(e) => Err(e.to_string()),
        };
        (at, acked.map(|()| Utc::now()))
    }))
    .await;
    let mut fired_at = std::collections::HashMap::new();
    for (at, result) in acks {
        match result {
            Ok(t) => {
                fired_at.insert(at, t);
            }
            Err(reason) => tracing::warn!(
                reason,
                "A run intent was not acknowledged; it is fired again next round."
            ),
        }
    }
    // Phase 2: the events of each schedule's acknowledged prefix.
    let mut done = Vec::new();
    let mut event_sends = Vec::new();
    for (w, item) in work.into_iter().enumerate() {
        let mut d = Done {
            entry: item.entry.clone(),
            handled_until: None,
            complete: true,
            lags: Vec::new(),
            catch_ups: 0,
        };
        let mut prefix = Vec::new();
        for (a, action) in item.actions.iter().enumerate() {
            let sent = match action {
                Action::Fire {
                    occurrence,
                    catch_up,
                    deferred_by,
                    ..
                } => {
                    let Some(t) = fired_at.get(&(w, a)) else {
                        d.complete = false;
                        break;
                    };
                    let lag =
                        (*t - occurrence.at).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
                    if *catch_up {
                        d.catch_ups += 1;
                    } else {
                        d.lags.push(lag);
                    }
                    let f = Fired {
                        at: occurrence.at,
                        fired_at: *t,
                        catch_up: *catch_up,
                        deferred_by: *deferred_by,
                        term,
                    };
                    bus.send(&fired(&item.entry, &f, &bus.source)).await
                }
                Action::Skip(o) => bus.send(&skipped(&item.entry, o, None, &bus.source)).await,
                Action::WindowSkip { occurrence, window } => {
                    bus.send(&skipped(
                        &item.entry,
                        occurrence,
                        Some(*window),
                        &bus.source,
                    ))
                    .await
                }
                Action::Drop(drop) => bus.send(&misfired(&item.entry, drop, &bus.source)).await,
            };
            prefix.push((action.until(), sent));
        }
        event_sends.push((done.len(), prefix));
        done.push(d);
    }
    let settled = join_all(event_sends.into_iter().map(|(i, prefix)| async move {
        let mut until = None;
        let mut complete = true;
        for (at, sent) in prefix {
            let ok = match sent {
                Ok(p) => ack(p).await.is_ok(),
                Err(_) => false,
            };
            if !ok {
                complete = false;
                break;
            }
            until = Some(at);
        }
        (i, until, complete)
    }))
    .await;
    for (i, until, complete) in settled {
        if let Some(d) = done.get_mut(i) {
            d.handled_until = until;
            d.complete &= complete;
        }
    }
    done
}

async fn ack(p: Pending) -> Result<(), String> {
    p.ack().await.map(|_| ()).map_err(|e| e.to_string())
}

/// The run intent of one fire.
fn intent(entry: &Entry, at: DateTime<Utc>, term: u64, source: &str) -> CloudEvent<RunIntent> {
    let doc = &entry.doc;
    let key = doc.intent_key(at);
    let intent = RunIntent {
        job_id: Some(doc.job_id),
        job_name: None,
        job_version: None,
        parameters: doc.parameters.clone(),
        sealed_parameters: doc.sealed_parameters.clone(),
        targets: doc.targets.clone(),
        trigger: Trigger {
            origin: Some("scheduler".to_owned()),
            ..Trigger::new(TriggerKind::Schedule, doc.id.to_string())
        },
        idempotency_key: Some(key.clone()),
        fence: Some(term),
        retry_of: None,
        parameters_from: None,
    };
    // The envelope id is the key too: a repeat inside the stream's duplicate
    // window is dropped by JetStream before the api even sees it.
    CloudEvent::new(source.to_owned(), intent)
        .with_id(key)
        .with_subject(doc.id.to_string())
}

/// What the fired event says.
#[derive(Debug, Clone, Copy)]
struct Fired {
    at: DateTime<Utc>,
    fired_at: DateTime<Utc>,
    catch_up: bool,
    deferred_by: Option<uuid::Uuid>,
    term: u64,
}

fn fired(entry: &Entry, f: &Fired, source: &str) -> CloudEvent<ScheduleFired> {
    let doc = &entry.doc;
    let Fired {
        at,
        fired_at,
        catch_up,
        deferred_by,
        term,
    } = *f;
    let key = doc.intent_key(at);
    let lag_ms = (fired_at - at).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e3;
    CloudEvent::new(
        source.to_owned(),
        ScheduleFired {
            schedule_id: doc.id,
            job_id: doc.job_id,
            fire_at: at,
            fired_at,
            lag_ms,
            intent_key: key.clone(),
            catch_up,
            deferred_by,
            revision: doc.revision,
            term,
        },
    )
    .with_id(format!("fired:{key}"))
    .with_subject(doc.id.to_string())
}

fn skipped(
    entry: &Entry,
    o: &opsc_calendar::Occurrence,
    window: Option<uuid::Uuid>,
    source: &str,
) -> CloudEvent<ScheduleSkipped> {
    let doc = &entry.doc;
    CloudEvent::new(
        source.to_owned(),
        ScheduleSkipped {
            schedule_id: doc.id,
            job_id: doc.job_id,
            fire_at: o.at,
            local_time: o.local.format("%Y-%m-%dT%H:%M:%S").to_string(),
            reason: if window.is_some() {
                SkipReason::Window
            } else {
                SkipReason::DstGap
            },
            window_id: window,
            revision: doc.revision,
        },
    )
    .with_id(format!("skipped:{}", doc.intent_key(o.at)))
    .with_subject(doc.id.to_string())
}

fn misfired(entry: &Entry, d: &crate::plan::Drop, source: &str) -> CloudEvent<ScheduleMisfired> {
    let doc = &entry.doc;
    let reason = serde_json::to_value(d.reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    CloudEvent::new(
        source.to_owned(),
        ScheduleMisfired {
            schedule_id: doc.id,
            job_id: doc.job_id,
            fire_at: d.first,
            last_fire_at: (d.count > 1).then_some(d.last),
            count: d.count,
            count_capped: d.capped,
            noticed_at: Utc::now(),
            reason: d.reason,
            revision: doc.revision,
        },
    )
    .with_id(format!("misfired:{}:{reason}", doc.intent_key(d.first)))
    .with_subject(doc.id.to_string())
}
