//! Real connection tests through a worker: the api asks a worker of the
//! target's pool over the bus, the worker connects to a real OpenSSH sshd.
//! Host keys are pinned (accept-new), refused (strict, changed) and approved.

use futures::StreamExt as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ApiServer, KEY_PASSPHRASE, Sshd, free_port, shared_nats_url};

async fn credential(api: &ApiServer, admin: &str, name: &str, spec: Value) -> String {
    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/credentials",
            Some(admin),
            Some(json!({"name": name, "spec": spec})),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

async fn ssh_target(
    api: &ApiServer,
    admin: &str,
    name: &str,
    host: &str,
    port: u16,
    cred: &str,
    policy: &str,
) -> String {
    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/targets",
            Some(admin),
            Some(json!({"name": name, "hostname": host, "os_type": "linux",
                "ssh": {"port": port, "credential_id": cred, "host_key_policy": policy,
                        "connect_timeout_secs": 5}})),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

async fn test(api: &ApiServer, token: &str, id: &str) -> Value {
    let (s, b) = api
        .call(
            Method::POST,
            &format!("/api/v1/targets/{id}/test"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{b}");
    b
}

fn local(cmd: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(cmd).args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test]
async fn ssh_tests_succeed_with_key_protected_key_pem_key_and_password() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let sshd = Sshd::start().await;
    let admin = api.admin().await;

    // Everything on the installation's subjects is captured: no secret may
    // cross the bus in the clear.
    let nats = async_nats::connect(shared_nats_url()).await.unwrap();
    let mut wire = nats.subscribe(format!("{}.>", api.prefix)).await.unwrap();
    nats.flush().await.unwrap();

    let creds = [
        (
            "key",
            json!({"type": "ssh_key", "username": sshd.user, "private_key": sshd.key_plain()}),
        ),
        (
            "protected",
            json!({"type": "ssh_key", "username": sshd.user, "private_key": sshd.key_protected(), "passphrase": KEY_PASSPHRASE}),
        ),
        (
            "rsa-pem",
            json!({"type": "ssh_key", "username": sshd.user, "private_key": sshd.key_rsa_pem()}),
        ),
        (
            "password",
            json!({"type": "ssh_password", "username": sshd.user, "password": sshd.password}),
        ),
    ];
    for (name, spec) in creds {
        let cred = credential(&api, &admin, name, spec).await;
        let id = ssh_target(
            &api,
            &admin,
            name,
            "127.0.0.1",
            sshd.port,
            &cred,
            "accept-new",
        )
        .await;
        let first = test(&api, &admin, &id).await;
        assert_eq!(first["ok"], true, "{name}: {first}\n{}", sshd.log());
        assert_eq!(first["protocol"], "ssh");
        assert_eq!(
            first["facts"]["hostname"],
            local("hostname", &[]),
            "{first}"
        );
        assert_eq!(first["facts"]["kernel"], local("uname", &["-r"]), "{first}");
        assert!(
            first["facts"]["os_release"]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "{first}"
        );
        assert!(
            first["facts"]["uptime_secs"]
                .as_str()
                .unwrap()
                .parse::<u64>()
                .is_ok(),
            "{first}"
        );
        assert_eq!(first["host_key"]["fingerprint"], sshd.host_fingerprint());
        assert_eq!(
            first["host_key_pinned"], true,
            "accept-new pins on first contact"
        );
        let (_, t) = api
            .call(
                Method::GET,
                &format!("/api/v1/targets/{id}"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(
            t["host_key"]["pinned"]["fingerprint"],
            sshd.host_fingerprint(),
            "{t}"
        );
        assert_eq!(t["host_key"]["pinned"]["pinned_by"], "accept-new");
        assert_eq!(t["last_test"]["ok"], true, "{t}");
        let again = test(&api, &admin, &id).await;
        assert_eq!(again["ok"], true, "{again}");
        assert_eq!(again["host_key_pinned"], false, "already pinned");
        let (_, c) = api
            .call(
                Method::GET,
                &format!("/api/v1/credentials/{cred}"),
                Some(&admin),
                None,
            )
            .await;
        assert!(
            c["last_used_at"].is_string(),
            "a test marks the credential used: {c}"
        );
    }

    // Secrets never crossed the bus in the clear.
    nats.flush().await.unwrap();
    let mut seen = 0;
    let body_of = |k: &str| k.lines().nth(1).unwrap_or_default().to_owned();
    let canaries = [
        sshd.password.clone(),
        body_of(&sshd.key_plain()),
        body_of(&sshd.key_protected()),
        KEY_PASSPHRASE.to_owned(),
    ];
    while let Ok(Some(msg)) =
        tokio::time::timeout(std::time::Duration::from_millis(300), wire.next()).await
    {
        seen += 1;
        let text = String::from_utf8_lossy(&msg.payload);
        for canary in &canaries {
            assert!(
                !text.contains(canary.as_str()),
                "a secret crossed the bus in {}",
                msg.subject
            );
        }
    }
    assert!(
        seen >= 16,
        "8 requests and 8 replies were captured, saw {seen}"
    );
    api.stop().await;
}

#[tokio::test]
async fn ssh_tests_fail_with_the_stage_that_failed() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let sshd = Sshd::start().await;
    let admin = api.admin().await;
    let wrong_pw = credential(
        &api,
        &admin,
        "wrong-pw",
        json!({"type": "ssh_password", "username": sshd.user, "password": "not-the-password"}),
    )
    .await;
    let wrong_key = credential(
        &api,
        &admin,
        "wrong-key",
        json!({"type": "ssh_key", "username": sshd.user, "private_key": sshd.key_untrusted()}),
    )
    .await;
    let good = credential(
        &api,
        &admin,
        "good",
        json!({"type": "ssh_key", "username": sshd.user, "private_key": sshd.key_plain()}),
    )
    .await;

    let cases = [
        (
            "wrong-password",
            "127.0.0.1",
            sshd.port,
            &wrong_pw,
            "auth",
            "password",
        ),
        (
            "wrong-key",
            "127.0.0.1",
            sshd.port,
            &wrong_key,
            "auth",
            "key",
        ),
        (
            "closed-port",
            "127.0.0.1",
            free_port(),
            &good,
            "tcp",
            "refused",
        ),
        (
            "no-such-host",
            "no-such-host.invalid",
            22,
            &good,
            "dns",
            "resolve",
        ),
    ];
    for (name, host, port, cred, stage, says) in cases {
        let id = ssh_target(&api, &admin, name, host, port, cred, "accept-new").await;
        let out = test(&api, &admin, &id).await;
        assert_eq!(out["ok"], false, "{name}: {out}");
        assert_eq!(out["stage"], stage, "{name}: {out}");
        assert!(
            out["error"].as_str().unwrap().to_lowercase().contains(says),
            "{name}: {out}"
        );
        assert!(
            !out.to_string().contains(&sshd.password),
            "no secret in a reply"
        );
    }

    // Strict: an unknown key fails until approved; the key waits as pending.
    let strict = ssh_target(
        &api,
        &admin,
        "strict",
        "127.0.0.1",
        sshd.port,
        &good,
        "strict",
    )
    .await;
    let out = test(&api, &admin, &strict).await;
    assert_eq!(out["stage"], "host_key", "{out}");
    let first_fp = sshd.host_fingerprint();
    assert!(out["error"].as_str().unwrap().contains(&first_fp), "{out}");
    let (_, t) = api
        .call(
            Method::GET,
            &format!("/api/v1/targets/{strict}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(t["host_key"]["pending"]["fingerprint"], first_fp, "{t}");
    assert!(t["host_key"]["pinned"].is_null(), "{t}");

    // Only an admin approves, and only the key that was reviewed.
    api.user(&admin, "operator1", "operator", "operator-password-1")
        .await;
    let (op, _) = api.login("operator1", "operator-password-1").await;
    let approve = format!("/api/v1/targets/{strict}/host-key/approve");
    let (s, _) = api
        .call(
            Method::POST,
            &approve,
            Some(&op),
            Some(json!({"fingerprint": first_fp})),
        )
        .await;
    assert_eq!(s, 403);
    let (s, b) = api
        .call(
            Method::POST,
            &approve,
            Some(&admin),
            Some(json!({"fingerprint": "SHA256:somethingelse"})),
        )
        .await;
    assert_eq!(s, 409, "{b}");
    let (s, b) = api
        .call(
            Method::POST,
            &approve,
            Some(&admin),
            Some(json!({"fingerprint": first_fp})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["pinned"]["fingerprint"], first_fp);
    let out = test(&api, &op, &strict).await;
    assert_eq!(out["ok"], true, "approved key connects: {out}");

    // A changed key always fails, naming both fingerprints, until approved.
    let mut sshd = sshd;
    sshd.change_host_key().await;
    let second_fp = sshd.host_fingerprint();
    assert_ne!(first_fp, second_fp);
    let out = test(&api, &admin, &strict).await;
    assert_eq!(out["stage"], "host_key", "{out}");
    let msg = out["error"].as_str().unwrap();
    assert!(
        msg.contains("changed") && msg.contains(&first_fp) && msg.contains(&second_fp),
        "{msg}"
    );
    let (s, _) = api
        .call(
            Method::POST,
            &approve,
            Some(&admin),
            Some(json!({"fingerprint": second_fp})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(test(&api, &admin, &strict).await["ok"], true);

    // A key can be pinned before first contact from its public key.
    let pre = ssh_target(
        &api,
        &admin,
        "pre-pinned",
        "127.0.0.1",
        sshd.port,
        &good,
        "strict",
    )
    .await;
    let (s, b) = api
        .call(
            Method::POST,
            &format!("/api/v1/targets/{pre}/host-key/approve"),
            Some(&admin),
            Some(json!({"public_key": sshd.host_public_key()})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(test(&api, &admin, &pre).await["ok"], true);
    // Forgetting it makes the strict target fail again.
    let (s, _) = api
        .call(
            Method::DELETE,
            &format!("/api/v1/targets/{pre}/host-key"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(test(&api, &admin, &pre).await["stage"], "host_key");

    // Every test and approval is audited.
    let (_, audit) = api
        .call(
            Method::GET,
            "/api/v1/audit?action=target.host_key.approve",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(3), "{audit}");
    api.stop().await;
}

#[tokio::test]
async fn group_tests_run_every_member_and_pools_without_workers_answer_503() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let sshd = Sshd::start().await;
    let admin = api.admin().await;
    let good = credential(
        &api,
        &admin,
        "good",
        json!({"type": "ssh_password", "username": sshd.user, "password": sshd.password}),
    )
    .await;
    let mut members = Vec::new();
    for i in 0..5 {
        members.push(
            ssh_target(
                &api,
                &admin,
                &format!("m{i}"),
                "127.0.0.1",
                sshd.port,
                &good,
                "accept-new",
            )
            .await,
        );
    }
    members.push(
        ssh_target(
            &api,
            &admin,
            "m-closed",
            "127.0.0.1",
            free_port(),
            &good,
            "accept-new",
        )
        .await,
    );
    let (s, g) = api
        .call(
            Method::POST,
            "/api/v1/target-groups",
            Some(&admin),
            Some(json!({"name": "fleet", "members": members})),
        )
        .await;
    assert_eq!(s, 201, "{g}");
    let (s, out) = api
        .call(
            Method::POST,
            &format!("/api/v1/target-groups/{}/test", g["id"].as_str().unwrap()),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 200, "{out}");
    assert_eq!(out["total"], 6, "{out}");
    assert_eq!(out["succeeded"], 5, "{out}");
    assert_eq!(out["failed"], 1, "{out}");
    let closed = out["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "m-closed")
        .unwrap();
    assert_eq!(closed["outcome"]["stage"], "tcp", "{closed}");

    // A pool nobody serves: the api says so instead of hanging.
    let (s, t) = api
        .call(
            Method::POST,
            "/api/v1/targets",
            Some(&admin),
            Some(
                json!({"name": "far", "hostname": "127.0.0.1", "os_type": "linux", "pool": "site-b",
                    "ssh": {"port": sshd.port, "credential_id": good}}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let (s, b) = api
        .call(
            Method::POST,
            &format!("/api/v1/targets/{}/test", t["id"].as_str().unwrap()),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 503, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("site-b"), "{b}");
    // A target without SSH or WinRM settings cannot be tested.
    let (_, h) = api.call(Method::POST, "/api/v1/targets", Some(&admin),
        Some(json!({"name": "web", "hostname": "example.com", "os_type": "other", "http": {"base_url": "https://example.com"}}))).await;
    let (s, b) = api
        .call(
            Method::POST,
            &format!("/api/v1/targets/{}/test", h["id"].as_str().unwrap()),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 422, "{b}");
    api.stop().await;
}

#[tokio::test]
async fn winrm_tests_succeed_and_fail_on_bad_credentials_through_a_worker() {
    use opsc_winrm_peer::{PeerConfig, PeerUser, WinrmPeer};
    let peer = WinrmPeer::start(PeerConfig::new(
        "WIN-TEST01",
        vec![PeerUser::local("opsuser", "Winrm-Pass-1")],
    ))
    .await
    .expect("the WinRM test server starts");
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    for (name, auth, password, ok, stage) in [
        ("basic-ok", "basic", "Winrm-Pass-1", true, None),
        ("ntlm-ok", "ntlm", "Winrm-Pass-1", true, None),
        ("basic-bad", "basic", "wrong", false, Some("auth")),
        ("ntlm-bad", "ntlm", "wrong", false, Some("auth")),
    ] {
        let cred = credential(
            &api,
            &admin,
            name,
            json!({"type": "winrm", "username": "opsuser", "password": password, "auth": auth}),
        )
        .await;
        let (s, t) = api
            .call(
                Method::POST,
                "/api/v1/targets",
                Some(&admin),
                Some(
                    json!({"name": name, "hostname": "127.0.0.1", "os_type": "windows",
            "winrm": {"scheme": "http", "port": peer.port(), "credential_id": cred}}),
                ),
            )
            .await;
        assert_eq!(s, 201, "{t}");
        let out = test(&api, &admin, t["id"].as_str().unwrap()).await;
        assert_eq!(out["ok"], ok, "{name}: {out}");
        assert_eq!(out["protocol"], "winrm");
        if ok {
            assert_eq!(out["facts"]["hostname"], "WIN-TEST01", "{out}");
            assert!(
                out["facts"]["os_caption"]
                    .as_str()
                    .is_some_and(|c| c.contains("Windows")),
                "{out}"
            );
            assert!(
                out["facts"]["powershell_version"].as_str().is_some(),
                "{out}"
            );
        } else {
            assert_eq!(out["stage"].as_str(), stage, "{name}: {out}");
            assert!(!out.to_string().contains("Winrm-Pass-1"));
        }
    }
    api.stop().await;
    peer.stop().await;
}
