//! `GET /api/v1/step-types`: the step-type catalogue (from
//! [`opsc_proto::step_catalog`]) with a JSON Schema of each type's `with`
//! settings, the same schemas the api checks a job against when it is saved.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::get;
use opsc_proto::step_catalog::{self, StepTypeSpec};
use schemars::JsonSchema;
use serde::Serialize;

use crate::http::json::{ApiPath, reply};
use crate::http::problem::Problem;
use crate::http::routes::{Route, VIEWER};

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/step-types",
            VIEWER,
            "Every step type: family, description, idempotency, whether it needs a target, and the JSON Schema of its `with`",
            get(list),
        )
        .ok::<StepTypeList>(200),
        Route::new(
            Method::GET,
            "/api/v1/step-types/{name}",
            VIEWER,
            "One step type with the JSON Schema of its `with`",
            get(one),
        )
        .ok::<StepTypeSpec>(200),
    ]
}

/// `GET /api/v1/step-types`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StepTypeList {
    /// Every step type, sorted by family, then name.
    pub items: Vec<StepTypeSpec>,
}

/// `GET /api/v1/step-types`.
pub async fn list() -> Response {
    let items = step_catalog::catalog().to_vec();
    reply(StatusCode::OK, &StepTypeList { items })
}

/// `GET /api/v1/step-types/{name}`.
pub async fn one(ApiPath(name): ApiPath<String>) -> Result<Response, Problem> {
    let spec = step_catalog::find(&name).ok_or_else(|| Problem::not_found_entity("step type"))?;
    Ok(reply(StatusCode::OK, spec))
}
