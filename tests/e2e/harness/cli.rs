//! The operator CLI, `opsconductor <args>`, run as a child process with
//! exactly the given environment (plus PATH), never on a terminal: its exit
//! status and output collected.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;

/// What one CLI run did.
#[derive(Debug)]
pub struct CliRun {
    /// The exit status (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl CliRun {
    /// Standard output followed by standard error.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// The CLI's environment for the api at `url` with the API token `token`.
pub fn env(url: &str, token: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("OPSC_URL".to_owned(), url.to_owned()),
        ("OPSC_TOKEN".to_owned(), token.to_owned()),
    ])
}

/// `opsconductor <args>` with exactly `env` (plus PATH), standard input
/// null, output piped, killed on drop.
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

/// Waits (at most 90 s) for a started command to end.
pub async fn finish(child: tokio::process::Child) -> CliRun {
    let out = tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
        .await
        .expect("the CLI finishes within 90 s")
        .unwrap();
    CliRun {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `opsconductor <args>` to its end, standard input null.
pub async fn run(args: &[&str], env: &BTreeMap<String, String>) -> CliRun {
    finish(command(args, env).spawn().expect("spawn opsconductor")).await
}

/// Runs `opsconductor <args>` to its end with `stdin` written to its
/// standard input through a pipe, which is then closed.
pub async fn run_with_stdin(args: &[&str], env: &BTreeMap<String, String>, stdin: &str) -> CliRun {
    let mut child = command(args, env)
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn opsconductor");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    finish(child).await
}
