//! Connection tests: `targets test` (one target, with the facts found),
//! `targets approve-key` (trust a pending SSH host key) and `targets ping`
//! (many targets at once, one line each, like `ansible -m ping`).

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use reqwest::Method;
use serde_json::{Value, json};

use super::{doc, text};
use crate::client::ClientEnv;
use crate::client::http::{ApiClient, Problem, RawRequest};
use crate::client::output::{self, OutputFormat, View, details, sanitize};
use crate::client::resolve::{self, Kind};

/// How many connection tests `ping` keeps running at once.
pub const PARALLEL: usize = 8;

/// The protocol a test uses.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Protocol {
    /// SSH.
    Ssh,
    /// WinRM.
    Winrm,
}

/// `targets approve-key` arguments.
#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The target: id or exact name.
    pub target: String,
    /// Pin the OpenSSH public key in this file (`ssh-ed25519 AAAA…`, e.g.
    /// the host's /etc/ssh/ssh_host_ed25519_key.pub) instead of the pending one.
    #[arg(long, value_name = "FILE")]
    pub public_key_file: Option<PathBuf>,
    /// Approve without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// `targets ping` arguments: which targets.
#[derive(Debug, Args)]
pub struct PingArgs {
    /// Targets: ids or exact names.
    pub targets: Vec<String>,
    /// The members of this group: id or exact name (repeatable).
    #[arg(long = "group", value_name = "GROUP")]
    pub groups: Vec<String>,
    /// The targets with this tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// The protocol (default: SSH when configured, else WinRM).
    #[arg(long, value_enum)]
    pub protocol: Option<Protocol>,
}

fn protocol_query(protocol: Option<Protocol>) -> Vec<(&'static str, String)> {
    protocol
        .map(|p| {
            (
                "protocol",
                if matches!(p, Protocol::Ssh) {
                    "ssh"
                } else {
                    "winrm"
                }
                .to_owned(),
            )
        })
        .into_iter()
        .collect()
}

/// `POST path?query` with an empty body; the answer, or the api's refusal.
async fn post(
    api: &mut ApiClient,
    path: &[&str],
    query: &[(&str, String)],
) -> anyhow::Result<Result<Value, Problem>> {
    let response = api
        .raw(RawRequest {
            method: &Method::POST,
            path,
            query,
            body: Some(("application/json", &b"{}"[..])),
            headers: &[],
        })
        .await?;
    let status = response.status();
    let bytes = response.bytes().await.context("reading the api's answer")?;
    if status.is_success() {
        Ok(Ok(
            serde_json::from_slice(&bytes).context("unexpected answer from the api")?
        ))
    } else {
        Ok(Err(Problem::from_parts(status, None, &bytes)))
    }
}

/// `targets test`: the outcome and the facts; exit 1 when it failed.
pub async fn test(
    api: &mut ApiClient,
    view: View,
    target: &str,
    protocol: Option<Protocol>,
) -> anyhow::Result<ExitCode> {
    let id = resolve::id(api, Kind::Target, target).await?;
    let outcome = post(
        api,
        &["api", "v1", "targets", &id, "test"],
        &protocol_query(protocol),
    )
    .await?
    .map_err(|p| anyhow::anyhow!("testing target {}: {p}", sanitize(target)))?;
    view.render(&outcome, |o| outcome_text(target, o))?;
    Ok(if outcome["ok"].as_bool() == Some(true) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A test's outcome in words, with the facts.
fn outcome_text(target: &str, o: &Value) -> String {
    let mut out = format!("{}\n", sanitize(&line(target, o)));
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(k) = o["host_key"].as_object() {
        let fp = k.get("fingerprint").map(text).unwrap_or_default();
        let note = if o["host_key_pinned"].as_bool() == Some(true) {
            " (pinned now)"
        } else {
            ""
        };
        pairs.push(("host key", format!("{fp}{note}")));
    }
    pairs.push(("worker", text(&o["worker_id"])));
    pairs.push(("tested at", text(&o["tested_at"])));
    let facts = o["facts"].as_object().cloned().unwrap_or_default();
    let facts: Vec<(String, String)> = facts.iter().map(|(k, v)| (k.clone(), text(v))).collect();
    let mut all: Vec<(&str, String)> = pairs;
    all.extend(facts.iter().map(|(k, v)| (k.as_str(), v.clone())));
    out.push_str(&details(&all));
    out
}

/// One line for one test: `name | ok | ssh, 42 ms` or `name | failed | stage: error`.
pub fn line(name: &str, o: &Value) -> String {
    if o["ok"].as_bool() == Some(true) {
        format!(
            "{name} | ok | {}, {} ms",
            text(&o["protocol"]),
            o["elapsed_ms"].as_u64().unwrap_or(0)
        )
    } else {
        let stage = o["stage"].as_str().unwrap_or("failed");
        let error = o["error"].as_str().unwrap_or("no detail");
        let hint = if stage == "host_key" {
            " (review and trust it: opsconductor targets approve-key)"
        } else {
            ""
        };
        format!("{name} | failed | {stage}: {error}{hint}")
    }
}

/// `targets approve-key`: shows the fingerprint being trusted (and the one
/// it replaces), asks on a terminal, and approves.
pub async fn approve(api: &mut ApiClient, view: View, a: &ApproveArgs) -> anyhow::Result<()> {
    let target = super::get(api, &a.target).await?;
    let id = text(&target["id"]);
    let name = sanitize(&text(&target["name"]));
    let keys = &target["host_key"];
    let old = keys["pinned"]["fingerprint"].as_str();
    let (body, new) = match &a.public_key_file {
        Some(path) => {
            let key = doc::read_text(path)?.trim().to_owned();
            (
                json!({"public_key": key}),
                format!("the key in {}", path.display()),
            )
        }
        None => {
            let Some(fp) = keys["pending"]["fingerprint"].as_str() else {
                bail!(
                    "target {name} has no host key waiting for approval: run `opsconductor targets test {name}` first, or give --public-key-file"
                );
            };
            let algorithm = text(&keys["pending"]["algorithm"]);
            (
                json!({"fingerprint": fp}),
                format!("{} ({})", sanitize(fp), sanitize(&algorithm)),
            )
        }
    };
    let mut notice = format!("Target {name}: trusting host key {new}\n");
    match old {
        Some(o) => notice.push_str(&format!("  replacing the pinned key {}\n", sanitize(o))),
        None => notice.push_str("  (no key was pinned before)\n"),
    }
    eprint!("{notice}");
    if !a.yes {
        if !std::io::stdin().is_terminal() {
            bail!("approving a host key needs confirmation: pass --yes");
        }
        eprint!("Trust this key for {name}? [y/N] ");
        std::io::stderr().flush().ok();
        let answer =
            crate::client::prompt::read_line(&mut std::io::stdin().lock())?.unwrap_or_default();
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            bail!("not approved");
        }
    }
    let path = ["api", "v1", "targets", id.as_str(), "host-key", "approve"];
    let state: Value = api
        .send(Method::POST, &path, &body)
        .await
        .with_context(|| format!("approving the host key of {name}"))?;
    let now = or_text(&state["pinned"]["fingerprint"]);
    view.render(&state, |_| {
        format!("Pinned host key {} for {name}.\n", sanitize(&now))
    })?;
    Ok(())
}

fn or_text(v: &Value) -> String {
    let t = text(v);
    if t.is_empty() { "-".to_owned() } else { t }
}

/// The `(id, name)` of every target `a` names, each once, in the order named.
async fn chosen(api: &mut ApiClient, a: &PingArgs) -> anyhow::Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |id: String, name: String| {
        if !out.iter().any(|(i, _)| *i == id) {
            out.push((id, name));
        }
    };
    for t in &a.targets {
        add(resolve::id(api, Kind::Target, t).await?, t.clone());
    }
    for g in &a.groups {
        let gid = resolve::id(api, Kind::Group, g).await?;
        let members: Value = api
            .get(&["api", "v1", "target-groups", &gid, "targets"], &[])
            .await
            .with_context(|| format!("listing the members of group {}", sanitize(g)))?;
        for m in members["items"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            add(text(&m["id"]), text(&m["name"]));
        }
    }
    for tag in &a.tags {
        let mut offset = 0_u64;
        loop {
            let q = [
                ("tag", tag.clone()),
                ("limit", "500".to_owned()),
                ("offset", offset.to_string()),
            ];
            let page: Value = api
                .get(&["api", "v1", "targets"], &q)
                .await
                .with_context(|| format!("listing the targets tagged {}", sanitize(tag)))?;
            let items = page["items"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            for m in items {
                add(text(&m["id"]), text(&m["name"]));
            }
            offset += items.len() as u64;
            if items.is_empty() || offset >= page["total"].as_u64().unwrap_or(0) {
                break;
            }
        }
    }
    Ok(out)
}

/// `targets ping`: tests every chosen target, [`PARALLEL`] at a time, one
/// line each as they finish; exit 1 when any failed.
pub async fn ping(api: &mut ApiClient, view: View, a: &PingArgs) -> anyhow::Result<ExitCode> {
    if a.targets.is_empty() && a.groups.is_empty() && a.tags.is_empty() {
        bail!("name the targets to ping: NAMES, --group or --tag");
    }
    let targets = chosen(api, a).await?;
    if targets.is_empty() {
        bail!("no target matches");
    }
    let env = ClientEnv::from_process();
    let lanes = PARALLEL.min(targets.len());
    let mut queues: Vec<Vec<(usize, String, String)>> = vec![Vec::new(); lanes];
    for (i, (id, name)) in targets.into_iter().enumerate() {
        queues[i % lanes].push((i, id, name));
    }
    let query = protocol_query(a.protocol);
    let table = view.format == OutputFormat::Table && !view.quiet;
    let lanes = queues.into_iter().map(|queue| {
        let env = env.clone();
        let query = query.clone();
        async move {
            let mut api = crate::client::connect(&env)?;
            let mut done = Vec::new();
            for (i, id, name) in queue {
                let answer = post(&mut api, &["api", "v1", "targets", &id, "test"], &query).await;
                let result = match answer {
                    Ok(Ok(o)) => o,
                    Ok(Err(p)) => json!({"ok": false, "stage": "not run", "error": p.to_string()}),
                    Err(e) => json!({"ok": false, "stage": "not run", "error": format!("{e:#}")}),
                };
                if table {
                    output::print(&format!("{}\n", sanitize(&line(&name, &result))))?;
                }
                done.push((i, json!({"target_id": id, "name": name, "outcome": result})));
            }
            anyhow::Ok(done)
        }
    });
    let mut results: Vec<(usize, Value)> = Vec::new();
    for lane in futures::future::join_all(lanes).await {
        results.extend(lane?);
    }
    results.sort_by_key(|(i, _)| *i);
    let results: Vec<Value> = results.into_iter().map(|(_, v)| v).collect();
    let failed: Vec<&Value> = results
        .iter()
        .filter(|r| r["outcome"]["ok"].as_bool() != Some(true))
        .collect();
    let summary = json!({"total": results.len(), "failed": failed.len(), "results": results});
    if table {
        eprintln!(
            "{} targets: {} ok, {} failed",
            results.len(),
            results.len() - failed.len(),
            failed.len()
        );
    } else if view.quiet {
        for f in &failed {
            output::print(&format!("{}\n", sanitize(&text(&f["target_id"]))))?;
        }
    } else {
        view.render(&summary, |_| String::new())?;
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
