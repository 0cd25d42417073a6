//! `/api/v1/jobs`: job definitions with immutable versions. Operators write
//! the jobs they own or may edit (JSON or YAML); viewers read them.
//! Documents are read and checked in [`crate::jobs`], stored by
//! [`crate::jobs::store`] (which checks [`crate::jobs::access`]). Grants and
//! owners are in [`super::job_access`].

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing;
use opsc_proto::job::{JobDefinition, JobDocument};
use schemars::JsonSchema;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::auth::Principal;
use crate::http::AppState;
use crate::http::json::{ApiJson, ApiPath, ApiQuery, reply};
use crate::http::problem::Problem;
use crate::http::routes::{OPERATOR, Route, VIEWER};
use crate::jobs::access::{Action, Actor};
use crate::jobs::host::Author;
use crate::jobs::listing::{self, JobListItem};
use crate::jobs::store::{self, Saved};
use crate::jobs::view::{self, JobView, VersionSummary, VersionView};
use crate::jobs::{self, Format};
use crate::store::paging::{Page, Paging, paged};
use crate::store::{job, job_version};

/// Filters and paging for `GET /api/v1/jobs`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobQuery {
    /// Part of the name, case-insensitive.
    #[serde(default)]
    pub name: Option<String>,
    /// Only active (true) or inactive (false) jobs.
    #[serde(default)]
    pub active: Option<bool>,
    /// Only jobs whose current version carries every one of these tags
    /// (a comma-separated list).
    #[serde(default)]
    pub tag: Option<String>,
    /// Only jobs owned by this user: an id or a login name.
    #[serde(default)]
    pub owner: Option<String>,
    /// Only jobs whose newest run has this status.
    #[serde(default)]
    pub last_status: Option<opsc_proto::events::RunStatus>,
    /// Page size, 1 to 500 (default 50).
    #[serde(default)]
    pub limit: Option<u64>,
    /// Items skipped.
    #[serde(default)]
    pub offset: Option<u64>,
}

/// `PATCH /api/v1/jobs/{id}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActiveChange {
    /// Whether the job may run.
    pub active: bool,
}

/// `POST /api/v1/jobs/{id}/clone`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloneRequest {
    /// The new job's name.
    pub name: String,
}

/// `GET /api/v1/jobs/{id}/export`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `json` (default) or `yaml`.
    #[serde(default)]
    pub format: Option<Format>,
}

/// `POST /api/v1/jobs/import`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// When a job of that name exists, store the document as its next version.
    #[serde(default)]
    pub replace: Option<bool>,
}

/// The definition in a request body, by its `Content-Type`; 415 for other
/// types, 422 with every located problem for a bad document (names of
/// targets and groups that do not resolve included).
async fn read(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(JobDefinition, Format), Problem> {
    let format = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(Format::of_content_type)
        .ok_or_else(|| {
            Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported Media Type",
            )
            .detail("send the definition as application/json or application/yaml")
        })
        .map_err(|p| p.for_request(headers))?;
    let body = body.map_err(|r| {
        let (slug, title) = if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ("payload-too-large", "Payload Too Large")
        } else {
            ("malformed-body", "Malformed Request Body")
        };
        Problem::new(r.status(), slug, title)
            .detail(r.body_text())
            .for_request(headers)
    })?;
    let def = jobs::document::accept(state.store.db(), &body, format)
        .await
        .map_err(|e| Problem::from(e).for_request(headers))?;
    Ok((def, format))
}

/// What the audit trail says about a stored definition (names and counts,
/// never values).
fn summary(def: &JobDefinition, version: i32) -> Value {
    json!({
        "name": def.name,
        "version": version,
        "steps": def.steps.len(),
        "parameters": def.parameters.keys().collect::<Vec<_>>(),
    })
}

/// `me` as the author of a version, with the pool capabilities in force.
fn author<'a>(state: &'a AppState, me: &Principal) -> Author<'a> {
    Author {
        actor: Actor::from(me),
        pools: &state.config.pools,
    }
}

async fn answer(
    state: &AppState,
    me: &Principal,
    status: StatusCode,
    saved: Saved,
    audit: Option<AuditDetail>,
) -> Result<Response, Problem> {
    let view = saved.view(state.store.db(), &Actor::from(me)).await?;
    let mut res = reply(status, &view);
    if let Some(detail) = audit {
        res.extensions_mut().insert(detail);
    }
    Ok(res)
}

/// `GET /api/v1/jobs`.
pub async fn list(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiQuery(q): ApiQuery<JobQuery>,
) -> Result<Response, Problem> {
    // The hidden job of ad-hoc commands is no saved job (`runs::adhoc`).
    let mut s = job::Entity::find().filter(job::Column::Id.ne(crate::runs::adhoc::JOB_ID));
    if let Some(n) = q.name.as_deref().filter(|n| !n.is_empty()) {
        let pattern = format!(
            "%{}%",
            n.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        s = s.filter(Expr::cust_with_values("name ILIKE $1", [pattern]));
    }
    if let Some(a) = q.active {
        s = s.filter(job::Column::Active.eq(a));
    }
    let filters = listing::Filters {
        tags: listing::tags_of(q.tag.as_deref()),
        owner: q.owner.as_deref(),
        last_status: q.last_status,
    };
    let s = listing::filter(s, &filters);
    let db = state.store.db();
    let rows: Page<job::Model> = paged(
        db,
        s.order_by_asc(job::Column::Name),
        Paging::of(q.limit, q.offset),
    )
    .await?;
    let summaries = view::summaries(db, &Actor::from(&me), rows.items).await?;
    let page = Page {
        items: listing::items(db, summaries).await?,
        total: rows.total,
        limit: rows.limit,
        offset: rows.offset,
    };
    Ok(reply(StatusCode::OK, &page))
}

/// `POST /api/v1/jobs`: a definition as JSON or YAML; version 1.
pub async fn create(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let (def, _) = read(&state, &headers, body).await?;
    let saved = store::create(state.store.db(), &def, &author(&state, &me)).await?;
    let detail = AuditDetail::new("job.create", "job", saved.job.id).summary(summary(&def, 1));
    answer(&state, &me, StatusCode::CREATED, saved, Some(detail)).await
}

/// `GET /api/v1/jobs/{id}`.
pub async fn get_one(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let db = state.store.db();
    let (j, v) = store::current(db, id).await?;
    let shown = view::job_view(db, &Actor::from(&me), j, &v).await?;
    Ok(reply(StatusCode::OK, &shown))
}

/// `PUT /api/v1/jobs/{id}`: the next version; an unchanged definition
/// stores nothing and answers the current version.
pub async fn update(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let (def, _) = read(&state, &headers, body).await?;
    let saved = store::revise(state.store.db(), id, &def, &author(&state, &me)).await?;
    let detail = saved.changed.then(|| {
        let version = saved.job.current_version;
        AuditDetail::new("job.update", "job", id).summary(summary(&def, version))
    });
    answer(&state, &me, StatusCode::OK, saved, detail).await
}

/// `PATCH /api/v1/jobs/{id}`: activate or deactivate.
pub async fn set_active(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(change): ApiJson<ActiveChange>,
) -> Result<Response, Problem> {
    let db = state.store.db();
    let actor = Actor::from(&me);
    let j = store::set_active(db, id, &actor, change.active).await?;
    let v = store::version(db, id, j.current_version).await?;
    let action = if change.active {
        "job.activate"
    } else {
        "job.deactivate"
    };
    let detail = AuditDetail::new(action, "job", id).summary(json!({"name": j.name}));
    let mut res = reply(StatusCode::OK, &view::job_view(db, &actor, j, &v).await?);
    res.extensions_mut().insert(detail);
    Ok(res)
}

/// `DELETE /api/v1/jobs/{id}`: the job, its versions and grants; runs stay.
pub async fn remove(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let gone = store::delete(state.store.db(), id, &Actor::from(&me)).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut().insert(
        AuditDetail::new("job.delete", "job", id)
            .summary(json!({"name": gone.name, "versions": gone.current_version})),
    );
    Ok(res)
}

/// `GET /api/v1/jobs/{id}/versions`: newest first.
pub async fn versions(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(p): ApiQuery<Paging>,
) -> Result<Response, Problem> {
    let db = state.store.db();
    store::find(db, id).await?;
    let query = job_version::Entity::find()
        .filter(job_version::Column::JobId.eq(id))
        .order_by_desc(job_version::Column::Version);
    let page: Page<VersionSummary> = paged(db, query, p).await?;
    Ok(reply(StatusCode::OK, &page))
}

/// `GET /api/v1/jobs/{id}/versions/{version}`.
pub async fn version(
    State(state): State<AppState>,
    ApiPath((id, n)): ApiPath<(Uuid, i32)>,
) -> Result<Response, Problem> {
    let v = store::version(state.store.db(), id, n).await?;
    Ok(reply(StatusCode::OK, &VersionView::of(v)?))
}

/// `POST /api/v1/jobs/{id}/clone`: a new job from the current definition.
pub async fn clone(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<CloneRequest>,
) -> Result<Response, Problem> {
    let db = state.store.db();
    let (source, v) = store::current(db, id).await?;
    let mut def = store::definition_of(&v)?;
    def.name = req.name;
    let errors = jobs::validate(&def);
    if !errors.is_empty() {
        return Err(jobs::invalid(&errors).into());
    }
    let saved = store::create(db, &def, &author(&state, &me)).await?;
    let detail = AuditDetail::new("job.clone", "job", saved.job.id).summary(json!({
        "name": def.name,
        "from": {"id": id, "name": source.name, "version": v.version},
    }));
    answer(&state, &me, StatusCode::CREATED, saved, Some(detail)).await
}

/// `GET /api/v1/jobs/{id}/export`: the current definition as a file.
pub async fn export(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, Problem> {
    let format = q.format.unwrap_or(Format::Json);
    let (j, v) = store::current(state.store.db(), id).await?;
    let body = jobs::render(&jobs::redact(store::definition_of(&v)?), format)?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        jobs::file_name(&j.name, format)
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.media_type().to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// `POST /api/v1/jobs/import`: a JSON or YAML definition; a new job, or with
/// `?replace=true` the next version of the job of that name.
pub async fn import(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiQuery(q): ApiQuery<ImportQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let (def, format) = read(&state, &headers, body).await?;
    let db = state.store.db();
    let existing = store::find_by_name(db, &def.name).await?;
    let (status, saved, replaced) = match existing {
        Some(j) if q.replace.unwrap_or(false) => (
            StatusCode::OK,
            store::revise(db, j.id, &def, &author(&state, &me)).await?,
            true,
        ),
        Some(_) => {
            return Err(Problem::conflict(format!(
                "a job named {:?} exists; import with ?replace=true to add a version",
                def.name
            )));
        }
        None => (
            StatusCode::CREATED,
            store::create(db, &def, &author(&state, &me)).await?,
            false,
        ),
    };
    let mut s = summary(&def, saved.job.current_version);
    s["replaced"] = json!(replaced);
    s["changed"] = json!(saved.changed);
    s["format"] = json!(format.extension());
    let detail = AuditDetail::new("job.import", "job", saved.job.id).summary(s);
    answer(&state, &me, status, saved, Some(detail)).await
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        Route::new(
            M::GET,
            "/api/v1/jobs",
            VIEWER,
            "List jobs with their tags and last run (filters: name, active, tag, owner, last_status)",
            routing::get(list),
        )
        .query::<JobQuery>()
        .ok::<Page<JobListItem>>(200),
        Route::new(
            M::POST,
            "/api/v1/jobs",
            OPERATOR,
            "Create a job from a definition (JSON, or YAML by Content-Type)",
            routing::post(create),
        )
        .body::<JobDocument>()
        .ok::<JobView>(201),
        Route::new(
            M::POST,
            "/api/v1/jobs/import",
            OPERATOR,
            "Import a definition (JSON or YAML); ?replace=true adds a version to a job of that name (which the caller must be allowed to edit)",
            routing::post(import),
        )
        .body::<JobDocument>()
        .query::<ImportQuery>()
        .ok::<JobView>(201),
        Route::new(M::GET, "/api/v1/jobs/{id}", VIEWER, "Get a job and its current definition", routing::get(get_one))
            .ok::<JobView>(200),
        Route::new(
            M::PUT,
            "/api/v1/jobs/{id}",
            OPERATOR,
            "Store a new version of a job (an unchanged definition stores nothing)",
            routing::put(update),
        )
        .body::<JobDocument>()
        .job_access(Action::Edit)
        .ok::<JobView>(200),
        Route::new(M::PATCH, "/api/v1/jobs/{id}", OPERATOR, "Activate or deactivate a job", routing::patch(set_active))
            .body::<ActiveChange>()
            .job_access(Action::Edit)
            .ok::<JobView>(200),
        Route::new(M::DELETE, "/api/v1/jobs/{id}", OPERATOR, "Delete a job, its versions and grants (runs stay)", routing::delete(remove))
            .job_access(Action::Delete)
            .no_content(),
        Route::new(M::GET, "/api/v1/jobs/{id}/versions", VIEWER, "A job's versions, newest first", routing::get(versions))
            .query::<Paging>()
            .ok::<Page<VersionSummary>>(200),
        Route::new(
            M::GET,
            "/api/v1/jobs/{id}/versions/{version}",
            VIEWER,
            "One version of a job",
            routing::get(version),
        )
        .ok::<VersionView>(200),
        Route::new(M::POST, "/api/v1/jobs/{id}/clone", OPERATOR, "A new job from a job's current definition", routing::post(clone))
            .body::<CloneRequest>()
            .ok::<JobView>(201),
        Route::new(
            M::GET,
            "/api/v1/jobs/{id}/export",
            VIEWER,
            "Download the current definition as JSON or YAML",
            routing::get(export),
        )
        .query::<ExportQuery>()
        .ok::<JobDefinition>(200)
        .also_as(&["application/yaml"]),
    ]
}
