//! Driving the real binary: a logged-in environment, commands with and
//! without standard input, files to pass with `-f`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use tokio::io::AsyncWriteExt as _;

use crate::harness::{ApiServer, env_of};

/// What one CLI run did.
#[derive(Debug)]
pub struct Cli {
    /// The exit status.
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// `opsconductor ARGS` with exactly `env` (plus PATH), output piped.
pub fn command(args: &[&str], env: &BTreeMap<String, String>) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_opsconductor"));
    cmd.args(args)
        .env_clear()
        .envs(env)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Waits for a started command.
pub async fn finish(child: tokio::process::Child) -> Cli {
    let out = tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
        .await
        .expect("the CLI finishes within 90 s")
        .unwrap();
    Cli {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs a command to its end.
pub async fn cli(args: &[&str], env: &BTreeMap<String, String>) -> Cli {
    finish(command(args, env).spawn().unwrap()).await
}

/// Runs a command with `stdin` on its standard input.
pub async fn cli_stdin(args: &[&str], env: &BTreeMap<String, String>, stdin: &str) -> Cli {
    let mut child = command(args, env).stdin(Stdio::piped()).spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    finish(child).await
}

/// The JSON of a command's output.
pub fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Writes `text` to `dir/name`; its path.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// The environment of a CLI logged in to `api` as `username`, its session
/// kept under `home`.
pub async fn login(
    api: &ApiServer,
    home: &Path,
    username: &str,
    password: &str,
) -> BTreeMap<String, String> {
    std::fs::create_dir_all(home).unwrap();
    let env = env_of(&[
        ("OPSC_URL", api.base.clone()),
        (
            "OPSC_SESSION_FILE",
            home.join("session.json").display().to_string(),
        ),
        ("HOME", home.display().to_string()),
    ]);
    let run = cli_stdin(
        &["login", "--username", username, "--password-stdin"],
        &env,
        &format!("{password}\n"),
    )
    .await;
    assert_eq!(run.code, Some(0), "login {username}: {run:?}");
    env
}

/// The id of the run whose first step is running (waits for one).
pub async fn running_step(api: &ApiServer, token: &str) -> String {
    for _ in 0..300 {
        let (_, page) = api
            .call(
                Method::GET,
                "/api/v1/runs?status=running",
                Some(token),
                None,
            )
            .await;
        if let Some(id) = page["items"][0]["id"].as_str() {
            let (_, steps) = api
                .call(
                    Method::GET,
                    &format!("/api/v1/runs/{id}/steps"),
                    Some(token),
                    None,
                )
                .await;
            if steps["items"][0]["status"] == "running" {
                return id.to_owned();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no run got its step running within 30 s");
}
