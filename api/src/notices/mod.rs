//! Notices: the facts notifications are about, published by the api on
//! `<p>.evt.notice.<id>.<kind>` only after the fact is recorded in
//! PostgreSQL, with the context the notifier needs (it has no database).
//!
//! - [`finished`]: every `run.finished` becomes a `run_finished` notice
//!   with the run's [`RunDigest`](opsc_proto::notify::RunDigest)
//!   (durable `notices-finished`);
//! - [`started`]: the first `run.started` of a run becomes a `run_started`
//!   notice, only while some enabled rule listens for it (durable
//!   `notices-started`);
//! - [`dead_letters`]: every dead letter becomes a `dead_letter` notice,
//!   except its own (durable `notices-dead-letters`);
//! - [`publish`]: schedule skips and misfires, failed connection tests.
//!
//! The envelope id is the notice id, so a repeated publish is stored once.

pub mod dead_letters;
pub mod digest;
pub mod finished;
pub mod publish;
pub mod started;

use opsc_proto::CloudEvent;
use opsc_proto::notify::{Notice, NoticeKind};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::core::Core;

pub use publish::{schedule_notice, target_test_failed};

/// The console's address for links: `http.public_url`, else the api's
/// own address when it is a concrete one (not `0.0.0.0` or `::`).
pub fn console_url(core: &Core) -> Option<String> {
    let http = &core.config.http;
    if let Some(url) = http
        .public_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        return Some(url.trim_end_matches('/').to_owned());
    }
    (!http.addr.ip().is_unspecified()).then(|| format!("http://{}", http.addr))
}

/// The `run_finished` notice of `run_id` as recorded now (template
/// previews with real data); `None` when the run does not exist.
pub async fn run_notice(core: &Core, run_id: Uuid) -> Result<Option<Notice>, sea_orm::DbErr> {
    let Some(run) = digest::digest(core.db(), run_id, None).await? else {
        return Ok(None);
    };
    let kind = if run.status.is_terminal() {
        NoticeKind::RunFinished
    } else {
        NoticeKind::RunStarted
    };
    let suffix = if kind == NoticeKind::RunFinished {
        "finished"
    } else {
        "started"
    };
    Ok(Some(Notice {
        notice_id: format!("run:{run_id}:{suffix}"),
        kind,
        at: chrono::Utc::now(),
        console_url: console_url(core),
        run: Some(run),
        schedule: None,
        target: None,
        dead_letter: None,
    }))
}

/// Publishes `notice` with its notice id as the envelope id.
pub async fn send(core: &Core, notice: Notice) -> Result<(), opsc_runtime::bus::PublishError> {
    let id = notice.notice_id.clone();
    let event = CloudEvent::new(core.bus.source.clone(), notice).with_id(id);
    core.bus.publish(&event).await.map(|_| ())
}

/// Runs the notice consumers until shutdown.
pub async fn background(core: Core, shutdown: CancellationToken) {
    let listening = started::Listening::start(core.clone(), shutdown.clone());
    tokio::join!(
        finished::run(core.clone(), shutdown.clone()),
        started::run(core.clone(), listening, shutdown.clone()),
        dead_letters::run(core, shutdown),
    );
}
