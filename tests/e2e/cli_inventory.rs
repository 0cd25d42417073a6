//! `opsconductor targets|groups|credentials|tokens|audit|workers|completions`
//! against a real api (and, for connection tests, a real worker and OpenSSH
//! sshd): names resolve to ids, every read prints a table, JSON, YAML or
//! bare ids, secrets come from files or standard input and are never
//! printed, a viewer's change is refused with the api's words, and `ping`
//! names each target's outcome.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::cli::run_with_stdin as cli;
use crate::harness::{ApiServer, Sshd, TEST_ADMIN_PASSWORD, env_of, free_port, wait_until};

/// Runs and expects exit 0; its stdout.
async fn ok(args: &[&str], env: &BTreeMap<String, String>) -> String {
    let run = cli(args, env, "").await;
    assert_eq!(run.code, Some(0), "{args:?}: {run:?}");
    run.stdout
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A CLI environment logged in as `user` with its own session file.
async fn session(
    api: &ApiServer,
    home: &Path,
    user: &str,
    password: &str,
) -> BTreeMap<String, String> {
    let env = env_of(&[
        ("OPSC_URL", api.base.clone()),
        (
            "OPSC_SESSION_FILE",
            home.join(format!("{user}.json")).display().to_string(),
        ),
        ("HOME", home.display().to_string()),
    ]);
    let login = cli(
        &["login", "--username", user, "--password-stdin"],
        &env,
        &format!("{password}\n"),
    )
    .await;
    assert_eq!(login.code, Some(0), "{login:?}");
    env
}

/// The names in a page's items.
fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

mod ping;
mod secrets;
mod targets;

#[tokio::test]
async fn cli_inventory_client_help_has_no_server_settings_and_completions_print() {
    let env = env_of(&[("HOME", "/nonexistent".to_owned())]);
    for cmd in [
        "targets",
        "groups",
        "credentials",
        "tokens",
        "audit",
        "workers",
        "users",
        "login",
    ] {
        let help = ok(&[cmd, "--help"], &env).await;
        for flag in [
            "--nats-url",
            "--database-url",
            "--config",
            "Server settings",
        ] {
            assert!(!help.contains(flag), "{cmd} --help lists {flag}: {help}");
        }
    }
    let top = ok(&["--help"], &env).await;
    assert!(top.contains("Exit status") && top.contains("130"), "{top}");
    assert!(!top.contains("--nats-url"), "{top}");
    for cmd in [
        vec!["server", "--help"],
        vec!["migrate", "--help"],
        vec!["keys", "rotate", "--help"],
    ] {
        let help = ok(&cmd, &env).await;
        assert!(
            help.contains("--nats-url") && help.contains("--config"),
            "{cmd:?}: {help}"
        );
    }
    let bash = ok(&["completions", "bash"], &env).await;
    assert!(
        bash.contains("_opsconductor") && bash.contains("complete") && bash.contains("approve-key"),
        "{bash}"
    );
    let zsh = ok(&["completions", "zsh"], &env).await;
    assert!(zsh.starts_with("#compdef opsconductor"), "{zsh}");
    let fish = ok(&["completions", "fish"], &env).await;
    assert!(fish.contains("complete -c opsconductor"), "{fish}");
    let bad = cli(&["completions", "tcsh"], &env, "").await;
    assert_eq!(bad.code, Some(2), "{bad:?}");
}
