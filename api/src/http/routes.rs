//! The route table: every route with the access it requires, its summary,
//! and its request and response types. The router and the OpenAPI document
//! are both built from this one table, so a route cannot exist without a
//! declared access rule, and the documentation cannot drift from the code.

use axum::Router;
use axum::http::Method;
use axum::middleware::from_fn_with_state;
use axum::routing::{MethodRouter, delete, get, post, put};
use schemars::{JsonSchema, Schema, SchemaGenerator};

use super::AppState;
use crate::auth::{Access, Rule};
use crate::handlers::{
    audit, auth, credentials, groups, me, mfa, settings, target_tests, targets, tokens, users,
};
use crate::http::guard::guard;
use crate::sessions::TokenPair;
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
    /// A WebSocket route: answers `101`, and takes the token from the
    /// `opsconductor.bearer.<token>` subprotocol too.
    pub websocket: bool,
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
            websocket: false,
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

    fn session_only(mut self) -> Self {
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

/// Every API route.
pub fn table() -> Vec<Route> {
    let mut table = core_table();
    table.extend(crate::handlers::jobs::routes());
    table.extend(crate::handlers::runs::routes());
    table.extend(crate::handlers::workers::routes());
    table
}

fn core_table() -> Vec<Route> {
    use Method as M;
    vec![
        Route::new(
            M::POST,
            "/api/v1/auth/login",
            Access::Public,
            "Log in; returns an access and a refresh token",
            post(auth::login),
        )
        .body::<auth::LoginRequest>()
        .ok::<TokenPair>(200),
        Route::new(
            M::POST,
            "/api/v1/auth/refresh",
            Access::Public,
            "Rotate a refresh token; reuse revokes the session",
            post(auth::refresh),
        )
        .body::<auth::RefreshRequest>()
        .ok::<TokenPair>(200),
        Route::new(
            M::POST,
            "/api/v1/auth/logout",
            Access::Public,
            "End the session of a refresh token",
            post(auth::logout),
        )
        .body::<auth::RefreshRequest>()
        .no_content(),
        Route::new(
            M::POST,
            "/api/v1/auth/register",
            Access::Public,
            "Self-registration as a viewer (off by default)",
            post(auth::register),
        )
        .body::<auth::RegisterRequest>()
        .ok::<users::UserView>(201),
        Route::new(
            M::POST,
            "/api/v1/auth/revoke-all",
            SELF,
            "Revoke all sessions of yourself, or (admins) of a user",
            post(auth::revoke_all),
        )
        .body::<auth::RevokeAllRequest>()
        .session_only()
        .no_content(),
        Route::new(
            M::GET,
            "/api/v1/auth/verify",
            SELF,
            "Who this token belongs to",
            get(auth::verify),
        )
        .ok::<auth::VerifyResponse>(200),
        Route::new(M::GET, "/api/v1/me", SELF, "Your profile", get(me::get))
            .ok::<users::UserView>(200),
        Route::new(
            M::PUT,
            "/api/v1/me",
            SELF,
            "Change your profile or password",
            put(me::update),
        )
        .body::<me::MeUpdate>()
        .session_only()
        .ok::<users::UserView>(200),
        Route::new(
            M::POST,
            "/api/v1/me/mfa/enroll",
            SELF,
            "Start TOTP enrolment",
            post(mfa::enroll),
        )
        .session_only()
        .ok::<mfa::Enrolment>(200),
        Route::new(
            M::POST,
            "/api/v1/me/mfa/confirm",
            SELF,
            "Confirm TOTP with a code; returns recovery codes",
            post(mfa::confirm),
        )
        .body::<mfa::CodeRequest>()
        .session_only()
        .ok::<mfa::RecoveryCodes>(200),
        Route::new(
            M::DELETE,
            "/api/v1/me/mfa",
            SELF,
            "Turn TOTP off (needs your password)",
            delete(mfa::disable),
        )
        .body::<mfa::DisableRequest>()
        .session_only(),
        Route::new(
            M::GET,
            "/api/v1/users",
            ADMIN,
            "List users",
            get(users::list),
        )
        .query::<users::Paging>()
        .ok::<users::Page<users::UserView>>(200),
        Route::new(
            M::POST,
            "/api/v1/users",
            ADMIN,
            "Create a user",
            post(users::create),
        )
        .body::<users::NewUser>()
        .ok::<users::UserView>(201),
        Route::new(
            M::GET,
            "/api/v1/users/{id}",
            ADMIN,
            "Get a user",
            get(users::get),
        )
        .ok::<users::UserView>(200),
        Route::new(
            M::PUT,
            "/api/v1/users/{id}",
            ADMIN,
            "Change a user",
            put(users::update),
        )
        .body::<users::UserUpdate>()
        .ok::<users::UserView>(200),
        Route::new(
            M::DELETE,
            "/api/v1/users/{id}",
            ADMIN,
            "Delete a user",
            delete(users::delete),
        )
        .no_content(),
        Route::new(
            M::GET,
            "/api/v1/api-tokens",
            Access::Role(Role::Viewer),
            "Your API tokens",
            get(tokens::list),
        ),
        Route::new(
            M::POST,
            "/api/v1/api-tokens",
            Access::Role(Role::Viewer),
            "Create an API token (secret shown once)",
            post(tokens::create),
        )
        .body::<tokens::NewToken>()
        .session_only()
        .ok::<tokens::CreatedToken>(201),
        Route::new(
            M::DELETE,
            "/api/v1/api-tokens/{id}",
            Access::Role(Role::Viewer),
            "Revoke an API token",
            delete(tokens::revoke),
        )
        .no_content(),
        Route::new(
            M::GET,
            "/api/v1/audit",
            ADMIN,
            "Search the audit trail",
            get(audit::list),
        )
        .query::<audit::AuditQuery>()
        .ok::<users::Page<audit::AuditView>>(200),
        Route::new(
            M::GET,
            "/api/v1/audit/export",
            ADMIN,
            "Export the audit trail as CSV or JSON",
            get(audit::export),
        )
        .query::<audit::AuditQuery>(),
        Route::new(
            M::GET,
            "/api/v1/settings/security",
            ADMIN,
            "Security settings",
            get(settings::get),
        )
        .ok::<crate::settings::SecuritySettings>(200),
        Route::new(
            M::PUT,
            "/api/v1/settings/security",
            ADMIN,
            "Change security settings",
            put(settings::put),
        )
        .body::<crate::settings::SecuritySettings>()
        .ok::<crate::settings::SecuritySettings>(200),
        Route::new(
            M::GET,
            "/api/v1/credentials",
            Access::Role(Role::Operator),
            "List credentials (metadata only)",
            get(credentials::list),
        )
        .query::<users::Paging>()
        .ok::<users::Page<credentials::CredentialView>>(200),
        Route::new(
            M::POST,
            "/api/v1/credentials",
            ADMIN,
            "Store a credential (secrets sealed, never shown again)",
            post(credentials::create),
        )
        .body::<credentials::NewCredential>()
        .ok::<credentials::CredentialView>(201),
        Route::new(
            M::GET,
            "/api/v1/credentials/{id}",
            Access::Role(Role::Operator),
            "Get a credential's metadata",
            get(credentials::get),
        )
        .ok::<credentials::CredentialView>(200),
        Route::new(
            M::PUT,
            "/api/v1/credentials/{id}",
            ADMIN,
            "Change a credential",
            put(credentials::update),
        )
        .body::<credentials::CredentialUpdate>()
        .ok::<credentials::CredentialView>(200),
        Route::new(
            M::DELETE,
            "/api/v1/credentials/{id}",
            ADMIN,
            "Delete a credential",
            delete(credentials::delete),
        )
        .no_content(),
        Route::new(
            M::GET,
            "/api/v1/targets",
            VIEWER,
            "List targets (filters: name, tag, os_type, group, pool)",
            get(targets::list),
        )
        .query::<targets::TargetQuery>()
        .ok::<users::Page<targets::TargetView>>(200),
        Route::new(
            M::POST,
            "/api/v1/targets",
            OPERATOR,
            "Create a target",
            post(targets::create),
        )
        .body::<crate::targets::TargetSpec>()
        .ok::<targets::TargetView>(201),
        Route::new(
            M::POST,
            "/api/v1/targets/import",
            OPERATOR,
            "Import targets (JSON array or text/csv); all or nothing",
            post(targets::import),
        ),
        Route::new(
            M::GET,
            "/api/v1/targets/export",
            VIEWER,
            "Export targets as JSON or CSV",
            get(targets::export),
        )
        .query::<targets::TargetQuery>(),
        Route::new(
            M::GET,
            "/api/v1/targets/{id}",
            VIEWER,
            "Get a target",
            get(targets::get),
        )
        .ok::<targets::TargetView>(200),
        Route::new(
            M::PUT,
            "/api/v1/targets/{id}",
            OPERATOR,
            "Replace a target",
            put(targets::update),
        )
        .body::<crate::targets::TargetSpec>()
        .ok::<targets::TargetView>(200),
        Route::new(
            M::DELETE,
            "/api/v1/targets/{id}",
            OPERATOR,
            "Delete a target",
            delete(targets::delete),
        )
        .no_content(),
        Route::new(
            M::POST,
            "/api/v1/targets/{id}/test",
            OPERATOR,
            "Test the connection to a target through a worker of its pool",
            post(target_tests::test_target),
        )
        .query::<target_tests::TestQuery>()
        .ok::<target_tests::TestOutcome>(200),
        Route::new(
            M::POST,
            "/api/v1/targets/{id}/host-key/approve",
            ADMIN,
            "Trust the pending SSH host key, or pin a given public key",
            post(target_tests::approve_host_key),
        )
        .body::<target_tests::ApproveHostKey>()
        .ok::<crate::targets::hostkey::HostKeyState>(200),
        Route::new(
            M::DELETE,
            "/api/v1/targets/{id}/host-key",
            ADMIN,
            "Forget the pinned and pending SSH host keys",
            delete(target_tests::forget_host_key),
        )
        .no_content(),
        Route::new(
            M::GET,
            "/api/v1/target-groups",
            VIEWER,
            "List target groups",
            get(groups::list),
        )
        .query::<users::Paging>()
        .ok::<users::Page<groups::GroupView>>(200),
        Route::new(
            M::POST,
            "/api/v1/target-groups",
            OPERATOR,
            "Create a target group",
            post(groups::create),
        )
        .body::<groups::GroupSpec>()
        .ok::<groups::GroupView>(201),
        Route::new(
            M::GET,
            "/api/v1/target-groups/{id}",
            VIEWER,
            "Get a target group",
            get(groups::get),
        )
        .ok::<groups::GroupView>(200),
        Route::new(
            M::PUT,
            "/api/v1/target-groups/{id}",
            OPERATOR,
            "Replace a target group",
            put(groups::update),
        )
        .body::<groups::GroupSpec>()
        .ok::<groups::GroupView>(200),
        Route::new(
            M::DELETE,
            "/api/v1/target-groups/{id}",
            OPERATOR,
            "Delete a target group",
            delete(groups::delete),
        )
        .no_content(),
        Route::new(
            M::GET,
            "/api/v1/target-groups/{id}/targets",
            VIEWER,
            "The group's current members",
            get(groups::members),
        ),
        Route::new(
            M::POST,
            "/api/v1/target-groups/{id}/test",
            OPERATOR,
            "Test every member of a group concurrently",
            post(target_tests::test_group),
        )
        .query::<target_tests::TestQuery>()
        .ok::<target_tests::GroupOutcome>(200),
    ]
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
