//! The route table: every route with the access it requires, its summary,
//! and its request and response types. The router and the OpenAPI document
//! are both built from this one table, so a route cannot exist without a
//! declared access rule, and the documentation cannot drift from the code.

use axum::Router;
use axum::http::Method;
use axum::middleware::from_fn_with_state;
use axum::routing::MethodRouter;
use schemars::{JsonSchema, Schema, SchemaGenerator};

use super::AppState;
use crate::auth::{Access, Rule};
use crate::http::guard::guard;
use crate::jobs::access::Action as JobAction;
use crate::store::user::Role;

/// Produces a schema (a `$ref` into components) for a type.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn schema<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

/// One route.
#[derive(Debug)]
pub struct Route {
    /// HTTP method.
    pub method: Method,
    /// Path template, `{id}` for parameters.
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// Refused to API tokens.
    pub session_only: bool,
    /// One line for the reference.
    pub summary: &'static str,
    /// Grouping in the reference.
    pub tag: &'static str,
    /// JSON body type.
    pub request: Option<SchemaFn>,
    /// Query parameters type.
    pub query: Option<SchemaFn>,
    /// Success status and body type.
    pub response: (u16, Option<SchemaFn>),
    /// Media types the success body may also come as (besides JSON).
    pub also_as: &'static [&'static str],
    /// A WebSocket route: answers `101`, and takes the token from the
    /// `opsconductor.bearer.<token>` subprotocol too.
    pub websocket: bool,
    /// What the caller must be allowed to do with the job the route acts
    /// on (its owner, a grant, or being an admin), beyond the role; the
    /// handler's domain call checks it (`x-opsc-job-access`).
    pub job_access: Option<JobAction>,
    /// A console sign-in route: needs `X-OpsConductor-Console: 1`
    /// (answers `400` without it) and takes the session from a cookie.
    pub console: bool,
    handler: MethodRouter<AppState>,
}

impl Route {
    pub(crate) fn new(
        method: Method,
        path: &'static str,
        access: Access,
        summary: &'static str,
        handler: MethodRouter<AppState>,
    ) -> Self {
        let tag = path
            .trim_start_matches("/api/v1/")
            .split('/')
            .next()
            .unwrap_or("api");
        Self {
            method,
            path,
            access,
            session_only: false,
            summary,
            tag,
            request: None,
            query: None,
            response: (200, None),
            also_as: &[],
            websocket: false,
            job_access: None,
            console: false,
            handler,
        }
    }

    pub(crate) fn body<T: JsonSchema>(mut self) -> Self {
        self.request = Some(schema::<T>);
        self
    }

    pub(crate) fn query<T: JsonSchema>(mut self) -> Self {
        self.query = Some(schema::<T>);
        self
    }

    pub(crate) fn ok<T: JsonSchema>(mut self, status: u16) -> Self {
        self.response = (status, Some(schema::<T>));
        self
    }

    /// The success body may also be sent as these media types.
    pub(crate) fn also_as(mut self, media: &'static [&'static str]) -> Self {
        self.also_as = media;
        self
    }

    pub(crate) fn job_access(mut self, action: JobAction) -> Self {
        self.job_access = Some(action);
        self
    }

    pub(crate) fn console(mut self) -> Self {
        self.console = true;
        self
    }

    pub(crate) fn session_only(mut self) -> Self {
        self.session_only = true;
        self
    }

    pub(crate) fn no_content(mut self) -> Self {
        self.response = (204, None);
        self
    }

    pub(crate) fn websocket(mut self) -> Self {
        self.websocket = true;
        self.response = (101, None);
        self
    }
}

pub(crate) const ADMIN: Access = Access::Role(Role::Admin);
pub(crate) const SELF: Access = Access::SelfService;
pub(crate) const OPERATOR: Access = Access::Role(Role::Operator);
pub(crate) const VIEWER: Access = Access::Role(Role::Viewer);

/// Every API route: each resource's handler module declares its own.
pub fn table() -> Vec<Route> {
    use crate::handlers as h;
    [
        h::auth::routes(),
        h::console_auth::routes(),
        h::me::routes(),
        h::mfa::routes(),
        h::users::routes(),
        h::tokens::routes(),
        h::audit::routes(),
        h::settings::routes(),
        h::credentials::routes(),
        h::credential_usage::routes(),
        h::targets::routes(),
        h::target_tests::routes(),
        h::groups::routes(),
        h::job_bulk::routes(),
        h::jobs::routes(),
        h::job_access::routes(),
        h::runs::routes(),
        h::run_preview::routes(),
        h::adhoc::routes(),
        h::run_stream::routes(),
        h::schedules::routes(),
        h::dependencies::routes(),
        h::scheduler::routes(),
        h::windows::routes(),
        h::notify_config::routes(),
        h::workers::routes(),
        h::notifications::routes(),
        h::insights::routes(),
        h::search::routes(),
        h::step_types::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The router of every route, each wrapped in its access guard.
pub fn router(state: &AppState) -> Router<AppState> {
    table().into_iter().fold(Router::new(), |r, route| {
        let guarded = route.handler.route_layer(from_fn_with_state(
            (
                state.clone(),
                Rule {
                    access: route.access,
                    session_only: route.session_only,
                    protocol_token: route.websocket,
                },
            ),
            guard,
        ));
        r.route(route.path, guarded)
    })
}
