//! Schedules as the scheduler sees them: the documents the api keeps in the
//! `<p>_schedules` KV bucket in step with PostgreSQL, the policies they
//! carry, and the lease and status documents of the scheduler replicas.
//!
//! Keys of `<p>_schedules`: `schedule.<id>` (a [`ScheduleDoc`]) and
//! `control.global` (a [`SchedulerControl`]). Keys of `<p>_leases`:
//! `scheduler.leader` (a [`Lease`]), `scheduler.replica.<id>` (a
//! [`ReplicaBeat`]) and `scheduler.status` (a [`SchedulerStatusDoc`]).
//! Keys of `<p>_scheduler_state`: `cursor.<schedule id>` (a [`Cursor`]),
//! `retry.<run id>` (a [`PendingRetry`]). `<p>_windows`: `window.<id>` (a
//! [`WindowDoc`]); `<p>_schedules` also holds `dependency.<id>` (a
//! [`DependencyDoc`]).

mod docs;
mod policy;
mod reactions;

pub use docs::{
    Addresses, Cursor, Lease, PendingRetry, ReplicaBeat, ScheduleDoc, SchedulerControl,
    SchedulerStatusDoc, StatusFire, keys,
};
pub use policy::{DstPolicy, GapPolicy, MisfireMode, MisfirePolicy, OverlapPolicy};
pub use reactions::{
    DependencyDoc, DependencyOn, WindowDoc, WindowFirePolicy, WindowScope, WindowTiming,
};
