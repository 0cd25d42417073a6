//! `opsconductor targets`: list, show, create, update, delete, import and
//! export targets; test their connections, approve SSH host keys, and ping
//! many at once (`probe`).

pub mod doc;
pub mod edit;
pub mod probe;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand, ValueEnum};
use reqwest::Method;
use serde_json::{Value, json};

use self::edit::{Os, TargetFields};
use super::ClientEnv;
use super::http::{ApiClient, Problem, RawRequest};
use super::output::{Table, View, ViewArgs, details, or_dash, sanitize, yes_no};
use super::resolve::{self, Kind};

/// `targets` arguments.
#[derive(Debug, Args)]
pub struct TargetsArgs {
    #[command(flatten)]
    pub view: ViewArgs,
    #[command(subcommand)]
    pub action: TargetsAction,
}

/// What to do with targets.
#[derive(Debug, Subcommand)]
pub enum TargetsAction {
    /// List targets, one page at a time.
    List(ListArgs),
    /// Show one target: its settings, host key and last connection test.
    Show {
        /// The target: id or exact name.
        target: String,
    },
    /// Create a target from flags, or from a file (`-f target.yaml`).
    Create(CreateArgs),
    /// Change a target: the flags given change, the rest stays (`-f`
    /// replaces the whole document).
    Update(UpdateArgs),
    /// Delete a target.
    Delete {
        /// The target: id or exact name.
        target: String,
    },
    /// Import targets from a CSV or JSON/YAML file: all or nothing; every bad
    /// row is named.
    Import {
        /// The file (`.csv` is read as CSV; `-` reads JSON or YAML from
        /// standard input).
        file: PathBuf,
    },
    /// Export targets (the list's filters apply) as JSON or CSV.
    Export(ExportArgs),
    /// Test the connection to a target through a worker of its pool and
    /// print what was found (exit 1 when it failed).
    Test {
        /// The target: id or exact name.
        target: String,
        /// The protocol (default: SSH when configured, else WinRM).
        #[arg(long, value_enum)]
        protocol: Option<probe::Protocol>,
    },
    /// Trust a target's pending SSH host key (admins): shows the key being
    /// approved and asks on a terminal (`--yes` skips), or pins a given key.
    ApproveKey(probe::ApproveArgs),
    /// Test many targets at once, one line each (exit 1 when any failed).
    Ping(probe::PingArgs),
}

/// Filters of `targets list` and `targets export`.
#[derive(Debug, Args)]
pub struct Filters {
    /// Part of the name (case-insensitive).
    #[arg(long)]
    pub name: Option<String>,
    /// Targets with this tag.
    #[arg(long)]
    pub tag: Option<String>,
    /// Operating system family.
    #[arg(long, value_enum)]
    pub os: Option<Os>,
    /// Members of this group: id or exact name.
    #[arg(long)]
    pub group: Option<String>,
    /// Worker pool.
    #[arg(long)]
    pub pool: Option<String>,
}

impl Filters {
    /// The query pairs of these filters.
    async fn query(&self, api: &mut ApiClient) -> anyhow::Result<Vec<(&'static str, String)>> {
        let mut q = Vec::new();
        if let Some(n) = &self.name {
            q.push(("name", n.clone()));
        }
        if let Some(t) = &self.tag {
            q.push(("tag", t.clone()));
        }
        if let Some(os) = self.os {
            q.push(("os_type", os.as_str().to_owned()));
        }
        if let Some(g) = &self.group {
            q.push(("group", resolve::id(api, Kind::Group, g).await?));
        }
        if let Some(p) = &self.pool {
            q.push(("pool", p.clone()));
        }
        Ok(q)
    }
}

/// `targets list` arguments.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub filters: Filters,
    /// Most targets to show (1 to 500, default 50).
    #[arg(long)]
    pub limit: Option<u32>,
    /// Targets to skip, for the next page.
    #[arg(long)]
    pub offset: Option<u32>,
}

/// `targets create` arguments.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The name (or the file's `name`).
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub fields: TargetFields,
}

/// `targets update` arguments.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The target: id or exact name.
    pub target: String,
    /// A new name.
    #[arg(long)]
    pub rename: Option<String>,
    #[command(flatten)]
    pub fields: TargetFields,
}

/// Export formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FileFormat {
    /// A JSON array of target documents (what `import` reads).
    Json,
    /// CSV with a header row.
    Csv,
}

/// `targets export` arguments.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub filters: Filters,
    /// The file format (default json).
    #[arg(long, value_enum, default_value = "json")]
    pub format: FileFormat,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Runs a `targets` command; exit 1 when a test or a ping failed.
pub async fn run(env: &ClientEnv, args: TargetsArgs) -> anyhow::Result<ExitCode> {
    let view = args.view.view();
    let mut api = super::connect(env)?;
    let api = &mut api;
    match args.action {
        TargetsAction::List(a) => {
            let mut query = a.filters.query(api).await?;
            query.extend(a.limit.map(|l| ("limit", l.to_string())));
            query.extend(a.offset.map(|o| ("offset", o.to_string())));
            let page: Value = api
                .get(&["api", "v1", "targets"], &query)
                .await
                .context("listing targets")?;
            view.render(&page, table)?;
        }
        TargetsAction::Show { target } => {
            let t = get(api, &target).await?;
            view.render(&t, show)?;
        }
        TargetsAction::Create(a) => {
            let mut body = a.fields.apply(api, serde_json::Map::new()).await?;
            if let Some(n) = &a.name {
                body["name"] = json!(n);
            }
            let name = body["name"].as_str().unwrap_or_default().to_owned();
            if name.is_empty() {
                bail!("a target needs a name: --name, or `name` in the file");
            }
            let created: Value = api
                .send(Method::POST, &["api", "v1", "targets"], &body)
                .await
                .with_context(|| format!("creating target {}", sanitize(&name)))?;
            view.done(
                &created,
                &format!(
                    "Created target {name} ({}).",
                    created["id"].as_str().unwrap_or("?")
                ),
            )?;
        }
        TargetsAction::Update(a) => {
            let current = get(api, &a.target).await?;
            let id = current["id"].as_str().unwrap_or_default().to_owned();
            let base = doc::editable(&current, &["host_key", "last_test"]);
            let mut body = a.fields.apply(api, base).await?;
            if let Some(n) = &a.rename {
                body["name"] = json!(n);
            }
            if a.rename.is_none() && !a.fields.any() && a.fields.file.is_none() {
                bail!("nothing to change: give the fields to set, or -f FILE");
            }
            let saved: Value = api
                .send(Method::PUT, &["api", "v1", "targets", &id], &body)
                .await
                .with_context(|| format!("updating target {}", sanitize(&a.target)))?;
            let name = saved["name"].as_str().unwrap_or_default().to_owned();
            view.done(&saved, &format!("Updated target {name}."))?;
        }
        TargetsAction::Delete { target } => {
            let id = resolve::id(api, Kind::Target, &target).await?;
            api.delete(&["api", "v1", "targets", &id])
                .await
                .with_context(|| format!("deleting target {}", sanitize(&target)))?;
            view.done(&json!({"id": id}), &format!("Deleted target {target}."))?;
        }
        TargetsAction::Import { file } => import(api, view, &file).await?,
        TargetsAction::Export(a) => export(api, &a).await?,
        TargetsAction::Test { target, protocol } => {
            return probe::test(api, view, &target, protocol).await;
        }
        TargetsAction::ApproveKey(a) => probe::approve(api, view, &a).await?,
        TargetsAction::Ping(a) => return probe::ping(api, view, &a).await,
    }
    Ok(ExitCode::SUCCESS)
}

/// The target named `key`, as the api shows it.
pub async fn get(api: &mut ApiClient, key: &str) -> anyhow::Result<Value> {
    let id = resolve::id(api, Kind::Target, key).await?;
    api.get(&["api", "v1", "targets", &id], &[])
        .await
        .with_context(|| format!("getting target {}", sanitize(key)))
}

/// The protocols a target is reached by, e.g. `ssh:22`.
fn access(t: &Value) -> String {
    let mut out = Vec::new();
    if t["ssh"].is_object() {
        out.push(format!("ssh:{}", t["ssh"]["port"].as_u64().unwrap_or(22)));
    }
    if t["winrm"].is_object() {
        out.push(format!(
            "winrm:{}",
            t["winrm"]["scheme"].as_str().unwrap_or("https")
        ));
    }
    if t["http"].is_object() {
        out.push("http".to_owned());
    }
    if out.is_empty() {
        "-".to_owned()
    } else {
        out.join(",")
    }
}

/// The last connection test in words.
fn last_test(t: &Value) -> String {
    let test = &t["last_test"];
    let at = test["tested_at"].as_str().unwrap_or_default();
    let said = match test["ok"].as_bool() {
        Some(true) => format!("ok {at}"),
        Some(false) => format!("failed ({}) {at}", test["stage"].as_str().unwrap_or("?")),
        None => "never".to_owned(),
    };
    said.trim_end().to_owned()
}

fn words(list: &Value) -> String {
    let items: Vec<&str> = list
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if items.is_empty() {
        "-".to_owned()
    } else {
        items.join(",")
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A page of targets as a table.
pub fn table(page: &Value) -> String {
    let mut t = Table::new(&[
        "NAME",
        "HOSTNAME",
        "OS",
        "POOL",
        "ACCESS",
        "TAGS",
        "ENABLED",
        "LAST TEST",
    ]);
    for i in page["items"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        t.row(vec![
            text(&i["name"]),
            text(&i["hostname"]),
            text(&i["os_type"]),
            text(&i["pool"]),
            access(i),
            words(&i["tags"]),
            yes_no(i["enabled"].as_bool().unwrap_or(true)),
            last_test(i),
        ]);
    }
    let mut out = t.render();
    let (shown, total) = (
        page["items"].as_array().map_or(0, Vec::len),
        page["total"].as_u64(),
    );
    if let Some(total) = total.filter(|t| *t > shown as u64) {
        let from = page["offset"].as_u64().unwrap_or(0);
        out.push_str(&format!(
            "({shown} of {total} from {from}: --offset for more)\n"
        ));
    }
    out
}

/// One target as `key: value` lines.
fn show(t: &Value) -> String {
    let key = &t["host_key"];
    let fp = |k: &Value| or_dash(k["fingerprint"].as_str());
    let mut pairs = vec![
        ("id", text(&t["id"])),
        ("name", text(&t["name"])),
        ("hostname", text(&t["hostname"])),
        ("os", text(&t["os_type"])),
        ("pool", text(&t["pool"])),
        ("enabled", yes_no(t["enabled"].as_bool().unwrap_or(true))),
        ("tags", words(&t["tags"])),
        ("access", access(t)),
    ];
    if t["ssh"].is_object() {
        let s = &t["ssh"];
        pairs.push(("ssh credential", text(&s["credential_id"])));
        pairs.push(("host-key policy", text(&s["host_key_policy"])));
    }
    if t["winrm"].is_object() {
        pairs.push(("winrm credential", text(&t["winrm"]["credential_id"])));
    }
    if t["http"].is_object() {
        pairs.push(("http base url", text(&t["http"]["base_url"])));
    }
    pairs.push(("host key", fp(&key["pinned"])));
    if key["pending"].is_object() {
        pairs.push((
            "pending key",
            format!("{} (approve: targets approve-key)", fp(&key["pending"])),
        ));
    }
    pairs.push(("last test", last_test(t)));
    if let Some(meta) = t["metadata"].as_object().filter(|m| !m.is_empty()) {
        let m: Vec<String> = meta
            .iter()
            .map(|(k, v)| format!("{k}={}", text(v)))
            .collect();
        pairs.push(("metadata", m.join(", ")));
    }
    pairs.push(("created", text(&t["created_at"])));
    pairs.push(("updated", text(&t["updated_at"])));
    details(&pairs)
}

/// `targets import FILE`: the file as CSV or as a JSON array; each bad row
/// on standard error.
async fn import(api: &mut ApiClient, view: View, file: &std::path::Path) -> anyhow::Result<()> {
    let content = doc::read_text(file)?;
    let csv = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let body = if csv {
        content.into_bytes()
    } else {
        serde_json::to_vec(
            &doc::parse(&content).with_context(|| format!("reading {}", file.display()))?,
        )?
    };
    let content_type = if csv { "text/csv" } else { "application/json" };
    let response = api
        .raw(RawRequest {
            method: &Method::POST,
            path: &["api", "v1", "targets", "import"],
            query: &[],
            body: Some((content_type, body.as_slice())),
            headers: &[],
        })
        .await
        .context("importing targets")?;
    let status = response.status();
    let bytes = response.bytes().await.context("reading the api's answer")?;
    if !status.is_success() {
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        for e in answer["errors"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            eprintln!(
                "row {}: {}: {}",
                text(&e["row"]),
                sanitize(&text(&e["field"])),
                sanitize(&text(&e["message"]))
            );
        }
        let problem = Problem::from_parts(status, None, &bytes);
        bail!(
            "importing targets from {}: {problem} (nothing was imported)",
            file.display()
        );
    }
    let done: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let n = done["imported"].as_u64().unwrap_or(0);
    view.done(&done, &format!("Imported {n} targets."))?;
    Ok(())
}

/// `targets export`: the api's file, as it sent it.
async fn export(api: &mut ApiClient, a: &ExportArgs) -> anyhow::Result<()> {
    let mut query = a.filters.query(api).await?;
    let format = if matches!(a.format, FileFormat::Csv) {
        "csv"
    } else {
        "json"
    };
    query.push(("format", format.to_owned()));
    let response = api
        .raw(RawRequest {
            method: &Method::GET,
            path: &["api", "v1", "targets", "export"],
            query: &query,
            body: None,
            headers: &[],
        })
        .await
        .context("exporting targets")?;
    let status = response.status();
    let bytes = response.bytes().await.context("reading the export")?;
    if !status.is_success() {
        bail!(
            "exporting targets: {}",
            Problem::from_parts(status, None, &bytes)
        );
    }
    match &a.out {
        Some(path) => {
            std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
        }
        None => super::output::print(&String::from_utf8_lossy(&bytes))?,
    }
    Ok(())
}
