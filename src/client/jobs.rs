//! `opsconductor jobs run`: start a job, optionally following it.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::ClientEnv;
use super::http::ApiClient;
use super::output::{self, OutputArgs, OutputFormat};

/// `jobs` arguments.
#[derive(Debug, Args)]
pub struct JobsArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(subcommand)]
    pub action: JobsAction,
}

/// What to do with jobs.
#[derive(Debug, Subcommand)]
pub enum JobsAction {
    /// Run a job (operators): prints the run's id, or with --follow its
    /// output until it ends.
    Run(RunArgs),
}

/// `jobs run` arguments.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The job: its id or its exact name.
    pub job: String,
    /// A parameter, `NAME=VALUE` (repeatable). Values of `int`, `bool` and
    /// `multi_select` parameters are converted as the job declares them
    /// (multi_select: comma-separated). Values on a command line are visible
    /// to other local users; avoid passing secrets this way on shared hosts.
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Run on this target instead of the job's targets: id or exact name (repeatable).
    #[arg(long = "target", value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Run on the members of this target group: id or exact name (repeatable).
    #[arg(long = "group", value_name = "GROUP")]
    pub groups: Vec<String>,
    /// Run on the targets carrying this tag (repeatable; all must match).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Follow the run's output until it ends and exit with its status, as
    /// `runs follow` does (0 succeeded, 1 failed, 130 cancelled).
    #[arg(long, short = 'f')]
    pub follow: bool,
}

/// Runs a `jobs` command.
pub async fn run(env: &ClientEnv, args: JobsArgs) -> anyhow::Result<ExitCode> {
    let format = args.output.format;
    match args.action {
        JobsAction::Run(a) => {
            let mut api = super::connect(env)?;
            let job = find_job(&mut api, a.job.trim()).await?;
            let body = run_body(&mut api, &a, &job["definition"]["parameters"]).await?;
            let job_id = job["id"].as_str().unwrap_or_default().to_owned();
            let accepted: Value = api
                .send(Method::POST, &["api", "v1", "jobs", &job_id, "run"], &body)
                .await
                .context("starting the run")?;
            let run_id = accepted["run_id"].as_str().unwrap_or_default().to_owned();
            if run_id.is_empty() {
                bail!("the api accepted the run but named none");
            }
            match (format, a.follow) {
                (OutputFormat::Json, false) => output::print(&output::json(&accepted))?,
                (OutputFormat::Table, false) => output::print(&format!(
                    "Run {} accepted. Follow it: opsconductor runs follow {0}\n",
                    output::sanitize(&run_id)
                ))?,
                (OutputFormat::Table, true) => {
                    output::print(&format!("Run {} accepted.\n", output::sanitize(&run_id)))?;
                }
                (OutputFormat::Json, true) => {}
            }
            if a.follow {
                return super::follow::follow(&mut api, &run_id, format).await;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.chars().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// Finds an item of a list by id, or by exact name (one page of up to 500).
async fn find_by_name(
    api: &mut ApiClient,
    collection: &str,
    what: &str,
    key: &str,
) -> anyhow::Result<Value> {
    let mut query = vec![("limit", "500".to_owned())];
    if collection != "target-groups" {
        query.push(("name", key.to_owned()));
    }
    let page: Value = api
        .get(&["api", "v1", collection], &query)
        .await
        .with_context(|| format!("looking up {what} {}", output::sanitize(key)))?;
    page["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["name"] == key))
        .cloned()
        .with_context(|| format!("no {what} is named {}", output::sanitize(key)))
}

/// The job (with its current definition), by id or exact name.
async fn find_job(api: &mut ApiClient, key: &str) -> anyhow::Result<Value> {
    let id = if is_uuid(key) {
        key.to_owned()
    } else {
        let found = find_by_name(api, "jobs", "job", key).await?;
        found["id"].as_str().unwrap_or_default().to_owned()
    };
    api.get(&["api", "v1", "jobs", &id], &[])
        .await
        .context("getting the job")
}

/// An id as given, or the id of the item of that exact name.
async fn resolve(
    api: &mut ApiClient,
    collection: &str,
    what: &str,
    key: &str,
) -> anyhow::Result<String> {
    if is_uuid(key) {
        return Ok(key.to_owned());
    }
    let found = find_by_name(api, collection, what, key).await?;
    Ok(found["id"].as_str().unwrap_or_default().to_owned())
}

/// `{"parameters": …, "targets": …}` for `POST /api/v1/jobs/{id}/run`.
async fn run_body(api: &mut ApiClient, a: &RunArgs, declared: &Value) -> anyhow::Result<Value> {
    let mut parameters = Map::new();
    for pair in &a.params {
        let (name, value) = parse_param(pair, declared)?;
        parameters.insert(name, value);
    }
    let mut body = json!({ "parameters": parameters });
    if !(a.targets.is_empty() && a.groups.is_empty() && a.tags.is_empty()) {
        let mut targets = Vec::new();
        for t in &a.targets {
            targets.push(resolve(api, "targets", "target", t.trim()).await?);
        }
        let mut groups = Vec::new();
        for g in &a.groups {
            groups.push(resolve(api, "target-groups", "target group", g.trim()).await?);
        }
        body["targets"] = json!({ "targets": targets, "groups": groups, "tags": a.tags });
    }
    Ok(body)
}

/// `NAME=VALUE` as the job declares the parameter.
fn parse_param(pair: &str, declared: &Value) -> anyhow::Result<(String, Value)> {
    let Some((name, raw)) = pair.split_once('=') else {
        bail!("--param {}: expected NAME=VALUE", output::sanitize(pair));
    };
    let name = name.trim().to_owned();
    if name.is_empty() {
        bail!("--param {}: the name is empty", output::sanitize(pair));
    }
    let kind = declared[&name]["type"].as_str().unwrap_or("string");
    let value = match kind {
        "int" => raw
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .with_context(|| format!("--param {name}: an int is expected"))?,
        "bool" => match raw.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => bail!("--param {name}: true or false is expected"),
        },
        "multi_select" => Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        ),
        _ => Value::String(raw.to_owned()),
    };
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn parse_all(pairs: &[&str], declared: &Value) -> anyhow::Result<BTreeMap<String, Value>> {
        pairs.iter().map(|p| parse_param(p, declared)).collect()
    }

    #[test]
    fn values_follow_the_declared_types() {
        let declared = json!({
            "n": {"type": "int"}, "on": {"type": "bool"},
            "many": {"type": "multi_select"}, "s": {"type": "string"}
        });
        let got = parse_all(
            &["n=42", "on=true", "many=a, b,", "s=x=1, y", "undeclared=7"],
            &declared,
        )
        .unwrap();
        assert_eq!(got["n"], json!(42));
        assert_eq!(got["on"], json!(true));
        assert_eq!(got["many"], json!(["a", "b"]));
        assert_eq!(got["s"], json!("x=1, y"));
        assert_eq!(
            got["undeclared"],
            json!("7"),
            "the api judges unknown names"
        );
    }

    #[test]
    fn malformed_parameters_are_refused_before_any_request() {
        let declared = json!({"n": {"type": "int"}, "on": {"type": "bool"}});
        for bad in ["novalue", "=x", "n=4.5", "on=yes"] {
            assert!(parse_param(bad, &declared).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_are_told_from_names() {
        assert!(is_uuid("0190f0c2-8e4b-7c3a-9d2e-1f2a3b4c5d6e"));
        assert!(!is_uuid("deploy"));
        assert!(!is_uuid("0190f0c2-8e4b-7c3a-9d2e-1f2a3b4c5d6"));
    }
}
