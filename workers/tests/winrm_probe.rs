//! WinRM connection tests against the WS-Management test peer, through the
//! real winrm-rs client.

use std::time::Duration;

use opsc_proto::probe::{FailureStage, WinrmProbe};
use opsc_winrm_peer::{AuthScheme, PeerConfig, PeerFacts, PeerUser, WinrmPeer, action};
use opsc_workers::egress::Egress;
use opsc_workers::probe::winrm::probe as probe_with;
use opsc_workers::winrm::{self, Shell, Target, WinrmAuthKind, WinrmLogin};

const PASSWORD: &str = "Corr3ct-Horse!";
const TIMEOUT: Duration = Duration::from_secs(10);

/// A connection test under a policy that lets the local peer through.
async fn probe(
    host: &str,
    settings: &WinrmProbe,
    login: &WinrmLogin,
    timeout: Duration,
) -> Result<std::collections::BTreeMap<String, String>, (FailureStage, String)> {
    probe_with(host, settings, login, timeout, &Egress::with_loopback()).await
}

fn http(port: u16) -> WinrmProbe {
    WinrmProbe {
        https: false,
        port,
        verify_tls: true,
    }
}

fn login(auth: WinrmAuthKind, password: &str, domain: Option<&str>) -> WinrmLogin {
    WinrmLogin {
        username: "opsuser".into(),
        password: password.into(),
        domain: domain.map(Into::into),
        auth,
    }
}

async fn workgroup_peer() -> WinrmPeer {
    WinrmPeer::start(PeerConfig::new(
        "WIN-TEST01",
        vec![PeerUser::local("opsuser", PASSWORD)],
    ))
    .await
    .expect("the peer starts")
}

async fn domain_peer() -> WinrmPeer {
    let user = PeerUser {
        username: "OpsUser".into(),
        password: PASSWORD.into(),
        domain: Some("CORP".into()),
    };
    let config = PeerConfig {
        domain: Some("CORP".into()),
        ..PeerConfig::new("WIN-DC-MEMBER", vec![user])
    };
    WinrmPeer::start(config).await.expect("the peer starts")
}

/// The full shell lifecycle, as the client drives it.
fn lifecycle() -> Vec<&'static str> {
    // Two Receives: the output, then CommandState Done with the exit code.
    vec![
        action::CREATE,
        action::COMMAND,
        action::RECEIVE,
        action::RECEIVE,
        action::SIGNAL,
        action::DELETE,
    ]
}

#[tokio::test]
async fn basic_login_reports_the_facts() {
    let peer = workgroup_peer().await;
    let facts = probe(
        "127.0.0.1",
        &http(peer.port()),
        &login(WinrmAuthKind::Basic, PASSWORD, None),
        TIMEOUT,
    )
    .await
    .unwrap();
    let expected = PeerFacts::default();
    assert_eq!(
        facts.get("hostname").map(String::as_str),
        Some("WIN-TEST01")
    );
    assert_eq!(facts.get("os_caption"), Some(&expected.os_caption));
    assert_eq!(facts.get("os_version"), Some(&expected.os_version));
    assert_eq!(
        facts.get("powershell_version"),
        Some(&expected.powershell_version)
    );
    assert_eq!(facts.len(), 4);
    assert_eq!(peer.completed_actions(), lifecycle());
    let requests = peer.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.auth == AuthScheme::Basic && r.user.as_deref() == Some("opsuser"))
    );
    peer.stop().await;
}

#[tokio::test]
async fn ntlm_login_with_a_domain_reports_the_facts() {
    let peer = domain_peer().await;
    let facts = probe(
        "localhost",
        &http(peer.port()),
        &login(WinrmAuthKind::Ntlm, PASSWORD, Some("CORP")),
        TIMEOUT,
    )
    .await
    .unwrap();
    assert_eq!(
        facts.get("hostname").map(String::as_str),
        Some("WIN-DC-MEMBER")
    );
    assert_eq!(peer.completed_actions(), lifecycle());
    let requests = peer.requests();
    let answered: Vec<_> = requests.iter().filter(|r| r.status == 200).collect();
    assert!(answered.iter().all(|r| r.auth == AuthScheme::NtlmAuthenticate && r.user.as_deref() == Some("OpsUser")));
    // Every AUTHENTICATE followed a NEGOTIATE answered with a challenge on the same connection.
    for (i, r) in requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.auth == AuthScheme::NtlmAuthenticate)
    {
        let before = &requests[i - 1];
        assert_eq!(
            (before.auth, before.status, before.connection),
            (AuthScheme::NtlmNegotiate, 401, r.connection)
        );
    }
    // winrm-rs 1.1 seals every request after the first, but puts a CRLF before
    // the closing boundary; the peer, like Windows, answers 400 and the client
    // re-authenticates and resends in clear. Nothing went through sealed.
    let sealed_attempts: Vec<_> = requests
        .iter()
        .filter(|r| r.auth == AuthScheme::NtlmSession)
        .collect();
    assert_eq!(sealed_attempts.len(), lifecycle().len() - 1);
    assert!(sealed_attempts.iter().all(|r| r.status == 400));
    assert!(requests.iter().all(|r| !r.sealed));
    peer.stop().await;
}

#[tokio::test]
async fn a_wrong_basic_password_is_an_auth_failure() {
    let peer = workgroup_peer().await;
    let wrong = "Wr0ng-Passw0rd";
    let (stage, message) = probe(
        "127.0.0.1",
        &http(peer.port()),
        &login(WinrmAuthKind::Basic, wrong, None),
        TIMEOUT,
    )
    .await
    .unwrap_err();
    assert_eq!(stage, FailureStage::Auth, "{message}");
    assert!(
        message.contains("401") && !message.contains(wrong),
        "{message}"
    );
    assert!(peer.completed_actions().is_empty());
    assert_eq!(peer.requests().len(), 1);
    peer.stop().await;
}

#[tokio::test]
async fn a_wrong_ntlm_password_is_an_auth_failure() {
    let peer = domain_peer().await;
    let wrong = "Wr0ng-Passw0rd";
    let (stage, message) = probe(
        "127.0.0.1",
        &http(peer.port()),
        &login(WinrmAuthKind::Ntlm, wrong, Some("CORP")),
        TIMEOUT,
    )
    .await
    .unwrap_err();
    assert_eq!(stage, FailureStage::Auth, "{message}");
    assert!(!message.contains(wrong), "{message}");
    let statuses: Vec<_> = peer.requests().iter().map(|r| (r.auth, r.status)).collect();
    assert_eq!(
        statuses,
        [
            (AuthScheme::NtlmNegotiate, 401),
            (AuthScheme::NtlmAuthenticate, 401)
        ]
    );
    peer.stop().await;
}

#[tokio::test]
async fn an_ntlm_login_in_the_wrong_domain_is_an_auth_failure() {
    let peer = domain_peer().await;
    let (stage, message) = probe(
        "127.0.0.1",
        &http(peer.port()),
        &login(WinrmAuthKind::Ntlm, PASSWORD, Some("OTHER")),
        TIMEOUT,
    )
    .await
    .unwrap_err();
    assert_eq!(stage, FailureStage::Auth, "{message}");
    peer.stop().await;
}

#[tokio::test]
async fn a_closed_port_is_a_tcp_failure() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let (stage, message) = probe(
        "127.0.0.1",
        &http(port),
        &login(WinrmAuthKind::Ntlm, PASSWORD, None),
        TIMEOUT,
    )
    .await
    .unwrap_err();
    assert_eq!(stage, FailureStage::Tcp, "{message}");
    assert!(message.contains(&port.to_string()), "{message}");
}

#[tokio::test]
async fn an_unresolvable_name_is_a_dns_failure() {
    let (stage, message) = probe(
        "nonexistent.invalid",
        &http(5985),
        &login(WinrmAuthKind::Ntlm, PASSWORD, None),
        TIMEOUT,
    )
    .await
    .unwrap_err();
    assert_eq!(stage, FailureStage::Dns, "{message}");
    assert!(message.contains("nonexistent.invalid"), "{message}");
}

#[tokio::test]
async fn a_silent_listener_is_a_handshake_failure_within_the_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let started = std::time::Instant::now();
    let login = login(WinrmAuthKind::Basic, PASSWORD, None);
    let (stage, message) = probe("127.0.0.1", &http(port), &login, Duration::from_secs(1))
        .await
        .unwrap_err();
    assert_eq!(stage, FailureStage::Handshake, "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    hold.abort();
}

#[tokio::test]
async fn unparsable_facts_are_a_command_failure() {
    let facts = PeerFacts {
        os_caption: String::new(),
        ..PeerFacts::default()
    };
    let config = PeerConfig {
        facts,
        ..PeerConfig::new("WIN-TEST01", vec![PeerUser::local("opsuser", PASSWORD)])
    };
    let peer = WinrmPeer::start(config).await.unwrap();
    let (stage, message) = probe(
        "127.0.0.1",
        &http(peer.port()),
        &login(WinrmAuthKind::Basic, PASSWORD, None),
        TIMEOUT,
    )
    .await
    .unwrap_err();
    assert_eq!(stage, FailureStage::Command, "{message}");
    assert!(message.contains("os_caption"), "{message}");
    assert_eq!(
        peer.completed_actions().last().map(String::as_str),
        Some(action::DELETE)
    );
    peer.stop().await;
}

#[tokio::test]
async fn a_failing_script_reports_its_exit_code_and_error_as_a_command_failure() {
    let peer = workgroup_peer().await;
    let settings = http(peer.port());
    let login = login(WinrmAuthKind::Ntlm, PASSWORD, None);
    let target = Target {
        hostname: "127.0.0.1",
        endpoint: (&settings).into(),
        login: &login,
        connect_timeout: TIMEOUT,
        egress: &Egress::with_loopback(),
    };
    let out = winrm::run(
        &target,
        Shell::PowerShell,
        "Write-Output 'before'\nGet-NoSuchThing -Now",
        TIMEOUT,
    )
    .await
    .unwrap();
    assert_eq!(out.exit_code, 1);
    assert_eq!(out.stdout, "before\r\n");
    assert!(
        out.stderr
            .contains("The term 'Get-NoSuchThing' is not recognized"),
        "{}",
        out.stderr
    );
    let (stage, message) = out.into_success().unwrap_err();
    assert_eq!(stage, FailureStage::Command);
    assert!(
        message.contains("exited with 1") && message.contains("Get-NoSuchThing"),
        "{message}"
    );

    let out = winrm::run(&target, Shell::Cmd, "exit /b 3", TIMEOUT)
        .await
        .unwrap();
    assert_eq!(out.exit_code, 3);
    let out = winrm::run(&target, Shell::Cmd, "echo ready", TIMEOUT)
        .await
        .unwrap();
    assert_eq!((out.stdout.as_str(), out.exit_code), ("ready\r\n", 0));
    peer.stop().await;
}

#[tokio::test]
async fn ntlm_over_http_needs_allow_unencrypted() {
    let config = PeerConfig {
        allow_unencrypted: false,
        ..PeerConfig::new("WIN-TEST01", vec![PeerUser::local("opsuser", PASSWORD)])
    };
    let peer = WinrmPeer::start(config).await.unwrap();
    let (stage, message) = probe(
        "127.0.0.1",
        &http(peer.port()),
        &login(WinrmAuthKind::Ntlm, PASSWORD, None),
        TIMEOUT,
    )
    .await
    .unwrap_err();
    assert_eq!(stage, FailureStage::Handshake, "{message}");
    assert!(message.contains("AllowUnencrypted"), "{message}");
    peer.stop().await;
}

#[tokio::test]
async fn kerberos_is_refused_without_touching_the_network() {
    let (stage, message) = probe(
        "nonexistent.invalid",
        &http(5985),
        &login(WinrmAuthKind::Kerberos, PASSWORD, None),
        TIMEOUT,
    )
    .await
    .unwrap_err();
    assert_eq!(
        (stage, message.as_str()),
        (
            FailureStage::Auth,
            "kerberos is not supported by this worker build"
        )
    );
}

#[tokio::test]
async fn the_default_egress_policy_refuses_the_workers_loopback_before_any_request() {
    let peer = workgroup_peer().await;
    let login = login(WinrmAuthKind::Basic, PASSWORD, None);
    let (stage, message) = probe_with(
        "127.0.0.1",
        &http(peer.port()),
        &login,
        TIMEOUT,
        &Egress::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(stage, FailureStage::Egress, "{message}");
    assert!(message.contains("loopback"), "{message}");
    assert!(peer.requests().is_empty(), "the peer was reached");
    peer.stop().await;
}
