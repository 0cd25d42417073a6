//! `bench fanout`: one command on N targets that all point at one sshd,
//! against OpenSSH's `ssh` under `xargs -P` and, when `ansible` is found,
//! Ansible's ad-hoc `ansible all -m command`, over the same N logins in the
//! same invocation.
//!
//! The targets are imported in bulk with an `ssh_key` credential from
//! `--key` and pinned by a connection test (accept-new); the baselines get a
//! known-hosts file from `ssh-keyscan` and strict checking
//! ([`baselines`]). The sshd must allow the concurrency (`MaxStartups`,
//! `MaxSessions`), or every side sees refusals.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::Args;
use futures::StreamExt as _;
use serde_json::{Value, json};

use super::baselines;
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
    /// Connections at once, for every side (job parallelism, `xargs -P`,
    /// `ansible -f`).
    #[arg(long, default_value_t = 50)]
    pub concurrency: u32,
    /// The command to run (by the login shell for OpsConductor and OpenSSH,
    /// by Ansible's `command` module, without a shell, for Ansible).
    #[arg(long, default_value = "uname -n")]
    pub command: String,
    /// The `ansible` executable of the Ansible baseline [default: `ansible`
    /// on PATH, else $OPSCONDUCTOR_STATE_DIR/test-venv/bin/ansible; skipped
    /// when neither exists].
    #[arg(long, value_name = "PATH")]
    pub ansible: Option<PathBuf>,
    /// The target's Python for Ansible (`ansible_python_interpreter`)
    /// [default: what `command -v python3` finds there].
    #[arg(long, value_name = "PATH")]
    pub ansible_python: Option<String>,
}

/// Runs the benchmark.
pub async fn run(load: &Load, a: &FanoutArgs) -> anyhow::Result<Value> {
    if a.targets == 0 || a.concurrency == 0 {
        bail!("--targets and --concurrency must be at least 1");
    }
    let ansible_exe = baselines::AnsibleSearch::from_process().find(a.ansible.as_deref())?;
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
    let result = async {
        let started = Instant::now();
        let targets = create_targets(load, a, &credential).await?;
        let created = started.elapsed();
        pin(load, &targets, a.concurrency as usize).await?;
        let pinned = started.elapsed() - created;
        let ours = opsconductor(load, a).await?;
        let logins = baselines::Logins::scan(a).await?;
        let openssh = baselines::openssh(a, &logins).await?;
        let ansible = match &ansible_exe {
            Some(exe) => baselines::ansible(a, &logins, exe)
                .await
                .unwrap_or_else(|e| json!({"error": format!("{e:#}")})),
            None => json!({"skipped": baselines::NO_ANSIBLE}),
        };
        let round = |d: std::time::Duration| (d.as_secs_f64() * 10_000.0).round() / 10.0;
        let server = load.process().await.unwrap_or_default();
        let mb = |b: f64| (b / 1_048_576.0 * 10.0).round() / 10.0;
        Ok(json!({
            "bench": "fanout",
            "memory_mb": {
                "opsconductor_rss_after": mb(server.resident_bytes),
                "opsconductor_rss_peak_since_start": mb(server.resident_max_bytes),
            },
            "targets": a.targets,
            "concurrency": a.concurrency,
            "command": a.command,
            "setup": {"create_targets_ms": round(created), "pin_host_keys_ms": round(pinned)},
            "opsconductor": ours,
            "openssh_xargs": openssh,
            "ansible": ansible,
            "opsconductor_vs_openssh": baselines::ratio(&openssh, &ours),
            "opsconductor_vs_ansible": baselines::ratio(&ansible, &ours),
        }))
    }
    .await;
    delete_targets(load).await;
    load.delete(&format!("/api/v1/credentials/{credential}"))
        .await;
    result
}

/// Targets per import request: well under the api's default body limit
/// (1 MiB) at about 300 bytes a target.
const IMPORT_CHUNK: usize = 1000;

/// Imports the targets, a thousand per request; their ids.
async fn create_targets(
    load: &Load,
    a: &FanoutArgs,
    credential: &str,
) -> anyhow::Result<Vec<String>> {
    let docs: Vec<Value> = (0..a.targets)
        .map(|i| {
            json!({"name": format!("{}-{i:05}", load.tag), "hostname": a.host,
                   "os_type": "linux", "tags": [load.tag],
                   "ssh": {"port": a.port, "credential_id": credential,
                           "host_key_policy": "accept-new"}})
        })
        .collect();
    for chunk in docs.chunks(IMPORT_CHUNK) {
        load.post("/api/v1/targets/import", &Value::Array(chunk.to_vec()), 201)
            .await?;
    }
    let ids = tagged(load).await?;
    if ids.len() != a.targets as usize {
        bail!(
            "imported {} targets but {} carry the tag {}",
            a.targets,
            ids.len(),
            load.tag
        );
    }
    Ok(ids)
}

/// The ids of the targets tagged with this benchmark's tag.
async fn tagged(load: &Load) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    loop {
        let page = load
            .get(&format!(
                "/api/v1/targets?tag={}&limit=500&offset={}",
                load.tag,
                ids.len()
            ))
            .await?;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            return Ok(ids);
        }
        for t in &items {
            ids.push(id_of(t)?);
        }
    }
}

/// Deletes this benchmark's targets, a few at once, ignoring failures.
async fn delete_targets(load: &Load) {
    let ids = tagged(load).await.unwrap_or_default();
    futures::stream::iter(&ids)
        .for_each_concurrent(16, |t| async move {
            load.delete(&format!("/api/v1/targets/{t}")).await;
        })
        .await;
}

/// Pins every target's host key with a connection test (accept-new),
/// `at_once` tests at a time (the sshd takes the benchmark's concurrency).
async fn pin(load: &Load, targets: &[String], at_once: usize) -> anyhow::Result<()> {
    let results: Vec<anyhow::Result<Value>> = futures::stream::iter(targets)
        .map(|t| async move {
            load.post(&format!("/api/v1/targets/{t}/test"), &json!({}), 200)
                .await
        })
        .buffer_unordered(at_once)
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

/// One run of `command` on every target, timed by the api's own clock
/// (accepted to finished).
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
            "failed": (a.targets as usize).saturating_sub(ok),
            "total_ms": (total * 10.0).round() / 10.0,
            "wall_s": total.round() / 1000.0,
            "client_wall_ms": (wall * 10.0).round() / 10.0,
        }))
    }
    .await;
    load.delete(&format!("/api/v1/jobs/{job}")).await;
    result
}
