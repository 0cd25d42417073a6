//! `bench fanout`: one command on N targets that all point at one sshd,
//! against OpenSSH's `ssh` under `xargs -P` over the same N logins, in the
//! same invocation.
//!
//! The targets are created with an `ssh_key` credential from `--key` and
//! pinned by a connection test (accept-new); OpenSSH gets a known-hosts file
//! from `ssh-keyscan` and strict checking. The sshd must allow the
//! concurrency (`MaxStartups`, `MaxSessions`), or both sides see refusals.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::Args;
use futures::StreamExt as _;
use serde_json::{Value, json};

use super::client::{Load, id_of, ms, time};

/// `bench fanout` arguments.
#[derive(Debug, Args)]
pub struct FanoutArgs {
    /// Number of targets.
    #[arg(long, default_value_t = 100)]
    pub targets: u32,
    /// The sshd's host name or address.
    #[arg(long)]
    pub host: String,
    /// Its port.
    #[arg(long, default_value_t = 22)]
    pub port: u16,
    /// Login user.
    #[arg(long)]
    pub user: String,
    /// An unencrypted private key file the user can log in with.
    #[arg(long)]
    pub key: PathBuf,
    /// Connections at once, for both sides (job parallelism and `xargs -P`).
    #[arg(long, default_value_t = 50)]
    pub concurrency: u32,
    /// The command to run.
    #[arg(long, default_value = "uname -n")]
    pub command: String,
}

/// Runs the benchmark.
pub async fn run(load: &Load, a: &FanoutArgs) -> anyhow::Result<Value> {
    if a.targets == 0 {
        bail!("--targets must be at least 1");
    }
    let key =
        std::fs::read_to_string(&a.key).with_context(|| format!("reading {}", a.key.display()))?;
    let credential = id_of(
        &load
            .post(
                "/api/v1/credentials",
                &json!({"name": format!("{}-key", load.tag),
                        "spec": {"type": "ssh_key", "username": a.user, "private_key": key}}),
                201,
            )
            .await?,
    )?;
    let mut targets = Vec::new();
    let result = async {
        for i in 0..a.targets {
            let t = load
                .post(
                    "/api/v1/targets",
                    &json!({"name": format!("{}-{i:05}", load.tag), "hostname": a.host,
                            "os_type": "linux", "tags": [load.tag],
                            "ssh": {"port": a.port, "credential_id": credential,
                                    "host_key_policy": "accept-new"}}),
                    201,
                )
                .await?;
            targets.push(id_of(&t)?);
        }
        pin(load, &targets).await?;
        let ours = opsconductor(load, a).await?;
        let theirs = openssh(a).await?;
        let speedup = theirs["total_ms"].as_f64().unwrap_or(0.0)
            / ours["total_ms"].as_f64().unwrap_or(f64::MAX);
        Ok(json!({
            "bench": "fanout",
            "targets": a.targets,
            "concurrency": a.concurrency,
            "command": a.command,
            "opsconductor": ours,
            "openssh_xargs": theirs,
            "speedup_vs_openssh": (speedup * 100.0).round() / 100.0,
        }))
    }
    .await;
    for t in &targets {
        load.delete(&format!("/api/v1/targets/{t}")).await;
    }
    load.delete(&format!("/api/v1/credentials/{credential}"))
        .await;
    result
}

/// Pins every target's host key with a connection test (accept-new).
async fn pin(load: &Load, targets: &[String]) -> anyhow::Result<()> {
    let results: Vec<anyhow::Result<Value>> = futures::stream::iter(targets)
        .map(|t| async move {
            load.post(&format!("/api/v1/targets/{t}/test"), &json!({}), 200)
                .await
        })
        .buffer_unordered(16)
        .collect()
        .await;
    for r in results {
        let r = r?;
        if r["ok"] != true {
            bail!("a connection test failed: {r}");
        }
    }
    Ok(())
}

/// One run of `command` on every target.
async fn opsconductor(load: &Load, a: &FanoutArgs) -> anyhow::Result<Value> {
    let job = load
        .create_job(&json!({
            "name": format!("{}-fanout", load.tag),
            "targets": {"tags": [load.tag]},
            "parallelism": a.concurrency,
            "steps": [{"id": "cmd", "type": "ssh.exec", "with": {"command": a.command}}]
        }))
        .await?;
    let started = Instant::now();
    let run = load.start(&job, &json!({})).await;
    let result = async {
        let run = run?;
        load.wait_done(&job, 1).await?;
        let wall = started.elapsed().as_secs_f64() * 1000.0;
        let r = load.get(&format!("/api/v1/runs/{run}")).await?;
        let steps = load.steps_of(&run).await?;
        let ok = steps.iter().filter(|s| s["status"] == "succeeded").count();
        let total = match (time(&r, "created_at"), time(&r, "finished_at")) {
            (Some(c), Some(f)) => ms(c, f),
            _ => wall,
        };
        Ok(json!({
            "status": r["status"],
            "succeeded": ok,
            "failed": steps.len() - ok,
            "total_ms": (total * 10.0).round() / 10.0,
            "client_wall_ms": (wall * 10.0).round() / 10.0,
        }))
    }
    .await;
    load.delete(&format!("/api/v1/jobs/{job}")).await;
    result
}

/// The same logins with OpenSSH under `xargs -P`.
async fn openssh(a: &FanoutArgs) -> anyhow::Result<Value> {
    let dir = tempfile::tempdir()?;
    let known = dir.path().join("known_hosts");
    let scan = tokio::process::Command::new("ssh-keyscan")
        .args(["-p", &a.port.to_string(), &a.host])
        .stderr(Stdio::null())
        .output()
        .await
        .context("running ssh-keyscan (install openssh-client)")?;
    std::fs::write(&known, &scan.stdout)?;
    let script = format!(
        "seq {n} | xargs -P {p} -I{{}} ssh -n -i {key} -p {port} -o BatchMode=yes \
         -o UserKnownHostsFile={known} -o StrictHostKeyChecking=yes -o LogLevel=ERROR \
         {user}@{host} {cmd} >/dev/null",
        n = a.targets,
        p = a.concurrency,
        key = quote(&a.key.display().to_string()),
        port = a.port,
        known = quote(&known.display().to_string()),
        user = quote(&a.user),
        host = quote(&a.host),
        cmd = quote(&a.command),
    );
    let started = Instant::now();
    let status = tokio::process::Command::new("sh")
        .args(["-c", &script])
        .status()
        .await?;
    let total = started.elapsed().as_secs_f64() * 1000.0;
    Ok(json!({
        "all_succeeded": status.success(),
        "total_ms": (total * 10.0).round() / 10.0,
    }))
}

/// Single-quotes for `sh`.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
