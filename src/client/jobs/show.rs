//! `jobs list`, `jobs show`, `jobs versions`: what the api shows of jobs,
//! as tables and details, or its JSON.

use anyhow::Context as _;
use serde_json::Value;

use super::find;
use crate::client::http::ApiClient;
use crate::client::output::{self, Table, View};

/// Prints `value` as `view` asks: `table()` for people, its ids with `-q`,
/// else the api's data as JSON or YAML.
pub(crate) fn emit(
    view: View,
    value: &Value,
    table: impl FnOnce() -> String,
) -> anyhow::Result<()> {
    Ok(view.render(value, |_| table())?)
}

/// The text of `v[key]`, or `-`.
pub(crate) fn text(v: &Value, key: &str) -> String {
    output::or_dash(v.get(key).and_then(Value::as_str))
}

/// A timestamp shortened to the second (`2026-12-02 03:04:05`).
pub(crate) fn when(v: &Value, key: &str) -> String {
    match v.get(key).and_then(Value::as_str) {
        Some(t) => t.get(..19).unwrap_or(t).replace('T', " "),
        None => "-".to_owned(),
    }
}

fn owner(job: &Value) -> String {
    output::or_dash(job["owner"]["username"].as_str())
}

/// `jobs list`.
pub async fn list(
    api: &mut ApiClient,
    out: View,
    name: Option<String>,
    active: Option<bool>,
    limit: u64,
) -> anyhow::Result<()> {
    let mut query = vec![("limit", limit.clamp(1, 500).to_string())];
    if let Some(n) = name {
        query.push(("name", n));
    }
    if let Some(a) = active {
        query.push(("active", a.to_string()));
    }
    let page: Value = api
        .get(&["api", "v1", "jobs"], &query)
        .await
        .context("listing jobs")?;
    let items = page["items"].as_array().cloned().unwrap_or_default();
    emit(out, &page, || {
        let mut t = Table::new(&["ID", "NAME", "VERSION", "ACTIVE", "OWNER", "DESCRIPTION"]);
        for j in &items {
            t.row(vec![
                text(j, "id"),
                text(j, "name"),
                j["current_version"].as_i64().unwrap_or(0).to_string(),
                output::yes_no(j["active"].as_bool().unwrap_or(false)),
                owner(j),
                j["description"].as_str().unwrap_or_default().to_owned(),
            ]);
        }
        let mut text = t.render();
        let total = page["total"].as_u64().unwrap_or(0);
        if total > items.len() as u64 {
            text.push_str(&format!(
                "({} of {total} shown; --limit for more)\n",
                items.len()
            ));
        }
        text
    })
}

/// What a target selection names, in words.
fn selection(sel: &Value) -> String {
    let count = |key: &str| sel[key].as_array().map_or(0, Vec::len);
    let mut parts = Vec::new();
    if count("targets") > 0 {
        parts.push(format!("{} target(s)", count("targets")));
    }
    if count("groups") > 0 {
        parts.push(format!("{} group(s)", count("groups")));
    }
    if let Some(tags) = sel["tags"].as_array().filter(|t| !t.is_empty()) {
        let tags: Vec<&str> = tags.iter().filter_map(Value::as_str).collect();
        parts.push(format!("tags {}", tags.join(",")));
    }
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join(", ")
    }
}

/// `jobs show`.
pub async fn show(api: &mut ApiClient, out: View, key: &str) -> anyhow::Result<()> {
    let job = find::job(api, key).await?;
    emit(out, &job, || details(&job))
}

fn details(job: &Value) -> String {
    let def = &job["definition"];
    let mut pairs = vec![
        ("id", text(job, "id")),
        ("name", text(job, "name")),
        ("description", text(def, "description")),
        (
            "version",
            job["current_version"].as_i64().unwrap_or(0).to_string(),
        ),
        (
            "active",
            output::yes_no(job["active"].as_bool().unwrap_or(false)),
        ),
        ("owner", owner(job)),
        ("targets", selection(&def["targets"])),
        ("pool", output::or_dash(def["pool"].as_str())),
        ("updated", when(job, "updated_at")),
    ];
    if let Some(c) = job.get("concurrency").filter(|c| c.is_object()) {
        pairs.push((
            "concurrency",
            format!(
                "{} running, {} waiting, max {} ({})",
                c["running"].as_u64().unwrap_or(0),
                c["waiting"].as_u64().unwrap_or(0),
                c["max"].as_u64().unwrap_or(0),
                c["policy"].as_str().unwrap_or("?")
            ),
        ));
    }
    let mut text = output::details(&pairs);
    if let Some(params) = def["parameters"].as_object().filter(|p| !p.is_empty()) {
        text.push_str("\nParameters:\n");
        let mut t = Table::new(&["NAME", "TYPE", "REQUIRED", "DEFAULT"]);
        for (name, p) in params {
            let default = match p.get("default") {
                None | Some(Value::Null) => "-".to_owned(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            t.row(vec![
                name.clone(),
                self::text(p, "type"),
                output::yes_no(p["required"].as_bool().unwrap_or(false)),
                default,
            ]);
        }
        text.push_str(&t.render());
    }
    text.push_str("\nSteps:\n");
    let mut t = Table::new(&["ID", "TYPE", "NAME"]);
    for s in def["steps"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        t.row(vec![
            self::text(s, "id"),
            self::text(s, "type"),
            self::text(s, "name"),
        ]);
    }
    text.push_str(&t.render());
    text
}

/// `jobs versions`.
pub async fn versions(api: &mut ApiClient, out: View, key: &str) -> anyhow::Result<()> {
    let id = find::job_id(api, key).await?;
    let page: Value = api
        .get(
            &["api", "v1", "jobs", &id, "versions"],
            &[("limit", "500".to_owned())],
        )
        .await
        .context("listing the job's versions")?;
    let items = page["items"].as_array().cloned().unwrap_or_default();
    let users = user_names(api).await;
    emit(out, &page, || {
        let mut t = Table::new(&["VERSION", "SAVED", "BY"]);
        for v in &items {
            let by = v["created_by"].as_str().map_or_else(
                || "-".to_owned(),
                |id| {
                    users
                        .iter()
                        .find(|(uid, _)| uid == id)
                        .map_or_else(|| id.to_owned(), |(_, name)| name.clone())
                },
            );
            t.row(vec![
                v["version"].as_i64().unwrap_or(0).to_string(),
                when(v, "created_at"),
                by,
            ]);
        }
        t.render()
    })
}

/// User names by id, when the caller may list users (admins); else none.
async fn user_names(api: &mut ApiClient) -> Vec<(String, String)> {
    let page: Value = match api
        .get(&["api", "v1", "users"], &[("limit", "500".to_owned())])
        .await
    {
        Ok(p) => p,
        Err(_) => return Vec::new(),
    };
    page["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter_map(|u| {
            Some((
                u["id"].as_str()?.to_owned(),
                u["username"].as_str()?.to_owned(),
            ))
        })
        .collect()
}
