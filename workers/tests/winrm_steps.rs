//! `winrm.exec` and `winrm.copy` against the WS-Management test peer,
//! through the real winrm-rs client, rendered the way the engine renders
//! them.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use opsc_proto::dispatch::{DispatchTarget, DispatchWinrm};
use opsc_proto::events::StepStatus;
use opsc_proto::material::CredentialMaterial;
use opsc_winrm_peer::{PeerConfig, PeerUser, WinrmPeer, action};
use opsc_workers::exec::output::{Captured, OutputSink};
use opsc_workers::exec::target::TargetConnections;
use opsc_workers::steps::{StepCall, StepOutcome, registry};
use opsc_workers::template::{self, TemplateContext};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const PASSWORD: &str = "Corr3ct-Horse!";

async fn peer() -> WinrmPeer {
    let config = PeerConfig {
        // An older host's limit: every request must stay under 150 KiB.
        max_envelope_kb: 150,
        ..PeerConfig::new("WIN-TEST01", vec![PeerUser::local("opsuser", PASSWORD)])
    };
    WinrmPeer::start(config).await.expect("the peer starts")
}

/// One step run: what it needs, and what it gave.
struct Step {
    kind: &'static str,
    with: Value,
    params: BTreeMap<String, Value>,
    password: String,
    auth: &'static str,
}

impl Step {
    fn new(kind: &'static str, with: Value) -> Self {
        Self {
            kind,
            with,
            params: BTreeMap::new(),
            password: PASSWORD.into(),
            auth: "basic",
        }
    }

    fn param(mut self, name: &str, value: &str) -> Self {
        self.params.insert(name.into(), json!(value));
        self
    }

    fn ntlm(mut self) -> Self {
        self.auth = "ntlm";
        self
    }

    fn password(mut self, p: &str) -> Self {
        self.password = p.into();
        self
    }

    /// Renders `with` as the engine does, with the step type's quoting.
    fn render(&self) -> Result<BTreeMap<String, Value>, String> {
        let kind = registry()
            .get(self.kind)
            .cloned()
            .expect("a registered step type");
        let ctx = TemplateContext {
            params: self.params.clone(),
            ..TemplateContext::default()
        };
        let with: BTreeMap<String, Value> =
            serde_json::from_value(self.with.clone()).expect("with is an object");
        with.into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => template::render(&s, &ctx, kind.quoting(&k))
                    .map(|r| (k.clone(), Value::String(r)))
                    .map_err(|e| format!("with.{k}: {e}")),
                other => Ok((k, other)),
            })
            .collect()
    }

    async fn run(&self, peer: &WinrmPeer, cancel: &CancellationToken) -> (StepOutcome, Captured) {
        let with = self.render().expect("with renders");
        let credential_id = Uuid::now_v7();
        let target = DispatchTarget {
            id: Uuid::now_v7(),
            name: "win1".into(),
            hostname: "127.0.0.1".into(),
            os_type: "windows".into(),
            tags: vec![],
            metadata: BTreeMap::new(),
            facts: BTreeMap::new(),
            ssh: None,
            winrm: Some(DispatchWinrm {
                https: false,
                port: peer.port(),
                verify_tls: true,
                credential_id,
            }),
            http: None,
            steps: vec!["s".into()],
        };
        let credentials = BTreeMap::from([(
            credential_id,
            CredentialMaterial::Winrm {
                username: "opsuser".into(),
                password: self.password.clone(),
                domain: None,
                auth: self.auth.into(),
            },
        )]);
        let sink = OutputSink::capture_only("s", 1024 * 1024, std::slice::from_ref(&self.password));
        let connections = TargetConnections::default();
        let kind = registry()
            .get(self.kind)
            .cloned()
            .expect("a registered step type");
        let outcome = kind
            .run(StepCall {
                with: &with,
                target: Some(&target),
                connections: &connections,
                credentials: &credentials,
                host: &opsc_workers::host::Host::none()
                    .with_egress(opsc_workers::egress::Egress::with_loopback()),
                output: &sink,
                cancel,
                run: &opsc_workers::steps::RunScope::default(),
            })
            .await;
        (outcome, sink.finish().await)
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

#[tokio::test]
async fn a_powershell_script_gets_env_cwd_and_prints_a_quoted_value_literally() {
    let peer = peer().await;
    peer.put_file("C:\\Work\\seed.txt", b"x").unwrap();
    let tricky = "it's \"quoted\"; $(Remove-Item C:\\x) & echo \u{2018}typographic\u{2019} `n";
    let step = Step::new(
        "winrm.exec",
        json!({
            "script": "Write-Output {{ msg }}\nWrite-Output $env:GREETING\n(Get-Location).Path",
            "env": {"GREETING": "hello; world's"},
            "cwd": "C:\\Work",
        }),
    )
    .param("msg", tricky)
    .ntlm();
    let (outcome, out) = step.run(&peer, &CancellationToken::new()).await;
    assert_eq!(outcome, StepOutcome::ok(Some(0)), "{}", out.stderr);
    assert_eq!(out.stdout, format!("{tricky}\nhello; world's\nC:\\Work\n"));
    assert_eq!(out.stderr, "");
    // One shell, one command, closed afterwards.
    let actions = peer.completed_actions();
    assert_eq!(actions.first().map(String::as_str), Some(action::CREATE));
    assert_eq!(actions.last().map(String::as_str), Some(action::DELETE));
    assert_eq!(peer.running_commands(), 0);
    peer.stop().await;
}

#[tokio::test]
async fn a_cmd_command_gets_double_quoted_values_and_the_shell_environment() {
    let peer = peer().await;
    peer.put_file("C:\\Work\\seed.txt", b"x").unwrap();
    let step = Step::new(
        "winrm.exec",
        json!({"command": "echo {{ name }} %GREETING%", "env": {"GREETING": "50% more"}}),
    )
    .param("name", "a & b");
    let (outcome, out) = step.run(&peer, &CancellationToken::new()).await;
    assert_eq!(outcome, StepOutcome::ok(Some(0)), "{}", out.stderr);
    assert_eq!(out.stdout, "\"a & b\" 50% more\n");

    let step = Step::new(
        "winrm.exec",
        json!({"command": "cd", "cwd": "C:\\Work", "shell": "cmd"}),
    );
    let (outcome, out) = step.run(&peer, &CancellationToken::new()).await;
    assert_eq!(outcome, StepOutcome::ok(Some(0)), "{}", out.stderr);
    assert_eq!(out.stdout, "C:\\Work\n");

    // What cmd would expand even inside quotes is refused, not sent.
    let step = Step::new("winrm.exec", json!({"command": "echo {{ v }}"})).param("v", "%PATH%");
    let e = step.render().unwrap_err();
    assert!(e.contains("cannot be quoted safely for cmd"), "{e}");
    peer.stop().await;
}

#[tokio::test]
async fn a_non_zero_exit_fails_the_step_with_its_code() {
    let peer = peer().await;
    let step = Step::new(
        "winrm.exec",
        json!({"script": "Write-Output 'partial'\nGet-Nothing\nexit 3"}),
    );
    let (outcome, out) = step.run(&peer, &CancellationToken::new()).await;
    assert_eq!(outcome.status, StepStatus::Failed);
    assert_eq!(outcome.exit_code, Some(3));
    assert_eq!(outcome.error.as_deref(), Some("exited with 3"));
    assert_eq!(out.stdout, "partial\n");
    assert!(
        out.stderr
            .contains("The term 'Get-Nothing' is not recognized"),
        "{}",
        out.stderr
    );

    let step = Step::new("winrm.exec", json!({"command": "exit /b 4"}));
    let (outcome, _) = step.run(&peer, &CancellationToken::new()).await;
    assert_eq!(
        (outcome.status, outcome.exit_code),
        (StepStatus::Failed, Some(4))
    );
    peer.stop().await;
}

#[tokio::test]
async fn a_wrong_password_is_an_auth_failure_that_does_not_show_it() {
    let peer = peer().await;
    let wrong = "Wr0ng-Secret-42";
    for step in [
        Step::new("winrm.exec", json!({"script": "hostname"})).password(wrong),
        Step::new("winrm.copy", json!({"content": "x", "dest": "C:\\a.txt"}))
            .password(wrong)
            .ntlm(),
    ] {
        let (outcome, out) = step.run(&peer, &CancellationToken::new()).await;
        let error = outcome.error.unwrap_or_default();
        assert_eq!(outcome.status, StepStatus::Failed);
        assert!(
            error.starts_with("WinRM (auth):") && error.contains("opsuser"),
            "{error}"
        );
        assert!(
            !error.contains(wrong) && !out.stdout.contains(wrong) && !out.stderr.contains(wrong)
        );
    }
    assert!(peer.completed_actions().is_empty());
    assert!(peer.file("C:\\a.txt").is_none());
    peer.stop().await;
}

#[tokio::test]
async fn a_200_kb_file_is_copied_in_chunks_and_verified() {
    let peer = peer().await;
    let mut seed = 0x2545_f491_u32;
    let bytes: Vec<u8> = (0..200 * 1024)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            (seed >> 24) as u8
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("payload.bin");
    std::fs::write(&source, &bytes).unwrap();
    let dest = "C:\\Deploy\\bin\\payload.bin";
    let step = Step::new(
        "winrm.copy",
        json!({"source": source.to_str().unwrap(), "dest": dest}),
    )
    .ntlm();
    let (outcome, out) = step.run(&peer, &CancellationToken::new()).await;
    assert_eq!(outcome, StepOutcome::ok(None), "{}", out.stderr);
    let hash = sha256_hex(&bytes);
    assert_eq!(
        out.stdout,
        format!("copied 204800 bytes to {dest} in 9 chunk(s), sha256 {hash}\n")
    );
    assert!(
        peer.file(dest).unwrap() == bytes,
        "the bytes on the host differ"
    );
    assert_eq!(peer.file_paths(), [dest]);
    // Chunk commands: nine, each in its own Command, each under the envelope limit.
    let commands = peer
        .completed_actions()
        .iter()
        .filter(|a| *a == action::COMMAND)
        .count();
    assert_eq!(commands, 1 + 9 + 2);

    // The host's own hash of the file agrees.
    let check = Step::new(
        "winrm.exec",
        json!({"script": format!("(Get-FileHash -LiteralPath '{dest}').Hash")}),
    );
    let (outcome, out) = check.run(&peer, &CancellationToken::new()).await;
    assert_eq!(
        (outcome.status, out.stdout),
        (StepStatus::Succeeded, format!("{hash}\n"))
    );
    peer.stop().await;
}

#[tokio::test]
async fn overwrite_false_keeps_an_existing_file_and_fails() {
    let peer = peer().await;
    let dest = "C:\\etc\\app.conf";
    peer.put_file(dest, b"old").unwrap();
    let step = Step::new(
        "winrm.copy",
        json!({"content": "new", "dest": dest, "overwrite": false}),
    );
    let (outcome, _) = step.run(&peer, &CancellationToken::new()).await;
    assert_eq!(outcome.status, StepStatus::Failed);
    assert_eq!(
        outcome.error.as_deref(),
        Some("C:\\etc\\app.conf exists and with.overwrite is false")
    );
    assert_eq!(peer.file(dest).unwrap(), b"old");

    // The default replaces it; an empty content makes an empty file.
    let step = Step::new("winrm.copy", json!({"content": "new \u{e9}", "dest": dest}));
    let (outcome, _) = step.run(&peer, &CancellationToken::new()).await;
    assert_eq!(outcome, StepOutcome::ok(None));
    assert_eq!(peer.file(dest).unwrap(), "new \u{e9}".as_bytes());
    let step = Step::new(
        "winrm.copy",
        json!({"content": "", "dest": "C:\\new\\empty.txt", "create_dirs": false}),
    );
    let (outcome, _) = step.run(&peer, &CancellationToken::new()).await;
    assert_eq!(
        outcome.error.as_deref(),
        Some("the directory C:\\new does not exist and with.create_dirs is false")
    );
    let step = Step::new(
        "winrm.copy",
        json!({"content": "", "dest": "C:\\new\\empty.txt"}),
    );
    let (outcome, _) = step.run(&peer, &CancellationToken::new()).await;
    assert_eq!(outcome, StepOutcome::ok(None));
    assert_eq!(peer.file("C:\\new\\empty.txt").unwrap(), b"");
    peer.stop().await;
}

/// Waits until the peer has handed out output of a running command.
async fn until_output_was_received(peer: &WinrmPeer) {
    let started = Instant::now();
    while !peer
        .completed_actions()
        .iter()
        .any(|a| a == action::RECEIVE)
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no output arrived"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(peer.running_commands(), 1);
}

#[tokio::test]
async fn a_cancel_stops_a_long_command_promptly_and_keeps_what_it_printed() {
    let peer = peer().await;
    let step = Step::new(
        "winrm.exec",
        json!({"script": "Write-Output 'started'\nStart-Sleep -Seconds 60\nWrite-Output 'never'"}),
    );
    let cancel = CancellationToken::new();
    let ((outcome, out), cancelled_at) = tokio::join!(step.run(&peer, &cancel), async {
        until_output_was_received(&peer).await;
        cancel.cancel();
        Instant::now()
    });
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(3),
        "{:?}",
        cancelled_at.elapsed()
    );
    assert_eq!(outcome, StepOutcome::failed("interrupted", None));
    // Streamed before the command ended, which it never did.
    assert_eq!(out.stdout, "started\n");
    assert_eq!(peer.running_commands(), 0);
    let actions = peer.completed_actions();
    assert!(actions.contains(&action::SIGNAL.to_owned()));
    assert_eq!(actions.last().map(String::as_str), Some(action::DELETE));
    peer.stop().await;
}

#[tokio::test]
async fn a_step_dropped_at_its_timeout_still_ends_its_command() {
    let peer = peer().await;
    let step = Step::new(
        "winrm.exec",
        json!({"script": "Write-Output 'started'; Start-Sleep 60"}),
    );
    let never = CancellationToken::new();
    let mut run = Box::pin(step.run(&peer, &never));
    tokio::select! {
        _ = &mut run => panic!("the command cannot finish"),
        () = until_output_was_received(&peer) => {}
    }
    // What the engine does at a step timeout: the step's future is dropped.
    drop(run);
    let started = Instant::now();
    while peer.running_commands() > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the command still runs"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    peer.stop().await;
}
