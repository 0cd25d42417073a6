//! `runs list`, `runs show`, `runs steps`: what the api shows of runs.

use std::collections::HashMap;

use anyhow::{Context as _, bail};
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::Value;

use super::ListArgs;
use crate::client::follow::render::duration;
use crate::client::http::ApiClient;
use crate::client::jobs::{emit, find, text, when};
use crate::client::output::{self, Table, View};

/// `2h` as an instant that long ago; a time as given (the api checks it).
fn since(value: &str) -> anyhow::Result<String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (digits, unit) = value.split_at(split);
    let Ok(n) = digits.parse::<i64>() else {
        return Ok(value.to_owned());
    };
    let age = match unit {
        "s" => Duration::try_seconds(n),
        "m" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        _ if value.contains('T') || value.contains('-') => return Ok(value.to_owned()),
        _ => bail!(
            "--since {}: a time (RFC 3339) or an age like 30m, 2h, 7d",
            output::sanitize(value)
        ),
    };
    let at = age
        .and_then(|a| Utc::now().checked_sub_signed(a))
        .with_context(|| format!("--since {}: too far back", output::sanitize(value)))?;
    Ok(at.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// A run's duration, or `-`.
fn took(run: &Value) -> String {
    run["duration_ms"]
        .as_u64()
        .map_or_else(|| "-".to_owned(), duration)
}

/// `manual by 0190…`, `schedule`, …
fn trigger(run: &Value) -> String {
    let t = &run["trigger"];
    let kind = t["kind"].as_str().unwrap_or("?");
    match t["actor"].as_str().filter(|a| !a.is_empty()) {
        Some(actor) if matches!(kind, "manual" | "api") => format!("{kind} by {actor}"),
        _ => kind.to_owned(),
    }
}

/// `runs list`.
pub async fn list(api: &mut ApiClient, out: View, a: &ListArgs) -> anyhow::Result<()> {
    let mut query = vec![("limit", a.limit.clamp(1, 500).to_string())];
    if let Some(job) = &a.job {
        query.push(("job_id", find::job_id(api, job).await?));
    }
    if let Some(t) = &a.target {
        query.push(("target_id", find::target(api, t).await?));
    }
    if let Some(s) = &a.status {
        query.push(("status", s.trim().to_owned()));
    }
    if let Some(t) = &a.trigger {
        query.push(("trigger", t.trim().to_owned()));
    }
    if let Some(s) = &a.since {
        query.push(("since", since(s)?));
    }
    let page: Value = api
        .get(&["api", "v1", "runs"], &query)
        .await
        .context("listing runs")?;
    let items = page["items"].as_array().cloned().unwrap_or_default();
    emit(out, &page, || {
        let mut t = Table::new(&[
            "ID", "JOB", "VERSION", "STATUS", "TRIGGER", "ACCEPTED", "DURATION",
        ]);
        for r in &items {
            t.row(vec![
                text(r, "id"),
                text(r, "job_name"),
                r["job_version"].as_i64().unwrap_or(0).to_string(),
                text(r, "status"),
                trigger(r),
                when(r, "created_at"),
                took(r),
            ]);
        }
        t.render()
    })
}

/// `runs show`.
pub async fn show(api: &mut ApiClient, out: View, id: &str) -> anyhow::Result<()> {
    let run: Value = api
        .get(&["api", "v1", "runs", id], &[])
        .await
        .context("getting the run")?;
    emit(out, &run, || {
        let params = run["parameters"]
            .as_object()
            .filter(|p| !p.is_empty())
            .map_or_else(
                || "-".to_owned(),
                |p| {
                    p.iter()
                        .map(|(k, v)| match v {
                            Value::String(s) => format!("{k}={s}"),
                            other => format!("{k}={other}"),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            );
        let mut pairs = vec![
            ("id", text(&run, "id")),
            (
                "job",
                format!(
                    "{} v{}",
                    run["job_name"].as_str().unwrap_or("?"),
                    run["job_version"].as_i64().unwrap_or(0)
                ),
            ),
            ("status", text(&run, "status")),
        ];
        if let Some(reason) = run["reason"].as_str() {
            pairs.push(("reason", reason.to_owned()));
        }
        pairs.extend([
            ("trigger", trigger(&run)),
            ("parameters", params),
            (
                "targets",
                run["target_ids"].as_array().map_or(0, Vec::len).to_string(),
            ),
            ("accepted", when(&run, "created_at")),
            ("started", when(&run, "started_at")),
            ("finished", when(&run, "finished_at")),
            ("duration", took(&run)),
        ]);
        if let Some(of) = run["rerun_of"].as_str() {
            pairs.push(("rerun of", of.to_owned()));
        }
        if run["attempt"].as_i64().unwrap_or(1) > 1 {
            pairs.push(("attempt", run["attempt"].to_string()));
        }
        output::details(&pairs)
    })
}

/// Target names by id (empty when they cannot be listed).
async fn target_names(api: &mut ApiClient) -> HashMap<String, String> {
    let query = [("limit", "500".to_owned())];
    let Ok(page) = api.get::<Value>(&["api", "v1", "targets"], &query).await else {
        return HashMap::new();
    };
    page["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter_map(|t| Some((t["id"].as_str()?.to_owned(), t["name"].as_str()?.to_owned())))
        .collect()
}

/// `runs steps`.
pub async fn steps(api: &mut ApiClient, out: View, id: &str, logs: bool) -> anyhow::Result<()> {
    let steps: Value = api
        .get(&["api", "v1", "runs", id, "steps"], &[])
        .await
        .context("getting the run's steps")?;
    let names = target_names(api).await;
    let items = steps["items"].as_array().cloned().unwrap_or_default();
    let target = |s: &Value| match s["target_id"].as_str() {
        None => "(worker)".to_owned(),
        Some(t) => names.get(t).cloned().unwrap_or_else(|| t.to_owned()),
    };
    emit(out, &steps, || {
        let mut t = Table::new(&[
            "STEP", "TARGET", "STATUS", "EXIT", "DURATION", "ATTEMPT", "ERROR",
        ]);
        for s in &items {
            t.row(vec![
                text(s, "step_id"),
                target(s),
                text(s, "status"),
                s["exit_code"]
                    .as_i64()
                    .map_or_else(|| "-".to_owned(), |c| c.to_string()),
                took(s),
                s["attempt"].as_i64().unwrap_or(1).to_string(),
                text(s, "error"),
            ]);
        }
        let mut text = format!(
            "Run {} is {}.\n",
            output::sanitize(id),
            output::sanitize(steps["status"].as_str().unwrap_or("?"))
        );
        text.push_str(&t.render());
        if logs {
            for s in &items {
                text.push_str(&format!(
                    "\n--- {} on {}\n",
                    output::sanitize(s["step_id"].as_str().unwrap_or("?")),
                    output::sanitize(&target(s))
                ));
                for (stream, mark) in [("stdout", ""), ("stderr", "! ")] {
                    for line in s[stream].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                        text.push_str(mark);
                        text.push_str(&output::sanitize(line.as_str().unwrap_or_default()));
                        text.push('\n');
                    }
                }
                if s["output_truncated"].as_bool().unwrap_or(false) {
                    text.push_str("(output cut at the cap)\n");
                }
            }
        }
        text
    })
}

#[cfg(test)]
mod tests {
    use super::since;

    #[test]
    fn ages_become_instants_and_times_pass_through() {
        assert_eq!(
            since("2026-12-01T08:00:00Z").unwrap(),
            "2026-12-01T08:00:00Z"
        );
        let two_hours = since("2h").unwrap();
        assert!(two_hours.ends_with('Z'), "{two_hours}");
        assert!(since("2 fortnights").is_err());
        assert!(since("99999999999999d").is_err());
    }
}
