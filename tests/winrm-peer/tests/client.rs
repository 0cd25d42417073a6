//! The peer driven by a real WinRM client (winrm-rs).

use opsc_winrm_peer::{AuthScheme, PeerConfig, PeerUser, WinrmPeer, action};
use winrm_rs::{
    AuthMethod, EncryptionMode, SoapError, WinrmClient, WinrmConfig, WinrmCredentials, WinrmError,
};

const PASSWORD: &str = "S3cret-pw";

async fn peer(configure: impl FnOnce(&mut PeerConfig)) -> WinrmPeer {
    let mut config = PeerConfig::new(
        "WIN-TEST01",
        vec![PeerUser::local("Administrator", PASSWORD)],
    );
    configure(&mut config);
    WinrmPeer::start(config).await.expect("the peer starts")
}

fn client(
    peer: &WinrmPeer,
    auth_method: AuthMethod,
    encryption: EncryptionMode,
    password: &str,
) -> WinrmClient {
    let config = WinrmConfig {
        port: peer.port(),
        auth_method,
        encryption,
        connect_timeout_secs: 5,
        operation_timeout_secs: 10,
        ..WinrmConfig::default()
    };
    WinrmClient::new(config, WinrmCredentials::new("administrator", password, ""))
        .expect("a client")
}

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).expect("UTF-8 output")
}

#[tokio::test]
async fn cmd_built_ins_behave_like_cmd() {
    let peer = peer(|_| {}).await;
    let c = client(&peer, AuthMethod::Basic, EncryptionMode::Auto, PASSWORD);
    let out = c.run_command("127.0.0.1", "hostname", &[]).await.unwrap();
    assert_eq!((text(&out.stdout), out.exit_code), ("WIN-TEST01\r\n", 0));
    let out = c.run_command("127.0.0.1", "whoami", &[]).await.unwrap();
    assert_eq!(text(&out.stdout), "win-test01\\administrator\r\n");
    let out = c
        .run_command("127.0.0.1", "echo", &["hello", "world"])
        .await
        .unwrap();
    assert_eq!(text(&out.stdout), "hello world\r\n");
    let out = c
        .run_command("127.0.0.1", "exit", &["/b", "7"])
        .await
        .unwrap();
    assert_eq!((out.stdout.len(), out.exit_code), (0, 7));
    let out = c.run_command("127.0.0.1", "frobnicate", &[]).await.unwrap();
    assert_eq!(out.exit_code, 1);
    assert!(
        text(&out.stderr)
            .starts_with("'frobnicate' is not recognized as an internal or external command")
    );
    peer.stop().await;
}

#[tokio::test]
async fn powershell_scripts_run_in_the_small_interpreter() {
    let peer = peer(|_| {}).await;
    let c = client(&peer, AuthMethod::Basic, EncryptionMode::Auto, PASSWORD);
    let script = "$v = $PSVersionTable.PSVersion\n\"$env:COMPUTERNAME runs $($v.Major).$($v.Minor)\"; Write-Output 'it''s' (Get-CimInstance Win32_OperatingSystem).Caption";
    let out = c.run_powershell("127.0.0.1", script).await.unwrap();
    assert_eq!(
        text(&out.stdout),
        "WIN-TEST01 runs 5.1\r\nit's\r\nMicrosoft Windows Server 2022 Standard\r\n"
    );
    assert_eq!(out.exit_code, 0);
    let out = c
        .run_powershell("127.0.0.1", "Write-Output 1; exit 4; Write-Output 2")
        .await
        .unwrap();
    assert_eq!((text(&out.stdout), out.exit_code), ("1\r\n", 4));
    let out = c
        .run_powershell(
            "127.0.0.1",
            "$ErrorActionPreference = 'Stop'\nInvoke-Nothing\nWrite-Output after",
        )
        .await
        .unwrap();
    assert_eq!((out.stdout.len(), out.exit_code), (0, 1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("Invoke-Nothing : The term 'Invoke-Nothing' is not recognized"),
        "{stderr}"
    );
    assert!(stderr.contains("At line:2 char:1"), "{stderr}");
    peer.stop().await;
}

#[tokio::test]
async fn an_unknown_shell_is_a_soap_fault() {
    let peer = peer(|_| {}).await;
    let c = client(&peer, AuthMethod::Basic, EncryptionMode::Auto, PASSWORD);
    let err = c
        .execute_command("127.0.0.1", "8F2C-NOPE", "hostname", &[])
        .await
        .unwrap_err();
    match err {
        WinrmError::Soap(SoapError::Fault { code, reason }) => {
            assert_eq!(code, "w:InvalidSelectors");
            // winrm-rs reads the WSManFault message (s:Text carries xml:lang).
            assert!(
                reason.contains("the shell was not found on the server"),
                "{reason}"
            );
        }
        other => panic!("expected a fault, got {other}"),
    }
    assert_eq!(peer.requests()[0].status, 500);
    peer.stop().await;
}

#[tokio::test]
async fn ntlm_without_sealing_authenticates_each_request() {
    let peer = peer(|_| {}).await;
    let c = client(&peer, AuthMethod::Ntlm, EncryptionMode::Never, PASSWORD);
    let out = c.run_command("127.0.0.1", "hostname", &[]).await.unwrap();
    assert_eq!(text(&out.stdout), "WIN-TEST01\r\n");
    let schemes: Vec<_> = peer.requests().iter().map(|r| (r.auth, r.status)).collect();
    let round = [
        (AuthScheme::NtlmNegotiate, 401),
        (AuthScheme::NtlmAuthenticate, 200),
    ];
    assert_eq!(schemes, round.repeat(6));
    assert_eq!(
        peer.completed_actions().first().map(String::as_str),
        Some(action::CREATE)
    );
    peer.stop().await;
}

#[tokio::test]
async fn wrong_passwords_get_401() {
    let peer = peer(|_| {}).await;
    let basic = client(&peer, AuthMethod::Basic, EncryptionMode::Auto, "nope");
    assert!(
        matches!(basic.create_shell("127.0.0.1").await, Err(WinrmError::AuthFailed(m)) if m.contains("HTTP 401"))
    );
    let ntlm = client(&peer, AuthMethod::Ntlm, EncryptionMode::Never, "nope");
    assert!(matches!(
        ntlm.create_shell("127.0.0.1").await,
        Err(WinrmError::AuthFailed(_))
    ));
    let statuses: Vec<_> = peer.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [401, 401, 401]);
    peer.stop().await;
}

#[tokio::test]
async fn basic_is_refused_when_disabled() {
    let peer = peer(|c| c.allow_basic = false).await;
    let basic = client(&peer, AuthMethod::Basic, EncryptionMode::Auto, PASSWORD);
    assert!(
        matches!(basic.create_shell("127.0.0.1").await, Err(WinrmError::AuthFailed(m)) if m.contains("HTTP 401"))
    );
    peer.stop().await;
}
