//! Runs: admitting them from the API or the bus ([`admit`], [`intake`]),
//! planning and sealing their dispatches ([`plan`], [`dispatch`]),
//! recording what workers report ([`recorder`]), and how they end
//! ([`lifecycle`]: announcements, cancel, the reaper), re-runs ([`rerun`]).
//! Queries for the API are in [`queries`].
//!
//! Nothing here knows HTTP: the handlers call in, the consumers run on the
//! runtime's consumer loop.

pub mod adhoc;
pub mod admit;
pub mod concurrency;
pub mod dispatch;
pub mod intake;
pub mod lifecycle;
pub mod lineage;
pub mod live;
pub mod plan;
pub mod preflight;
pub mod preview;
pub mod queries;
pub mod recorder;
pub mod rerun;
pub mod windows;

use tokio_util::sync::CancellationToken;

use crate::core::Core;

pub use admit::{Admission, AdmitError, Admitted, JobName, admit, admit_with};

/// Runs the intake, the recorders and the reaper until shutdown.
pub async fn background(core: Core, shutdown: CancellationToken) {
    tokio::join!(
        intake::run(core.clone(), shutdown.clone()),
        recorder::events(core.clone(), shutdown.clone()),
        recorder::output(core.clone(), shutdown.clone()),
        concurrency::release::sweep(core.clone(), shutdown.clone()),
        lifecycle::reaper(core, shutdown),
    );
}

/// The name a unit enum variant has on the wire (`worker_lost`, `manual` …).
pub fn wire_name<T: serde::Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
