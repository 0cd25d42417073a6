//! The `opsconductor` binary as a child process, killed on drop.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Path of the binary under test.
fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_opsconductor"))
}

/// A running `opsconductor` process with captured output.
#[derive(Debug)]
pub struct Opsc {
    child: Option<Child>,
    output: Arc<Mutex<String>>,
}

impl Opsc {
    /// Spawns `opsconductor <args>` with exactly `env` (plus PATH and HOME).
    pub fn spawn(args: &[&str], env: &BTreeMap<String, String>) -> Self {
        let mut cmd = Command::new(binary());
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", std::env::var("HOME").unwrap_or_default())
            .env(
                "OPSC_NATS_STREAM_MAX_BYTES",
                super::TEST_STREAM_BYTES.to_string(),
            )
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawn opsconductor");
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
        ]
        .into_iter()
        .flatten()
        {
            let sink = output.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Ok(mut s) = sink.lock() {
                        s.push_str(&line);
                        s.push('\n');
                    }
                }
            });
        }
        Self {
            child: Some(child),
            output,
        }
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// Everything printed so far (stdout and stderr).
    pub fn output(&self) -> String {
        self.output.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Sends SIGTERM and waits for the exit code.
    pub async fn terminate(&mut self) -> Option<i32> {
        let child = self.child.as_mut()?;
        if let Some(pid) = child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        let status = tokio::time::timeout(std::time::Duration::from_secs(20), child.wait())
            .await
            .ok()?
            .ok()?;
        self.child = None;
        status.code()
    }

    /// Kills the process with SIGKILL, as a crash or the OOM killer would.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    /// Waits for the process to exit by itself; its exit code.
    pub async fn wait(&mut self) -> Option<i32> {
        let child = self.child.as_mut()?;
        let status = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait())
            .await
            .ok()?
            .ok()?;
        self.child = None;
        // Let the output readers catch the last lines.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        status.code()
    }
}

/// The environment of a process under test, from key-value pairs.
pub fn env_of(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}
