//! `opsconductor audit`: search the audit trail, and export it (admins).

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand, ValueEnum};
use reqwest::Method;
use serde_json::Value;

use super::ClientEnv;
use super::http::{ApiClient, Problem, RawRequest};
use super::output::{self, Table, ViewArgs, or_dash};

/// `audit` arguments.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub view: ViewArgs,
    #[command(subcommand)]
    pub action: AuditAction,
}

/// What to do with the audit trail.
#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Search the audit trail, newest first, one page at a time.
    List {
        #[command(flatten)]
        filters: Filters,
        /// Most records to show (1 to 1000, default 100).
        #[arg(long)]
        limit: Option<u32>,
        /// Records to skip, for the next page.
        #[arg(long)]
        offset: Option<u32>,
    },
    /// Export the records the filters match.
    Export {
        #[command(flatten)]
        filters: Filters,
        /// json (an array), jsonl (one record per line) or csv.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ExportFormat,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// Export formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// One JSON array.
    Json,
    /// JSON Lines: one record per line.
    Jsonl,
    /// CSV with a header row.
    Csv,
}

/// Filters the api supports.
#[derive(Debug, Args)]
pub struct Filters {
    /// Actor name (a username or token name).
    #[arg(long)]
    pub actor: Option<String>,
    /// Exact action, e.g. `target.create`.
    #[arg(long)]
    pub action: Option<String>,
    /// Entity type, e.g. `target`.
    #[arg(long)]
    pub entity_type: Option<String>,
    /// Entity id.
    #[arg(long)]
    pub entity_id: Option<String>,
    /// success, failure or denied.
    #[arg(long)]
    pub outcome: Option<String>,
    /// From (inclusive), RFC 3339, e.g. 2026-01-31T00:00:00Z.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Until (exclusive), RFC 3339.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

impl Filters {
    fn query(&self) -> Vec<(&'static str, String)> {
        [
            ("actor", &self.actor),
            ("action", &self.action),
            ("entity_type", &self.entity_type),
            ("entity_id", &self.entity_id),
            ("outcome", &self.outcome),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
        .collect()
    }
}

/// Runs an `audit` command.
pub async fn run(env: &ClientEnv, args: AuditArgs) -> anyhow::Result<()> {
    let view = args.view.view();
    let mut api = super::connect(env)?;
    match args.action {
        AuditAction::List {
            filters,
            limit,
            offset,
        } => {
            let mut q = filters.query();
            q.extend(limit.map(|l| ("limit", l.to_string())));
            q.extend(offset.map(|o| ("offset", o.to_string())));
            let page: Value = api
                .get(&["api", "v1", "audit"], &q)
                .await
                .context("searching the audit trail")?;
            view.render(&page, table)?;
        }
        AuditAction::Export {
            filters,
            format,
            out,
        } => {
            let text = export(&mut api, &filters, format).await?;
            match out {
                Some(path) => {
                    std::fs::write(&path, text)
                        .with_context(|| format!("writing {}", path.display()))?;
                }
                None => output::print(&text)?,
            }
        }
    }
    Ok(())
}

/// The export as text in `format`.
async fn export(
    api: &mut ApiClient,
    filters: &Filters,
    format: ExportFormat,
) -> anyhow::Result<String> {
    let mut q = filters.query();
    let asked = if matches!(format, ExportFormat::Csv) {
        "csv"
    } else {
        "json"
    };
    q.push(("format", asked.to_owned()));
    let response = api
        .raw(RawRequest {
            method: &Method::GET,
            path: &["api", "v1", "audit", "export"],
            query: &q,
            body: None,
            headers: &[],
        })
        .await
        .context("exporting the audit trail")?;
    let status = response.status();
    let bytes = response.bytes().await.context("reading the export")?;
    if !status.is_success() {
        bail!(
            "exporting the audit trail: {}",
            Problem::from_parts(status, None, &bytes)
        );
    }
    Ok(match format {
        ExportFormat::Csv | ExportFormat::Json => {
            let mut text = String::from_utf8_lossy(&bytes).into_owned();
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text
        }
        ExportFormat::Jsonl => {
            let all: Value =
                serde_json::from_slice(&bytes).context("unexpected export from the api")?;
            let items = all.as_array().or_else(|| all["items"].as_array());
            items
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .map(|r| format!("{r}\n"))
                .collect()
        }
    })
}

fn table(page: &Value) -> String {
    let mut t = Table::new(&["AT", "ACTOR", "ACTION", "ENTITY", "OUTCOME"]);
    for r in page["items"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let entity = match (r["entity_type"].as_str(), r["entity_id"].as_str()) {
            (Some(t), Some(i)) => format!("{t} {i}"),
            (Some(t), None) => t.to_owned(),
            _ => "-".to_owned(),
        };
        t.row(vec![
            r["at"].as_str().unwrap_or_default().to_owned(),
            or_dash(r["actor_name"].as_str().or(r["actor_kind"].as_str())),
            r["action"].as_str().unwrap_or_default().to_owned(),
            entity,
            r["outcome"].as_str().unwrap_or_default().to_owned(),
        ]);
    }
    t.render()
}
