//! What the dependency endpoints take and answer.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use opsc_proto::schedule::DependencyOn;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `POST /api/v1/dependencies` and `PUT /api/v1/dependencies/{id}`: the
/// whole dependency. `PATCH` takes any of these fields and keeps the
/// others. Each job is named by id or by name (with both, they must name
/// the same job).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DependencyBody {
    /// Job A, whose ends are watched, by id.
    #[serde(default)]
    pub upstream_job_id: Option<Uuid>,
    /// Job A, by name.
    #[serde(default)]
    pub upstream_job_name: Option<String>,
    /// Job B, started when A ends, by id.
    #[serde(default)]
    pub downstream_job_id: Option<Uuid>,
    /// Job B, by name.
    #[serde(default)]
    pub downstream_job_name: Option<String>,
    /// Which ends of A start B (default `success`): `failure` is failed,
    /// timed out or worker lost; `any` is every end but skipped.
    #[serde(default)]
    pub on: Option<DependencyOn>,
    /// Only when A's end is handled within this many seconds of it, 1 to
    /// 604800 (a week); a later reaction is recorded and dropped. Default:
    /// no limit.
    #[serde(default)]
    #[schemars(range(min = 1, max = 604_800))]
    pub within_secs: Option<u64>,
    /// B's parameter → where its value comes from in A's run:
    /// `params.<name>` (a parameter of A), `steps.<step>.json.<dot.path>`,
    /// `steps.<step>.stdout` or `steps.<step>.exit_code` (a step of A). A
    /// secret parameter of A maps only to a secret parameter of B.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// Whether it reacts (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Free text, at most 4000 characters.
    #[serde(default)]
    pub description: Option<String>,
}

/// The fields of `PATCH /api/v1/dependencies/{id}`: those given replace
/// the dependency's (`null` resets one to its default), the others stay.
/// `parameters`, when given, replaces the whole mapping.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DependencyPatch {
    /// Job A, by id.
    pub upstream_job_id: Option<Uuid>,
    /// Job A, by name.
    pub upstream_job_name: Option<String>,
    /// Job B, by id.
    pub downstream_job_id: Option<Uuid>,
    /// Job B, by name.
    pub downstream_job_name: Option<String>,
    /// Which ends of A start B.
    pub on: Option<DependencyOn>,
    /// Only within this many seconds of A's end.
    pub within_secs: Option<u64>,
    /// The whole mapping of B's parameters.
    pub parameters: Option<BTreeMap<String, String>>,
    /// Whether it reacts.
    pub enabled: Option<bool>,
    /// Free text.
    pub description: Option<String>,
}

/// A dependency as the API shows it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DependencyView {
    /// The dependency.
    pub id: Uuid,
    /// Job A, whose ends are watched.
    pub upstream_job_id: Uuid,
    /// That job's name now.
    pub upstream_job_name: Option<String>,
    /// Job B, started when A ends.
    pub downstream_job_id: Uuid,
    /// That job's name now.
    pub downstream_job_name: Option<String>,
    /// Which ends of A start B.
    pub on: DependencyOn,
    /// Only within this many seconds of A's end; `null`: no limit.
    pub within_secs: Option<u64>,
    /// B's parameter → its source in A's run.
    pub parameters: BTreeMap<String, String>,
    /// Whether it reacts.
    pub enabled: bool,
    /// Free text.
    pub description: String,
    /// Who created it (they and admins change it); `null` once that user
    /// is gone.
    pub owner_id: Option<Uuid>,
    /// Increases with every change.
    pub revision: u64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Filters and paging for `GET /api/v1/dependencies`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DependencyQuery {
    /// Only dependencies watching this job (A).
    #[serde(default)]
    pub upstream_job_id: Option<Uuid>,
    /// Only dependencies starting this job (B).
    #[serde(default)]
    pub downstream_job_id: Option<Uuid>,
    /// Page size, 1 to 500 (default 50).
    #[serde(default)]
    pub limit: Option<u64>,
    /// Items skipped.
    #[serde(default)]
    pub offset: Option<u64>,
}

/// `GET /api/v1/jobs/{id}/dependencies`: both sides of one job, at most
/// 500 each.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JobDependenciesView {
    /// What this job waits for: the dependencies that start it (it is
    /// their downstream job).
    pub upstream: Vec<DependencyView>,
    /// What this job starts: the dependencies that watch it (it is their
    /// upstream job).
    pub downstream: Vec<DependencyView>,
}
