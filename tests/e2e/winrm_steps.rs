//! WinRM steps end to end: a Windows target (the WS-Management test peer)
//! with a `winrm` credential, a job with `winrm.exec` and `winrm.copy`,
//! run by the api and a worker, recorded with its output.

use std::time::Duration;

use opsc_winrm_peer::{PeerConfig, PeerUser, WinrmPeer};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::ApiServer;
use crate::harness::runs::{step, wait_end};

/// The recorded steps, once all `want` of them are recorded.
async fn recorded_steps(api: &ApiServer, token: &str, run: &str, want: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (s, b) = api
            .call(
                Method::GET,
                &format!("/api/v1/runs/{run}/steps"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let items = b["items"].as_array().cloned().unwrap_or_default();
        let ended = items.iter().filter(|i| i["status"] != "running").count();
        if ended >= want {
            return items;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "steps not recorded: {b}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_job_runs_powershell_and_copies_a_file_to_a_windows_target() {
    let password = "Winrm-Steps-Pass-1";
    let peer = WinrmPeer::start(PeerConfig::new(
        "WIN-E2E01",
        vec![PeerUser::local("opsuser", password)],
    ))
    .await
    .expect("the WinRM test peer starts");
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;

    let (s, cred) = api
        .call(
            Method::POST,
            "/api/v1/credentials",
            Some(&admin),
            Some(
                json!({"name": "win-admin", "spec": {"type": "winrm", "username": "opsuser",
                "password": password, "auth": "ntlm"}}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{cred}");
    let (s, target) = api
        .call(
            Method::POST,
            "/api/v1/targets",
            Some(&admin),
            Some(
                json!({"name": "win-1", "hostname": "127.0.0.1", "os_type": "windows",
                "winrm": {"scheme": "http", "port": peer.port(), "credential_id": cred["id"]}}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{target}");
    let target_id = target["id"].as_str().unwrap().to_owned();

    let (s, job) = api
        .call(
            Method::POST,
            "/api/v1/jobs",
            Some(&admin),
            Some(json!({
                "name": "windows-deploy",
                "parameters": {"motd": {"type": "string", "required": true}},
                "targets": {"targets": [target_id]},
                "steps": [
                    {"id": "facts", "type": "winrm.exec", "with": {
                        "script": "Write-Output \"host=$env:COMPUTERNAME\"\nWrite-Output {{ motd }}\nWrite-Output $env:STAGE",
                        "env": {"STAGE": "blue"}}},
                    {"id": "config", "type": "winrm.copy", "with": {
                        "content": "motd={{ motd }}\n", "dest": "C:\\App\\conf\\motd.txt"}},
                    {"id": "show", "type": "winrm.exec", "with": {"command": "type C:\\App\\conf\\motd.txt"}}
                ]
            })),
        )
        .await;
    assert_eq!(s, 201, "{job}");
    let motd = "it's; $(Stop-Computer) \"live\"";
    let (s, started) = api
        .call(
            Method::POST,
            &format!("/api/v1/jobs/{}/run", job["id"].as_str().unwrap()),
            Some(&admin),
            Some(json!({"parameters": {"motd": motd}})),
        )
        .await;
    assert_eq!(s, 202, "{started}");
    let run = started["run_id"].as_str().unwrap().to_owned();

    let end = wait_end(&api, &admin, &run).await;
    assert_eq!(end["status"], "succeeded", "{end}");
    let items = recorded_steps(&api, &admin, &run, 3).await;
    let facts = step(&items, "facts", None);
    assert_eq!(facts["status"], "succeeded", "{facts}");
    assert_eq!(facts["exit_code"], 0);
    assert_eq!(
        facts["stdout"],
        json!(["host=WIN-E2E01", motd, "blue"]),
        "{facts}"
    );
    let config = step(&items, "config", None);
    assert_eq!(config["status"], "succeeded", "{config}");
    let summary = config["stdout"][0].as_str().unwrap_or_default();
    assert!(
        summary.starts_with(&format!(
            "copied {} bytes to C:\\App\\conf\\motd.txt in 1 chunk(s), sha256 ",
            motd.len() + 6
        )),
        "{config}"
    );
    assert_eq!(
        peer.file("C:\\App\\conf\\motd.txt").unwrap(),
        format!("motd={motd}\n").into_bytes()
    );
    assert_eq!(
        step(&items, "show", None)["stdout"],
        json!([format!("motd={motd}")])
    );
    assert!(!serde_json::to_string(&items).unwrap().contains(password));
    peer.stop().await;
}
