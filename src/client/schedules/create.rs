//! `schedules create`: the request body from options, or from a JSON file,
//! with names resolved to ids and secret parameters added from files or
//! standard input.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use secrecy::ExposeSecret as _;
use serde_json::{Map, Value, json};

use super::params::{self, SecretSources};
use super::{Usage, resolve};
use crate::client::http::ApiClient;

/// `schedules create` arguments.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The whole body of `POST /api/v1/schedules` (JSON; `-` reads standard
    /// input) instead of the options below; --secret-param and
    /// --secret-param-file still add to its parameters.
    #[arg(long, value_name = "FILE", value_parser = json_path, conflicts_with_all = [
        "name", "job", "cron", "time_zone", "start", "end", "params", "targets", "groups",
        "tags", "disabled", "description", "gap", "overlap", "misfire", "misfire_max_age",
        "misfire_max_count",
    ])]
    pub file: Option<PathBuf>,
    /// The schedule's name.
    #[arg(long, required_unless_present = "file")]
    pub name: Option<String>,
    /// The job to run: its id or exact name.
    #[arg(long, required_unless_present = "file")]
    pub job: Option<String>,
    /// Cron expression, e.g. `0 3 * * *` or `*/15 * * * *`.
    #[arg(long, required_unless_present = "file")]
    pub cron: Option<String>,
    /// IANA time zone the expression is read in (the api's default: UTC).
    #[arg(long, value_name = "ZONE")]
    pub time_zone: Option<String>,
    /// No fire before this instant (RFC 3339).
    #[arg(long, value_name = "RFC3339", value_parser = rfc3339)]
    pub start: Option<String>,
    /// No fire after this instant (RFC 3339).
    #[arg(long, value_name = "RFC3339", value_parser = rfc3339)]
    pub end: Option<String>,
    /// A run parameter, `NAME=VALUE` (repeatable), converted as the job declares it.
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// A secret run parameter by name (repeatable): its value is asked for
    /// without echo on a terminal, else read from standard input, one line
    /// per --secret-param in the order given.
    #[arg(long = "secret-param", value_name = "NAME")]
    pub secret_params: Vec<String>,
    /// A secret run parameter whose value is the content of FILE (repeatable).
    #[arg(long = "secret-param-file", value_name = "NAME=FILE")]
    pub secret_files: Vec<String>,
    /// Run on this target instead of the job's: id or exact name (repeatable).
    #[arg(long = "target", value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Run on the members of this target group: id or exact name (repeatable).
    #[arg(long = "group", value_name = "GROUP")]
    pub groups: Vec<String>,
    /// Run on the targets carrying this tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Create it disabled: it does not fire until enabled.
    #[arg(long)]
    pub disabled: bool,
    /// What the schedule is for.
    #[arg(long)]
    pub description: Option<String>,
    /// A local time that does not exist (clocks go forward): shift it to the
    /// first valid instant, or skip it.
    #[arg(long, value_enum)]
    pub gap: Option<Gap>,
    /// A local time that happens twice (clocks go back): fire at the first,
    /// the second, or both.
    #[arg(long, value_enum)]
    pub overlap: Option<Overlap>,
    /// Fires missed while no scheduler ran: skip them, run once, or run each.
    #[arg(long, value_enum)]
    pub misfire: Option<Misfire>,
    /// Missed fires older than this many seconds are dropped.
    #[arg(long, value_name = "SECS")]
    pub misfire_max_age: Option<u64>,
    /// At most this many missed fires are caught up.
    #[arg(long, value_name = "N")]
    pub misfire_max_count: Option<u32>,
}

/// What to do in a spring-forward gap.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Gap {
    /// Fire at the first instant after the gap.
    Shift,
    /// Do not fire.
    Skip,
}

/// What to do in a fall-back overlap.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Overlap {
    /// At the first occurrence.
    First,
    /// At the second occurrence.
    Second,
    /// At both.
    Both,
}

/// What to do with fires missed while no scheduler ran.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Misfire {
    /// Drop them.
    Skip,
    /// Run once for all of them.
    #[value(name = "run_once")]
    RunOnce,
    /// Run each of them.
    #[value(name = "run_all")]
    RunAll,
}

/// A body file's path; YAML is refused here, before anything is read.
fn json_path(text: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    let yaml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
    if yaml {
        return Err("only JSON bodies are read; convert the YAML to JSON".into());
    }
    Ok(path)
}

fn rfc3339(text: &str) -> Result<String, String> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|_| text.trim().to_owned())
        .map_err(|e| format!("not an RFC 3339 instant (e.g. 2027-01-31T03:00:00Z): {e}"))
}

fn name_of<T: ValueEnum>(v: &T) -> Option<String> {
    v.to_possible_value().map(|p| p.get_name().to_owned())
}

/// The body of `POST /api/v1/schedules`.
pub async fn body(api: &mut ApiClient, a: &CreateArgs) -> anyhow::Result<Value> {
    let from_stdin = a.file.as_deref() == Some(Path::new("-"));
    if from_stdin && !a.secret_params.is_empty() {
        return Err(Usage(
            "--file - and --secret-param both read standard input: use --secret-param-file".into(),
        )
        .into());
    }
    let mut body = match &a.file {
        Some(path) => read_file(path)?,
        None => from_options(api, a).await?,
    };
    let secrets = params::read_secrets(SecretSources {
        stdin: &a.secret_params,
        files: &a.secret_files,
    })?;
    if !secrets.is_empty() {
        let parameters = body
            .as_object_mut()
            .context("the body is an object")?
            .entry("parameters")
            .or_insert_with(|| json!({}));
        let Some(parameters) = parameters.as_object_mut() else {
            return Err(Usage("the file's \"parameters\" is not an object".into()).into());
        };
        for (name, value) in secrets {
            parameters.insert(name, value.expose_secret().into());
        }
    }
    Ok(body)
}

fn read_file(path: &Path) -> anyhow::Result<Value> {
    let shown = path.display();
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the body from standard input")?;
    } else {
        text = std::fs::read_to_string(path)
            .map_err(|e| Usage(format!("cannot read {shown}: {e}")))?;
    }
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| Usage(format!("{shown} is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(Usage(format!("{shown}: the body must be a JSON object")).into());
    }
    Ok(value)
}

async fn from_options(api: &mut ApiClient, a: &CreateArgs) -> anyhow::Result<Value> {
    let job = resolve::job(api, a.job.as_deref().unwrap_or_default()).await?;
    let job_id = job["id"].as_str().context("the api's job has no id")?;
    let mut body = Map::new();
    let mut put = |key: &str, value: Value| {
        body.insert(key.to_owned(), value);
    };
    put("name", a.name.clone().unwrap_or_default().into());
    put("job_id", job_id.into());
    put("cron", a.cron.clone().unwrap_or_default().into());
    let optional = [
        ("description", &a.description),
        ("time_zone", &a.time_zone),
        ("start_at", &a.start),
        ("end_at", &a.end),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            put(key, v.clone().into());
        }
    }
    if a.disabled {
        put("enabled", false.into());
    }
    let parameters = params::parse_all(&a.params, &job["definition"]["parameters"])?;
    if !parameters.is_empty() {
        put("parameters", Value::Object(parameters));
    }
    let mut dst = Map::new();
    dst.extend(
        a.gap
            .as_ref()
            .and_then(name_of)
            .map(|g| ("gap".to_owned(), g.into())),
    );
    dst.extend(
        a.overlap
            .as_ref()
            .and_then(name_of)
            .map(|o| ("overlap".to_owned(), o.into())),
    );
    if !dst.is_empty() {
        put("dst", Value::Object(dst));
    }
    let mut misfire = Map::new();
    misfire.extend(
        a.misfire
            .as_ref()
            .and_then(name_of)
            .map(|m| ("mode".to_owned(), m.into())),
    );
    misfire.extend(
        a.misfire_max_age
            .map(|s| ("max_age_secs".to_owned(), s.into())),
    );
    misfire.extend(
        a.misfire_max_count
            .map(|n| ("max_count".to_owned(), n.into())),
    );
    if !misfire.is_empty() {
        put("misfire", Value::Object(misfire));
    }
    if !(a.targets.is_empty() && a.groups.is_empty() && a.tags.is_empty()) {
        let mut targets = Vec::new();
        for t in &a.targets {
            targets.push(resolve::target(api, t).await?);
        }
        let mut groups = Vec::new();
        for g in &a.groups {
            groups.push(resolve::group(api, g).await?);
        }
        body.insert(
            "targets".into(),
            json!({"targets": targets, "groups": groups, "tags": a.tags}),
        );
    }
    Ok(Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_file_is_a_json_object_and_never_yaml() {
        assert!(json_path("schedule.yaml").is_err() && json_path("s.YML").is_err());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(&path, r#"{"name": "n", "job_name": "j", "cron": "@daily"}"#).unwrap();
        assert_eq!(read_file(&path).unwrap()["cron"], "@daily");
        std::fs::write(&path, "[1]").unwrap();
        assert!(read_file(&path).unwrap_err().is::<Usage>());
        assert!(
            read_file(&dir.path().join("none.json"))
                .unwrap_err()
                .is::<Usage>()
        );
        assert!(rfc3339("2027-01-31T03:00:00+01:00").is_ok() && rfc3339("soon").is_err());
    }
}
