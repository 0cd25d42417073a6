//! The checks a schedule passes before it is stored: its own fields (the
//! cron engine reads the expression in its zone and must find a fire; the
//! misfire policy's numbers; the bounds), then a dry run of run admission
//! ([`crate::runs::preflight`]) with the caller as the one who runs it —
//! the same code `POST /api/v1/jobs/{id}/run` passes — so a schedule whose
//! runs would be refused, or that the caller could not start by hand, is
//! refused when saved. Every problem is located (`/cron`, `/time_zone`,
//! `/parameters/<name>` …).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use opsc_calendar::Calendar;
use opsc_proto::commands::{TargetSelection, Trigger, TriggerKind};
use opsc_proto::job::ParamType;
use opsc_proto::job_check::PathError;
use opsc_proto::schedule::{DstPolicy, MisfirePolicy};
use serde_json::Value;

use super::{ScheduleBody, ScheduleError};
use crate::core::Core;
use crate::jobs::access::Actor;
use crate::runs::{Admission, AdmitError, JobName};
use crate::store::job;

/// Longest name, in characters.
const MAX_NAME: usize = 100;

/// Longest description, in characters.
const MAX_DESCRIPTION: usize = 4000;

/// The zone of a schedule that names none.
pub(crate) const DEFAULT_ZONE: &str = "UTC";

/// A schedule that passed every check, ready to store.
#[derive(Debug, Clone)]
pub(crate) struct Valid {
    pub name: String,
    pub description: String,
    pub job: job::Model,
    pub cron: String,
    pub time_zone: String,
    pub start_at: Option<DateTime<Utc>>,
    pub end_at: Option<DateTime<Utc>>,
    pub enabled: bool,
    pub dst: DstPolicy,
    pub misfire: MisfirePolicy,
    /// Values of the job's non-secret parameters.
    pub public: BTreeMap<String, Value>,
    /// Values of its secret parameters.
    pub secret: BTreeMap<String, Value>,
    pub targets: Option<TargetSelection>,
    pub retry: Option<opsc_proto::run_policy::RetryPolicy>,
}

/// The problems of the schedule's own fields.
fn own_fields(body: &ScheduleBody, now: DateTime<Utc>) -> Vec<PathError> {
    let mut errors = Vec::new();
    let name_len = body.name.chars().count();
    if body.name.trim().is_empty() || name_len > MAX_NAME {
        errors.push(PathError::new(
            "/name",
            format!("must be 1-{MAX_NAME} characters, not only white space"),
        ));
    }
    if body
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        errors.push(PathError::new(
            "/description",
            format!("must be at most {MAX_DESCRIPTION} characters"),
        ));
    }
    if body.job_id.is_none() && body.job_name.is_none() {
        errors.push(PathError::new(
            "/job_id",
            "one of job_id and job_name is required",
        ));
    }
    let zone = body.time_zone.as_deref().unwrap_or(DEFAULT_ZONE);
    for (path, at) in [("/start_at", body.start_at), ("/end_at", body.end_at)] {
        if at.is_some_and(|t| !opsc_calendar::in_supported_range(t)) {
            errors.push(PathError::new(
                path,
                "must be between the years 1970 and 9999",
            ));
        }
    }
    let bounded = body
        .start_at
        .into_iter()
        .chain(body.end_at)
        .all(opsc_calendar::in_supported_range);
    match Calendar::new(&body.cron, zone, body.dst.unwrap_or_default()) {
        Err(e) => errors.push(PathError::new(format!("/{}", e.field()), e.to_string())),
        Ok(calendar) if bounded => {
            let calendar = calendar.with_bounds(body.start_at, body.end_at);
            if let Err(e) = calendar.check_fires(now) {
                errors.push(PathError::new(format!("/{}", e.field()), e.to_string()));
            }
        }
        Ok(_) => {}
    }
    if let Err(why) = body.misfire.unwrap_or_default().check() {
        errors.push(PathError::new("/misfire", why));
    }
    if let Some(Err(why)) = body.retry.as_ref().map(|r| r.check()) {
        errors.push(PathError::new("/retry", why));
    }
    if let (Some(start), Some(end)) = (body.start_at, body.end_at)
        && end <= start
    {
        errors.push(PathError::new("/end_at", "must be after start_at"));
    }
    errors
}

/// The job the body names.
fn job_name(body: &ScheduleBody) -> Option<JobName> {
    match (body.job_id, &body.job_name) {
        (Some(id), None) => Some(JobName::Id(id)),
        (None, Some(name)) => Some(JobName::Name(name.clone())),
        (Some(id), Some(name)) => Some(JobName::Both(id, name.clone())),
        (None, None) => None,
    }
}

/// Checks `body` for `actor`; see the module docs.
pub(crate) async fn check(
    core: &Core,
    actor: &Actor,
    body: ScheduleBody,
) -> Result<Valid, ScheduleError> {
    let errors = own_fields(&body, Utc::now());
    let Some(job) = job_name(&body).filter(|_| errors.is_empty()) else {
        return Err(ScheduleError::Invalid(errors));
    };
    let by_name = matches!(job, JobName::Name(_));
    let parameters: BTreeMap<String, Value> = body
        .parameters
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .collect();
    let admission = Admission {
        job,
        version: None,
        parameters: parameters.clone(),
        targets: body.targets.clone(),
        trigger: Trigger::new(TriggerKind::Schedule, actor.id.to_string()),
        intent_id: None,
        may_repeat: false,
        public_intent_id: None,
        idempotency_key: None,
        sealed: None,
        created_by: Some(actor.id),
        caller: Some(*actor),
        retry: None,
        rerun_of: None,
    };
    let checked = crate::runs::preflight::preflight(core, &admission)
        .await
        .map_err(|e| match e {
            AdmitError::UnknownJob(what) if by_name => {
                ScheduleError::invalid("/job_name", format!("no job {what}"))
            }
            e => ScheduleError::from(e),
        })?;
    let (mut public, mut secret) = (BTreeMap::new(), BTreeMap::new());
    for (name, value) in parameters {
        let is_secret = checked
            .definition
            .parameters
            .get(&name)
            .is_some_and(|p| p.kind == ParamType::Secret);
        if is_secret {
            secret.insert(name, value);
        } else {
            public.insert(name, value);
        }
    }
    Ok(Valid {
        name: body.name,
        description: body.description.unwrap_or_default(),
        job: checked.job,
        cron: body.cron,
        time_zone: body.time_zone.unwrap_or_else(|| DEFAULT_ZONE.to_owned()),
        start_at: body.start_at,
        end_at: body.end_at,
        enabled: body.enabled.unwrap_or(true),
        dst: body.dst.unwrap_or_default(),
        misfire: body.misfire.unwrap_or_default(),
        public,
        secret,
        targets: body.targets,
        retry: body.retry,
    })
}
