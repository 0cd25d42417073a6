//! The per-route guard: authenticates the bearer token and enforces the
//! route's [`Access`]. Wrapped around every route at registration.
//! Turning a token into a principal is the auth domain's
//! ([`crate::auth::authenticate`]); this adds the HTTP around it.

use super::AppState;
use super::problem::Problem;
use crate::auth::{Access, Credential, Principal, Rule};
use crate::store::user::Role;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Authenticates and authorizes one request for a route declaring `access`.
pub async fn guard(
    State((state, rule)): State<(AppState, Rule)>,
    mut req: Request,
    next: Next,
) -> Response {
    let access = rule.access;
    let Some(min_role) = access.min_role() else {
        return next.run(req).await;
    };
    let headers = req.headers().clone();
    let token = bearer(&headers, rule.protocol_token);
    let principal = match authenticate_token(&state, token).await {
        Ok(p) => p,
        Err(problem) => return problem.for_request(&headers).into_response(),
    };
    let mfa_missing = !principal.credential.has_mfa()
        && principal.role == Role::Admin
        && access != Access::SelfService
        && state.settings.security().await.require_mfa_for_admins;
    let token_refused =
        rule.session_only && matches!(principal.credential, Credential::ApiToken { .. });
    let denial = if token_refused {
        Some(Problem::new(StatusCode::FORBIDDEN, "session-required", "Session Required").detail(
            "API tokens cannot call this; log in (it mints credentials or changes a second factor or password).",
        ))
    } else if mfa_missing {
        Some(
            Problem::new(StatusCode::FORBIDDEN, "mfa-enrollment-required", "MFA Required")
                .detail("Admins must enrol a second factor (POST /api/v1/me/mfa/enroll) and log in with it."),
        )
    } else if !principal.has(min_role) {
        Some(
            Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden")
                .detail(format!("This needs the {} role.", min_role.as_str())),
        )
    } else {
        None
    };
    if let Some(problem) = denial {
        let mut res = problem.for_request(&headers).into_response();
        res.extensions_mut().insert(principal);
        return res;
    }
    req.extensions_mut().insert(principal.clone());
    let mut res = next.run(req).await;
    res.extensions_mut().insert(principal);
    res
}

fn unauthorized(detail: &str) -> Problem {
    Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized").detail(detail)
}

/// Prefix of the WebSocket subprotocol that carries a bearer token:
/// `Sec-WebSocket-Protocol: opsconductor.v1, opsconductor.bearer.<token>`.
pub const BEARER_PROTOCOL_PREFIX: &str = "opsconductor.bearer.";

/// The bearer token of a request: the `Authorization` header, else (when
/// `from_protocol`, on WebSocket routes) a `opsconductor.bearer.<token>`
/// subprotocol.
pub fn bearer(headers: &axum::http::HeaderMap, from_protocol: bool) -> Option<&str> {
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(scheme_bearer)
        .map(str::trim);
    if header.is_some() || !from_protocol {
        return header;
    }
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().strip_prefix(BEARER_PROTOCOL_PREFIX))
        .filter(|t| !t.is_empty())
}

/// The credentials of an `Authorization` value in the `Bearer` scheme;
/// the scheme name is case-insensitive (RFC 9110, section 11.1).
fn scheme_bearer(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(rest)
}

/// Resolves the bearer token to a principal; every failure is a 401.
pub async fn authenticate(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Principal, Problem> {
    authenticate_token(state, bearer(headers, false)).await
}

/// Resolves a token (if any) to a principal; every failure is a 401.
async fn authenticate_token(state: &AppState, token: Option<&str>) -> Result<Principal, Problem> {
    let token =
        token.ok_or_else(|| unauthorized("Send a bearer token: Authorization: Bearer <token>."))?;
    crate::auth::authenticate(state, token)
        .await
        .map_err(|_| unauthorized("The token is invalid, expired or revoked."))
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::bearer;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn the_authorization_header_wins_everywhere() {
        let h = headers(&[
            (header::AUTHORIZATION, "Bearer abc"),
            (header::SEC_WEBSOCKET_PROTOCOL, "opsconductor.bearer.xyz"),
        ]);
        assert_eq!(bearer(&h, false), Some("abc"));
        assert_eq!(bearer(&h, true), Some("abc"));
    }

    #[test]
    fn a_subprotocol_token_counts_only_on_websocket_routes() {
        let h = headers(&[(
            header::SEC_WEBSOCKET_PROTOCOL,
            "opsconductor.v1, opsconductor.bearer.eyJ.a-b_c.d",
        )]);
        assert_eq!(bearer(&h, false), None);
        assert_eq!(bearer(&h, true), Some("eyJ.a-b_c.d"));
    }

    #[test]
    fn other_or_empty_subprotocols_carry_no_token() {
        for value in ["opsconductor.v1", "opsconductor.bearer.", "graphql-ws"] {
            let h = headers(&[(header::SEC_WEBSOCKET_PROTOCOL, value)]);
            assert_eq!(bearer(&h, true), None, "{value}");
        }
        assert_eq!(bearer(&HeaderMap::new(), true), None);
    }

    #[test]
    fn the_scheme_is_case_insensitive_and_nothing_else_is_a_bearer() {
        let of = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, v.parse().unwrap());
            bearer(&h, false).map(str::to_owned)
        };
        for v in ["Bearer abc", "bearer abc", "BEARER  abc", "BeArEr abc"] {
            assert_eq!(of(v).as_deref(), Some("abc"), "{v}");
        }
        for v in ["Basic abc", "Bearerabc", "abc", "Token abc"] {
            assert_eq!(of(v), None, "{v}");
        }
    }
}
