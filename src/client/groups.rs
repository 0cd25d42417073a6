//! `opsconductor groups`: target groups, with static members and a
//! selector (tags, operating system); `members` shows who is in one now and
//! `test` tests the connection to each member.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::ClientEnv;
use super::http::ApiClient;
use super::output::{Table, View, ViewArgs, details, sanitize};
use super::resolve::{self, Kind};
use super::targets::{self, doc, edit::Os};

/// `groups` arguments.
#[derive(Debug, Args)]
pub struct GroupsArgs {
    #[command(flatten)]
    pub view: ViewArgs,
    #[command(subcommand)]
    pub action: GroupsAction,
}

/// What to do with target groups.
#[derive(Debug, Subcommand)]
pub enum GroupsAction {
    /// List target groups.
    List {
        /// Most groups to show (1 to 500, default 50).
        #[arg(long)]
        limit: Option<u32>,
        /// Groups to skip, for the next page.
        #[arg(long)]
        offset: Option<u32>,
    },
    /// Show one group and its current members.
    Show {
        /// The group: id or exact name.
        group: String,
    },
    /// Create a group from flags, or from a file (`-f group.yaml`).
    Create(CreateArgs),
    /// Change a group: the flags given change, the rest stays.
    Update(UpdateArgs),
    /// Delete a group (its targets stay).
    Delete {
        /// The group: id or exact name.
        group: String,
    },
    /// The group's current members: static ones and those its selector matches.
    Members {
        /// The group: id or exact name.
        group: String,
    },
    /// Test the connection to every member (exit 1 when any failed).
    Test {
        /// The group: id or exact name.
        group: String,
    },
}

/// The fields flags set.
#[derive(Debug, Args)]
pub struct GroupFields {
    /// The whole document from a file (JSON or YAML, `-` for standard
    /// input); flags given as well override its fields.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Free text.
    #[arg(long)]
    pub description: Option<String>,
    /// A static member: target id or exact name (repeatable; replaces the members).
    #[arg(long = "member", value_name = "TARGET")]
    pub members: Vec<String>,
    /// Selector: targets with every one of these tags (repeatable; replaces them).
    #[arg(long = "selector-tag", value_name = "TAG")]
    pub selector_tags: Vec<String>,
    /// Selector: targets of this operating system family.
    #[arg(long, value_enum)]
    pub selector_os: Option<Os>,
}

/// `groups create` arguments.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The name (or the file's `name`).
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub fields: GroupFields,
}

/// `groups update` arguments.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The group: id or exact name.
    pub group: String,
    /// A new name.
    #[arg(long)]
    pub rename: Option<String>,
    /// Add a static member: target id or exact name (repeatable).
    #[arg(long = "add-member", value_name = "TARGET")]
    pub add: Vec<String>,
    /// Remove a static member: target id or exact name (repeatable).
    #[arg(long = "remove-member", value_name = "TARGET")]
    pub remove: Vec<String>,
    /// Drop the selector: only static members remain.
    #[arg(long, conflicts_with_all = ["selector_tags", "selector_os"])]
    pub no_selector: bool,
    #[command(flatten)]
    pub fields: GroupFields,
}

impl GroupFields {
    /// `base` with these fields set over it.
    async fn apply(
        &self,
        api: &mut ApiClient,
        base: Map<String, Value>,
    ) -> anyhow::Result<Map<String, Value>> {
        let mut doc = match &self.file {
            Some(path) => match doc::read(path)? {
                Value::Object(m) => m,
                _ => bail!("{}: a group document is a mapping", path.display()),
            },
            None => base,
        };
        if let Some(d) = &self.description {
            doc.insert("description".into(), json!(d));
        }
        if !self.members.is_empty() {
            let mut ids = Vec::new();
            for m in &self.members {
                ids.push(resolve::id(api, Kind::Target, m).await?);
            }
            doc.insert("members".into(), json!(ids));
        }
        if !self.selector_tags.is_empty() || self.selector_os.is_some() {
            let mut sel = doc
                .get("selector")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            if !self.selector_tags.is_empty() {
                sel.insert("tags".into(), json!(self.selector_tags));
            }
            if let Some(os) = self.selector_os {
                sel.insert("os_type".into(), json!(os.as_str()));
            }
            doc.insert("selector".into(), Value::Object(sel));
        }
        Ok(doc)
    }
}

/// Runs a `groups` command; exit 1 when a member's test failed.
pub async fn run(env: &ClientEnv, args: GroupsArgs) -> anyhow::Result<ExitCode> {
    let view = args.view.view();
    let mut api = super::connect(env)?;
    let api = &mut api;
    match args.action {
        GroupsAction::List { limit, offset } => {
            let mut q = Vec::new();
            q.extend(limit.map(|l| ("limit", l.to_string())));
            q.extend(offset.map(|o| ("offset", o.to_string())));
            let page: Value = api
                .get(&["api", "v1", "target-groups"], &q)
                .await
                .context("listing target groups")?;
            view.render(&page, table)?;
        }
        GroupsAction::Show { group } => {
            let (mut shown, members) = get(api, &group).await?;
            shown["current_members"] = members["items"].clone();
            view.render(&shown, show)?;
        }
        GroupsAction::Create(a) => {
            let mut body = a.fields.apply(api, Map::new()).await?;
            if let Some(n) = &a.name {
                body.insert("name".into(), json!(n));
            }
            let name = body
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if name.is_empty() {
                bail!("a group needs a name: --name, or `name` in the file");
            }
            let created: Value = api
                .send(
                    Method::POST,
                    &["api", "v1", "target-groups"],
                    &Value::Object(body),
                )
                .await
                .with_context(|| format!("creating target group {}", sanitize(&name)))?;
            let id = created["id"].as_str().unwrap_or("?");
            view.done(&created, &format!("Created target group {name} ({id})."))?;
        }
        GroupsAction::Update(a) => update(api, view, a).await?,
        GroupsAction::Delete { group } => {
            let id = resolve::id(api, Kind::Group, &group).await?;
            api.delete(&["api", "v1", "target-groups", &id])
                .await
                .with_context(|| format!("deleting target group {}", sanitize(&group)))?;
            view.done(
                &json!({"id": id}),
                &format!("Deleted target group {group}."),
            )?;
        }
        GroupsAction::Members { group } => {
            let (_, members) = get(api, &group).await?;
            view.render(&members, targets::table)?;
        }
        GroupsAction::Test { group } => return test(api, view, &group).await,
    }
    Ok(ExitCode::SUCCESS)
}

/// The group named `key` and its current members (`{"items": [...]}`).
async fn get(api: &mut ApiClient, key: &str) -> anyhow::Result<(Value, Value)> {
    let id = resolve::id(api, Kind::Group, key).await?;
    let what = || format!("getting target group {}", sanitize(key));
    let group: Value = api
        .get(&["api", "v1", "target-groups", &id], &[])
        .await
        .with_context(what)?;
    let members: Value = api
        .get(&["api", "v1", "target-groups", &id, "targets"], &[])
        .await
        .with_context(what)?;
    Ok((group, members))
}

async fn update(api: &mut ApiClient, view: View, a: UpdateArgs) -> anyhow::Result<()> {
    let id = resolve::id(api, Kind::Group, &a.group).await?;
    let current: Value = api
        .get(&["api", "v1", "target-groups", &id], &[])
        .await
        .with_context(|| format!("getting target group {}", sanitize(&a.group)))?;
    let mut body = a.fields.apply(api, doc::editable(&current, &[])).await?;
    if let Some(n) = &a.rename {
        body.insert("name".into(), json!(n));
    }
    let mut members: Vec<String> = body
        .get("members")
        .and_then(Value::as_array)
        .map(|m| {
            m.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    for m in &a.add {
        let mid = resolve::id(api, Kind::Target, m).await?;
        if !members.contains(&mid) {
            members.push(mid);
        }
    }
    for m in &a.remove {
        let mid = resolve::id(api, Kind::Target, m).await?;
        members.retain(|x| *x != mid);
    }
    body.insert("members".into(), json!(members));
    if a.no_selector {
        body.insert("selector".into(), Value::Null);
    }
    let saved: Value = api
        .send(
            Method::PUT,
            &["api", "v1", "target-groups", &id],
            &Value::Object(body),
        )
        .await
        .with_context(|| format!("updating target group {}", sanitize(&a.group)))?;
    let name = saved["name"].as_str().unwrap_or_default().to_owned();
    view.done(&saved, &format!("Updated target group {name}."))?;
    Ok(())
}

/// `groups test`: the api tests every member at once; one line each.
async fn test(api: &mut ApiClient, view: View, group: &str) -> anyhow::Result<ExitCode> {
    let id = resolve::id(api, Kind::Group, group).await?;
    let out: Value = api
        .send(
            Method::POST,
            &["api", "v1", "target-groups", &id, "test"],
            &json!({}),
        )
        .await
        .with_context(|| format!("testing target group {}", sanitize(group)))?;
    let failed = out["failed"].as_u64().unwrap_or(0);
    view.render(&out, |o| {
        let mut text = String::new();
        for r in o["results"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let name = r["name"].as_str().unwrap_or("?");
            let outcome = if r["outcome"].is_object() {
                r["outcome"].clone()
            } else {
                json!({"ok": false, "stage": "not run", "error": r["problem"]})
            };
            text.push_str(&sanitize(&targets::probe::line(name, &outcome)));
            text.push('\n');
        }
        text
    })?;
    if view.format == super::output::OutputFormat::Table && !view.quiet {
        eprintln!(
            "{} targets: {} ok, {failed} failed",
            out["total"].as_u64().unwrap_or(0),
            out["succeeded"].as_u64().unwrap_or(0)
        );
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn selector(g: &Value) -> String {
    let s = &g["selector"];
    let mut parts: Vec<String> = s["tags"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .map(|t| format!("tag:{t}"))
                .collect()
        })
        .unwrap_or_default();
    if let Some(os) = s["os_type"].as_str() {
        parts.push(format!("os:{os}"));
    }
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join(" ")
    }
}

/// A page of groups as a table.
fn table(page: &Value) -> String {
    let mut t = Table::new(&["NAME", "STATIC MEMBERS", "SELECTOR", "DESCRIPTION"]);
    for g in page["items"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        t.row(vec![
            g["name"].as_str().unwrap_or_default().to_owned(),
            g["members"].as_array().map_or(0, Vec::len).to_string(),
            selector(g),
            g["description"].as_str().unwrap_or_default().to_owned(),
        ]);
    }
    t.render()
}

/// One group with its current members.
fn show(g: &Value) -> String {
    let names: Vec<&str> = g["current_members"]
        .as_array()
        .map(|m| m.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    details(&[
        ("id", g["id"].as_str().unwrap_or_default().to_owned()),
        ("name", g["name"].as_str().unwrap_or_default().to_owned()),
        (
            "description",
            g["description"].as_str().unwrap_or_default().to_owned(),
        ),
        (
            "static members",
            g["members"].as_array().map_or(0, Vec::len).to_string(),
        ),
        ("selector", selector(g)),
        (
            "members now",
            format!("{} ({})", names.len(), names.join(", ")),
        ),
        (
            "created",
            g["created_at"].as_str().unwrap_or_default().to_owned(),
        ),
        (
            "updated",
            g["updated_at"].as_str().unwrap_or_default().to_owned(),
        ),
    ])
}
