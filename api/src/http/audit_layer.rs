//! The audit layer around every route: what must be audited about a
//! finished request becomes an [`audit::Entry`](crate::audit::Entry).

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use super::{AppState, REQUEST_ID};
use crate::audit::{AuditDetail, Entry, write};
use crate::auth::Principal;

/// Records what must be audited about a finished request.
pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| req.uri().path().to_owned());
    let client_addr = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| {
            super::client::client_addr(c.0.ip(), req.headers(), &state.trusted_proxies).to_string()
        });
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let res = next.run(req).await;
    let principal = res.extensions().get::<Principal>().cloned();
    let detail = res.extensions().get::<AuditDetail>().cloned();
    let status = res.status();
    let mutating = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    let by_token = principal.as_ref().is_some_and(|p| p.kind() == "api_token");
    let denied = status == axum::http::StatusCode::FORBIDDEN;
    if !(mutating || by_token || denied || detail.is_some()) {
        return res;
    }
    let detail = detail.unwrap_or_default();
    let outcome = if status.is_success() {
        "success"
    } else if status == axum::http::StatusCode::UNAUTHORIZED || denied {
        "denied"
    } else {
        "failure"
    };
    let entry = Entry {
        actor_id: principal.as_ref().map(|p| p.user_id).or(detail.actor_id),
        actor_name: principal
            .as_ref()
            .map(|p| p.username.clone())
            .or(detail.actor_name),
        actor_kind: principal
            .as_ref()
            .map_or("anonymous", Principal::kind)
            .to_owned(),
        action: detail.action.unwrap_or_else(|| format!("{method} {route}")),
        entity_type: detail.entity_type.map(str::to_owned),
        entity_id: detail.entity_id,
        outcome,
        summary: if detail.summary.is_null() {
            serde_json::json!({ "status": status.as_u16() })
        } else {
            detail.summary
        },
        client_addr,
        request_id,
    };
    write(&state, entry).await;
    res
}
