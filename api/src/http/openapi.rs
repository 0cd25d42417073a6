//! The OpenAPI 3.1 document, generated from the route table, and a
//! self-hosted reference page (no CDN).

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::routes::{Route, table};
use crate::auth::Access;
use crate::handlers::run_stream::ws::PROTOCOL;
use crate::http::guard::BEARER_PROTOCOL_PREFIX;

fn access_name(a: Access) -> &'static str {
    match a {
        Access::Public => "public",
        Access::SelfService => "authenticated",
        Access::Role(r) => r.as_str(),
    }
}

fn problem_ref() -> Value {
    json!({ "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } })
}

fn operation(route: &Route, generator: &mut schemars::SchemaGenerator) -> Value {
    let mut op = Map::new();
    op.insert("summary".into(), json!(route.summary));
    op.insert("tags".into(), json!([route.tag]));
    op.insert(
        "operationId".into(),
        json!(format!(
            "{}_{}",
            route.method.as_str().to_lowercase(),
            route
                .path
                .trim_start_matches("/api/v1/")
                .replace(['/', '{', '}', '-'], "_")
        )),
    );
    op.insert("x-opsc-access".into(), json!(access_name(route.access)));
    if route.session_only {
        op.insert("x-opsc-session-only".into(), json!(true));
    }
    if let Some(action) = route.job_access {
        op.insert("x-opsc-job-access".into(), json!(action.as_str()));
    }
    if route.websocket {
        op.insert("description".into(), json!(format!(
            "A WebSocket: send GET with `Upgrade: websocket`. Authenticate with the Authorization header, or (browsers) offer the subprotocols `{PROTOCOL}` and `{BEARER_PROTOCOL_PREFIX}<token>`; the server selects `{PROTOCOL}` and never echoes the token. Text frames are JSON `{{\"event\": \"output\" | \"run\" | \"end\", \"data\": {{…}}}}`, the same as the Server-Sent Events of /stream; after `end` the server closes with code 1000."
        )));
        op.insert(
            "x-opsc-websocket".into(),
            json!({ "subprotocol": PROTOCOL, "bearer_subprotocol_prefix": BEARER_PROTOCOL_PREFIX }),
        );
    }
    let mut params = Vec::new();
    if route.path.contains("{id}") {
        params.push(json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }));
    }
    if route.path.contains("{user_id}") {
        params.push(json!({ "name": "user_id", "in": "path", "required": true, "description": "A user id, or `me`", "schema": { "type": "string" } }));
    }
    if route.console {
        params.push(json!({ "name": "X-OpsConductor-Console", "in": "header", "required": true, "description": "Marks a console call (a cross-site page cannot send it without a CORS preflight)", "schema": { "type": "string", "enum": ["1"] } }));
        params.push(json!({ "name": "opsc_console_refresh", "in": "cookie", "required": false, "description": "The console session's refresh token (HttpOnly; set by the api)", "schema": { "type": "string" } }));
    }
    if route.path.contains("{name}") {
        params.push(json!({ "name": "name", "in": "path", "required": true, "schema": { "type": "string", "minLength": 1, "maxLength": 64 } }));
    }
    if route.path.contains("{version}") {
        params.push(json!({ "name": "version", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 1 } }));
    }
    if let Some(q) = route.query {
        let schema = serde_json::to_value(q(generator)).unwrap_or_default();
        let name = schema["$ref"]
            .as_str()
            .unwrap_or_default()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        if let Some(props) = generator
            .definitions()
            .get(&name)
            .and_then(|d| d["properties"].as_object())
        {
            for (k, v) in props {
                params.push(json!({ "name": k, "in": "query", "required": false, "schema": v }));
            }
        }
    }
    if !params.is_empty() {
        op.insert("parameters".into(), Value::Array(params));
    }
    if let Some(body) = route.request {
        let schema = serde_json::to_value(body(generator)).unwrap_or_default();
        op.insert(
            "requestBody".into(),
            json!({ "required": true, "content": { "application/json": { "schema": schema } } }),
        );
    }
    let mut responses = Map::new();
    let (status, body) = route.response;
    let ok = match body {
        Some(f) => {
            let schema = serde_json::to_value(f(generator)).unwrap_or_default();
            let mut content = Map::new();
            for media in std::iter::once("application/json").chain(route.also_as.iter().copied()) {
                content.insert(media.into(), json!({ "schema": schema }));
            }
            json!({ "description": "Success", "content": content })
        }
        None if route.websocket => {
            json!({ "description": "Switching Protocols: the WebSocket is open" })
        }
        None => json!({ "description": "Success" }),
    };
    responses.insert(status.to_string(), ok);
    if route.websocket {
        responses.insert(
            "426".into(),
            json!({ "description": "Not a WebSocket upgrade request", "content": problem_ref()["content"] }),
        );
    }
    if route.request.is_some() || route.query.is_some() || route.path.contains('{') {
        for code in ["400", "404", "409", "422"] {
            responses.insert(
                code.into(),
                json!({ "description": "Rejected input", "content": problem_ref()["content"] }),
            );
        }
    }
    if route.request.is_some() {
        responses.insert(
            "413".into(),
            json!({ "description": "Body larger than http.max_body_bytes", "content": problem_ref()["content"] }),
        );
        responses.insert(
            "415".into(),
            json!({ "description": "The body is not application/json", "content": problem_ref()["content"] }),
        );
    }
    if route.console {
        responses.insert(
            "400".into(),
            json!({ "description": "The X-OpsConductor-Console header is missing", "content": problem_ref()["content"] }),
        );
        if !route.path.ends_with("/login") {
            responses.insert(
                "401".into(),
                json!({ "description": "No console session (the cookie is missing, expired, revoked or reused); the cookie is cleared", "content": problem_ref()["content"] }),
            );
        }
    }
    if route.websocket || route.path.ends_with("/stream") {
        responses.insert(
            "429".into(),
            json!({ "description": "Too many live streams open (http.streams_per_user)", "content": problem_ref()["content"] }),
        );
    }
    if route.access == Access::Public {
        op.insert("security".into(), json!([]));
        // Public routes that take a token or a session in their body.
        if !route.path.ends_with("/login") && route.request.is_some() {
            responses.insert("401".into(), json!({ "description": "The token or session in the body is invalid, expired or revoked", "content": problem_ref()["content"] }));
            responses.insert("403".into(), json!({ "description": "Not allowed here (for example self-registration is off)", "content": problem_ref()["content"] }));
        }
        if route.path.ends_with("/login") {
            responses.insert("401".into(), json!({ "description": "Invalid credentials or second factor needed", "content": problem_ref()["content"] }));
            responses.insert("429".into(), json!({ "description": "Too many failed logins, or too many from this address at once", "content": problem_ref()["content"] }));
            responses.insert("503".into(), json!({ "description": "Too many password checks at once (Retry-After)", "content": problem_ref()["content"] }));
        }
    } else {
        responses.insert("401".into(), json!({ "description": "No, expired, invalid or revoked token", "content": problem_ref()["content"] }));
        responses.insert(
            "403".into(),
            json!({ "description": "Role too low, or the action is an admin's (a job version that reaches into the worker host)", "content": problem_ref()["content"] }),
        );
    }
    op.insert("responses".into(), Value::Object(responses));
    Value::Object(op)
}

/// The whole document.
pub fn document() -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    let mut generator = settings.into_generator();
    let mut paths: Map<String, Value> = Map::new();
    for route in table() {
        let op = operation(&route, &mut generator);
        let entry = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| json!({}));
        entry[route.method.as_str().to_lowercase()] = op;
    }
    let mut schemas = generator.take_definitions(true);
    schemas.insert(
        "Problem".into(),
        json!({
            "type": "object",
            "description": "RFC 9457 problem details.",
            "required": ["type", "title", "status"],
            "properties": {
                "type": { "type": "string", "format": "uri" },
                "title": { "type": "string" },
                "status": { "type": "integer" },
                "detail": { "type": "string" },
                "request_id": { "type": "string", "description": "The request's id, as in the x-request-id header." },
                "errors": {
                    "type": "array",
                    "description": "Every problem found, at once (4xx): `path` is a JSON pointer into the body (`/ssh/port`), `?name` a query parameter, `{name}` a path parameter, empty for the request as a whole.",
                    "items": {
                        "type": "object",
                        "required": ["path", "message"],
                        "properties": {
                            "path": { "type": "string" },
                            "message": { "type": "string" }
                        }
                    }
                }
            }
        }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "OpsConductor API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Operations automation. Authenticate with POST /api/v1/auth/login and send `Authorization: Bearer <access_token>`, or use an API token. Every operation lists the least role it needs as x-opsc-access; an operation on one job also lists, as x-opsc-job-access, what the caller must be allowed to do with that job (as its owner, by a grant, or as an admin). Errors are application/problem+json."
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "An access token (JWT) from login, or an API token (opst_…)." }
            }
        }
    })
}

/// The document as pretty JSON with a trailing newline (the snapshot form).
pub fn document_text() -> String {
    let mut s = serde_json::to_string_pretty(&document()).unwrap_or_default();
    s.push('\n');
    s
}

/// The reference page: renders the document in the browser, no external assets.
pub const REFERENCE_HTML: &str = include_str!("reference.html");
/// Its script.
pub const REFERENCE_JS: &str = include_str!("reference.js");
/// Its style sheet.
pub const REFERENCE_CSS: &str = include_str!("reference.css");
