//! Reaching a host: name resolution and a TCP connection first (so that
//! "nothing listens" is told apart from TLS or HTTP trouble), then the
//! client; and the mapping of client errors to failure stages.

use std::net::SocketAddr;

use opsc_proto::probe::FailureStage;
use tokio::time::{Instant, timeout_at};
use winrm_rs::{SoapError, WinrmError};

use super::{Endpoint, Failure, Target, WinrmAuthKind, chain, excerpt, place};
use crate::egress::{self, LookupError};

/// What error messages say about the host and the login.
#[derive(Debug, Clone)]
pub(super) struct Site {
    /// `scheme://host:port`.
    pub place: String,
    pub endpoint: Endpoint,
    pub username: String,
    pub auth: WinrmAuthKind,
}

impl Site {
    pub(super) fn of(t: &Target<'_>) -> Self {
        Self {
            place: place(t.hostname, t.endpoint),
            endpoint: t.endpoint,
            username: t.login.username.clone(),
            auth: t.login.auth,
        }
    }
}

pub(super) async fn resolve(t: &Target<'_>, deadline: Instant) -> Result<Vec<SocketAddr>, Failure> {
    let dns = |e: String| {
        (
            FailureStage::Dns,
            format!("{} did not resolve: {e}", t.hostname),
        )
    };
    match timeout_at(
        deadline,
        egress::lookup(t.egress, t.hostname, t.endpoint.port),
    )
    .await
    {
        Err(_) => Err(dns("timed out".into())),
        Ok(Err(LookupError::Refused(r))) => Err((FailureStage::Egress, r.to_string())),
        Ok(Err(LookupError::Resolve { reason, .. })) => Err(dns(reason)),
        Ok(Ok(addrs)) => Ok(addrs),
    }
}

/// A TCP connection first, so that "nothing listens" is told apart from a
/// TLS or HTTP failure (winrm-rs reports all of them as connect errors).
pub(super) async fn reach(
    t: &Target<'_>,
    addrs: &[SocketAddr],
    deadline: Instant,
) -> Result<(), Failure> {
    let mut last = String::from("no address to try");
    for addr in addrs {
        match timeout_at(deadline, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(e)) => last = format!("{}: {e}", addr.ip()),
            Err(_) => {
                last = format!(
                    "{}: no answer within {}s",
                    addr.ip(),
                    t.connect_timeout.as_secs()
                );
                break;
            }
        }
    }
    Err((
        FailureStage::Tcp,
        format!(
            "no TCP connection to {} ({last})",
            place(t.hostname, t.endpoint)
        ),
    ))
}

/// Whether the error is a Receive that waited the whole operation timeout
/// for output (the command still runs).
pub(super) fn is_timed_out(e: &WinrmError) -> bool {
    matches!(e, WinrmError::Soap(SoapError::Fault { code, .. }) if code.ends_with("TimedOut"))
}

pub(super) fn classify(e: &WinrmError, s: &Site, otherwise: FailureStage) -> Failure {
    let at = &s.place;
    match e {
        WinrmError::Http(err) if err.is_connect() && s.endpoint.https => (
            FailureStage::Handshake,
            format!("TLS with {at} failed: {}", chain(err)),
        ),
        WinrmError::Http(err) if err.is_connect() => {
            (FailureStage::Tcp, format!("{at}: {}", chain(err)))
        }
        WinrmError::Http(err) if err.is_timeout() => {
            (otherwise, format!("{at} did not answer in time"))
        }
        WinrmError::Http(err) => (
            FailureStage::Handshake,
            format!("HTTP with {at} failed: {}", chain(err)),
        ),
        WinrmError::AuthFailed(m)
            if m.contains("HTTP 401") || m.contains("NTLM authentication rejected") =>
        {
            (
                FailureStage::Auth,
                format!(
                    "{at} refused the credential of {:?} ({:?}, HTTP 401)",
                    s.username, s.auth
                ),
            )
        }
        WinrmError::AuthFailed(m)
            if m.starts_with("HTTP 500") && !s.endpoint.https && s.auth == WinrmAuthKind::Ntlm =>
        {
            (
                FailureStage::Handshake,
                format!(
                    "{at} answered HTTP 500 to an unencrypted request: it likely has AllowUnencrypted = false, \
                 and this worker cannot seal NTLM over HTTP; use HTTPS"
                ),
            )
        }
        WinrmError::AuthFailed(m) => (FailureStage::Handshake, format!("{at}: {}", excerpt(m))),
        WinrmError::Soap(SoapError::Fault { code, reason }) if code.contains("AccessDenied") => (
            FailureStage::Auth,
            format!(
                "{at} denied access to {:?}: {}",
                s.username,
                excerpt(reason)
            ),
        ),
        WinrmError::Soap(s) => (
            FailureStage::Command,
            format!("{at}: {}", excerpt(&s.to_string())),
        ),
        WinrmError::Ntlm(n) => (
            FailureStage::Handshake,
            format!("NTLM with {at} failed: {n}"),
        ),
        other => (otherwise, format!("{at}: {}", excerpt(&other.to_string()))),
    }
}
