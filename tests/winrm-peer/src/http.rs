//! The HTTP side of the listener: authentication (Basic, and NTLM under
//! `Negotiate` bound to the TCP connection as HTTP.sys binds it), sealed
//! bodies, and the hand-over to the shell operations.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use hyper::{Method, Request, Response, StatusCode};

use crate::seal::{self, SessionSecurity};
use crate::shell::{self, Caller};
use crate::{AuthScheme, RecordedRequest, Shared, ntlm, soap};

/// Largest HTTP body read; envelopes beyond `MaxEnvelopeSizekb` are refused
/// with a fault after reading.
const MAX_BODY: usize = 1024 * 1024;

/// NTLM state of one TCP connection.
#[derive(Debug, Default)]
pub(crate) enum ConnAuth {
    #[default]
    None,
    Challenged(ntlm::Pending),
    Established {
        user: String,
        security: Box<SessionSecurity>,
    },
}

/// One TCP connection's state.
#[derive(Debug)]
pub(crate) struct Conn {
    pub id: u64,
    pub auth: Mutex<ConnAuth>,
}

struct Outcome {
    status: StatusCode,
    body: Vec<u8>,
    sealed: bool,
    challenge: Option<String>,
}

/// Serves one request.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    conn: Arc<Conn>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let authorization = header(AUTHORIZATION);
    let content_type = header(CONTENT_TYPE).unwrap_or_default();
    let mut record = RecordedRequest {
        connection: conn.id,
        action: None,
        auth: AuthScheme::None,
        user: None,
        sealed: false,
        status: 0,
    };
    let outcome = if parts.uri.path() != "/wsman" {
        plain(StatusCode::NOT_FOUND)
    } else if parts.method != Method::POST {
        plain(StatusCode::METHOD_NOT_ALLOWED)
    } else {
        match Limited::new(body, MAX_BODY).collect().await {
            Err(_) => plain(StatusCode::PAYLOAD_TOO_LARGE),
            Ok(b) => {
                handle(
                    &shared,
                    &conn,
                    authorization.as_deref(),
                    &content_type,
                    &b.to_bytes(),
                    &mut record,
                )
                .await
            }
        }
    };
    record.status = outcome.status.as_u16();
    record.sealed = outcome.sealed;
    shared
        .log
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(record);
    Ok(respond(&shared, outcome))
}

/// A request that authenticated and carries a readable envelope.
struct Opened {
    user: String,
    xml: Vec<u8>,
    sealed: bool,
}

async fn handle(
    shared: &Shared,
    conn: &Conn,
    authorization: Option<&str>,
    content_type: &str,
    body: &[u8],
    record: &mut RecordedRequest,
) -> Outcome {
    let opened = match open(shared, conn, authorization, content_type, body, record) {
        Ok(opened) => opened,
        Err(outcome) => return outcome,
    };
    let (status, xml) = dispatch(shared, &opened.user, &opened.xml, record).await;
    if opened.sealed {
        let mut auth = conn.auth.lock().unwrap_or_else(PoisonError::into_inner);
        if let ConnAuth::Established { security, .. } = &mut *auth {
            return Outcome {
                status,
                body: seal::wrap(xml.as_bytes(), security),
                sealed: true,
                challenge: None,
            };
        }
    }
    Outcome {
        status,
        body: xml.into_bytes(),
        sealed: false,
        challenge: None,
    }
}

/// Authenticates and unseals; the answer itself when it ends there.
fn open(
    shared: &Shared,
    conn: &Conn,
    authorization: Option<&str>,
    content_type: &str,
    body: &[u8],
    record: &mut RecordedRequest,
) -> Result<Opened, Outcome> {
    let mut auth = conn.auth.lock().unwrap_or_else(PoisonError::into_inner);
    let (scheme, token) = authorization.map_or(("", ""), |a| a.split_once(' ').unwrap_or((a, "")));
    let user = if scheme.eq_ignore_ascii_case("Basic") {
        record.auth = AuthScheme::Basic;
        match basic_user(shared, token.trim()) {
            Some(user) if shared.config.allow_basic && shared.config.allow_unencrypted => user,
            _ => return Err(unauthorized()),
        }
    } else if scheme.eq_ignore_ascii_case("Negotiate") {
        let Ok(token) = B64.decode(token.trim()) else {
            return Err(unauthorized());
        };
        match ntlm::message_type(&token) {
            Some(1) => {
                record.auth = AuthScheme::NtlmNegotiate;
                return Err(match ntlm::challenge(&token, &shared.identity) {
                    Ok(pending) => {
                        let challenge = format!("Negotiate {}", B64.encode(pending.message()));
                        *auth = ConnAuth::Challenged(pending);
                        Outcome {
                            status: StatusCode::UNAUTHORIZED,
                            body: Vec::new(),
                            sealed: false,
                            challenge: Some(challenge),
                        }
                    }
                    Err(_) => {
                        *auth = ConnAuth::None;
                        unauthorized()
                    }
                });
            }
            Some(3) => {
                record.auth = AuthScheme::NtlmAuthenticate;
                let ConnAuth::Challenged(pending) = std::mem::take(&mut *auth) else {
                    return Err(unauthorized());
                };
                match ntlm::authenticate(&token, &pending, &shared.config.users, &shared.identity) {
                    Ok(logon) => {
                        let user = logon.user.clone();
                        let security = Box::new(SessionSecurity::new(&logon.exported_session_key));
                        *auth = ConnAuth::Established {
                            user: user.clone(),
                            security,
                        };
                        user
                    }
                    Err(why) => {
                        tracing::debug!(reason = why.0, "NTLM logon refused.");
                        return Err(unauthorized());
                    }
                }
            }
            // SPNEGO-wrapped tokens (Kerberos) are not offered by this peer.
            _ => return Err(unauthorized()),
        }
    } else if authorization.is_none()
        && let ConnAuth::Established { user, .. } = &*auth
    {
        record.auth = AuthScheme::NtlmSession;
        user.clone()
    } else {
        return Err(unauthorized());
    };
    record.user = Some(user.clone());
    if body.is_empty() {
        // A body-less request only completes authentication (pywinrm does this).
        return Err(plain(StatusCode::OK));
    }
    let sealed = seal::is_sealed(content_type);
    let xml = if sealed {
        let ConnAuth::Established { security, .. } = &mut *auth else {
            return Err(plain(StatusCode::BAD_REQUEST));
        };
        match seal::open(body, security) {
            Ok(plain) => plain,
            Err(why) => {
                tracing::debug!(reason = why.0, "Sealed body refused.");
                return Err(plain(StatusCode::BAD_REQUEST));
            }
        }
    } else if shared.config.allow_unencrypted {
        body.to_vec()
    } else {
        // AllowUnencrypted = false: Windows answers an unsealed body so.
        return Err(plain(StatusCode::INTERNAL_SERVER_ERROR));
    };
    Ok(Opened { user, xml, sealed })
}

async fn dispatch(
    shared: &Shared,
    user: &str,
    xml: &[u8],
    record: &mut RecordedRequest,
) -> (StatusCode, String) {
    let machine = &shared.config.hostname;
    let max = shared.config.max_envelope_kb as usize * 1024;
    if xml.len() > max {
        let fault = soap::Fault::sender(
            "w:EncodingLimit",
            "The request size exceeded the configured MaxEnvelopeSize quota.",
        );
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            soap::fault(&fault, "", machine),
        );
    }
    let req = match soap::parse(&String::from_utf8_lossy(xml)) {
        Ok(req) => req,
        Err(fault) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                soap::fault(&fault, "", machine),
            );
        }
    };
    record.action = Some(req.action.clone());
    let rel = req.message_id.clone();
    let fallback = format!("http://{}:{}/wsman", machine, shared.port);
    let endpoint = req.to.clone().unwrap_or(fallback);
    let caller = Caller {
        user,
        endpoint: &endpoint,
    };
    let env = shell::Env {
        shells: &shared.shells,
        host: &shared.host,
        stop: &shared.stop,
    };
    match shell::handle(env, &caller, req).await {
        Ok(xml) => (StatusCode::OK, xml),
        Err(fault) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            soap::fault(&fault, &rel, machine),
        ),
    }
}

/// A local account's `user:password`; Basic cannot log on domain accounts.
fn basic_user(shared: &Shared, token: &str) -> Option<String> {
    let decoded = String::from_utf8(B64.decode(token).ok()?).ok()?;
    let (name, password) = decoded.split_once(':')?;
    let name = name.strip_prefix(".\\").unwrap_or(name);
    shared
        .config
        .users
        .iter()
        .find(|u| {
            u.domain.is_none()
                && u.username.eq_ignore_ascii_case(name)
                && ntlm::constant_time_eq(u.password.as_bytes(), password.as_bytes())
        })
        .map(|u| u.username.clone())
}

fn plain(status: StatusCode) -> Outcome {
    Outcome {
        status,
        body: Vec::new(),
        sealed: false,
        challenge: None,
    }
}

fn unauthorized() -> Outcome {
    plain(StatusCode::UNAUTHORIZED)
}

fn respond(shared: &Shared, o: Outcome) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(o.status)
        .header("Server", "Microsoft-HTTPAPI/2.0");
    if o.status == StatusCode::UNAUTHORIZED {
        match o.challenge {
            Some(challenge) => builder = builder.header(WWW_AUTHENTICATE, challenge),
            None => {
                builder = builder.header(WWW_AUTHENTICATE, "Negotiate");
                if shared.config.allow_basic {
                    builder = builder.header(WWW_AUTHENTICATE, "Basic realm=\"WSMAN\"");
                }
            }
        }
    }
    if !o.body.is_empty() {
        let ct = if o.sealed {
            seal::CONTENT_TYPE
        } else {
            "application/soap+xml;charset=UTF-8"
        };
        builder = builder.header(CONTENT_TYPE, ct);
    }
    builder
        .body(Full::new(Bytes::from(o.body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}
