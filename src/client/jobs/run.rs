//! `opsconductor jobs run`: start a job, optionally following it.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Args;
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::find as resolve;
use crate::client::http::ApiClient;
use crate::client::output::{self, OutputFormat, ViewArgs};

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

/// Starts the run: prints its id (`-o json|yaml`: the api's answer), or
/// with `--follow` its output, and exits as it ended.
pub async fn run(api: &mut ApiClient, out: ViewArgs, a: RunArgs) -> anyhow::Result<ExitCode> {
    let job = resolve::job(api, &a.job).await?;
    let body = run_body(api, &a, &job["definition"]["parameters"]).await?;
    let job_id = job["id"].as_str().unwrap_or_default().to_owned();
    let accepted: Value = api
        .send(Method::POST, &["api", "v1", "jobs", &job_id, "run"], &body)
        .await
        .context("starting the run")?;
    let run_id = accepted["run_id"].as_str().unwrap_or_default().to_owned();
    if run_id.is_empty() {
        bail!("the api accepted the run but named none");
    }
    started(out, &accepted, &run_id, a.follow)?;
    if a.follow {
        return crate::client::follow::follow(api, &run_id, follow_format(out)).await;
    }
    Ok(ExitCode::SUCCESS)
}

/// How a followed run is shown: a table unless `-o` asks for data.
pub fn follow_format(out: ViewArgs) -> OutputFormat {
    out.output.unwrap_or(OutputFormat::Table)
}

/// What starting a run prints: only its id (so `RUN=$(opsconductor jobs run
/// x)` works), or with an explicit `-o json|yaml` the api's answer; when
/// following, a first line for people (nothing in data formats).
pub fn started(out: ViewArgs, accepted: &Value, run_id: &str, follow: bool) -> anyhow::Result<()> {
    let id = output::sanitize(run_id);
    let data = out.output.filter(|f| f.is_data()).filter(|_| !out.quiet);
    match (data, follow) {
        (None, false) => output::print(&format!("{id}\n"))?,
        (None, true) => output::print(&format!("Run {id} accepted.\n"))?,
        (Some(f), false) => output::View::new(f).render(accepted, |_| String::new())?,
        (Some(_), true) => {}
    }
    Ok(())
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
            targets.push(resolve::target(api, t).await?);
        }
        let mut groups = Vec::new();
        for g in &a.groups {
            groups.push(resolve::group(api, g).await?);
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
}
