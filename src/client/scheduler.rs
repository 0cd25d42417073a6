//! `opsconductor scheduler`: the state of the scheduler role (its leader,
//! replicas, load and lag), and pausing or resuming every schedule at once
//! (admins).

use anyhow::Context as _;
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Value, json};

use super::ClientEnv;
use super::output::{self, OutputArgs, OutputFormat, Table};
use super::schedules::view::{cell, millis};

/// `scheduler` arguments.
#[derive(Debug, Args)]
pub struct SchedulerArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(subcommand)]
    pub action: SchedulerAction,
}

/// What to do with the scheduler.
#[derive(Debug, Subcommand)]
pub enum SchedulerAction {
    /// Whether it is paused, which replica leads, what it has loaded, its lag.
    Status,
    /// Stop every schedule from firing until resumed (admins).
    Pause,
    /// Let the schedules fire again (admins).
    Resume,
}

const STATUS: &[&str] = &["api", "v1", "scheduler", "status"];

/// Runs a `scheduler` command.
pub async fn run(env: &ClientEnv, args: SchedulerArgs) -> anyhow::Result<()> {
    let format = args.output.format;
    let mut api = super::connect(env)?;
    let (verb, doing, done) = match args.action {
        SchedulerAction::Status => {
            let status: Value = api
                .get(STATUS, &[])
                .await
                .context("getting the scheduler's status")?;
            let text = match format {
                OutputFormat::Json => output::json(&status),
                OutputFormat::Yaml => output::yaml(&status),
                OutputFormat::Table => render(&status),
            };
            return Ok(output::print(&text)?);
        }
        SchedulerAction::Pause => ("pause", "pausing", "Scheduler paused"),
        SchedulerAction::Resume => ("resume", "resuming", "Scheduler resumed"),
    };
    let answer: Value = api
        .send(Method::POST, &["api", "v1", "scheduler", verb], &json!({}))
        .await
        .with_context(|| format!("{doing} the scheduler"))?;
    let text = match format {
        OutputFormat::Json => output::json(&answer),
        OutputFormat::Yaml => output::yaml(&answer),
        OutputFormat::Table => format!("{done}.\n"),
    };
    Ok(output::print(&text)?)
}

/// The status as key-value lines, then the replicas and the recent fires.
fn render(s: &Value) -> String {
    let leader = &s["leader"];
    let leader_line = if leader.is_object() {
        format!(
            "{} (term {}, lease until {})",
            cell(&leader["replica_id"]),
            cell(&leader["term"]),
            cell(&leader["expires_at"])
        )
    } else {
        "none (no scheduler holds the lease)".to_owned()
    };
    let replicas = s["replicas"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let mut text = output::details(&[
        ("paused", cell(&s["paused"])),
        ("leader", leader_line),
        ("replicas", replicas.len().to_string()),
        ("schedules loaded", cell(&s["schedules_loaded"])),
        ("schedules active", cell(&s["schedules_active"])),
        ("next fire", next_fire(&s["next_fire"])),
        ("last lag", millis(&s["last_lag_ms"])),
        ("lag p99", millis(&s["lag_p99_ms"])),
    ]);
    if !replicas.is_empty() {
        let mut table = Table::new(&["REPLICA", "ROLE", "VERSION", "STARTED", "LAST SEEN"]);
        for r in replicas {
            let role = if r["leader"].as_bool() == Some(true) {
                "leader"
            } else {
                "standby"
            };
            table.row(vec![
                cell(&r["replica_id"]),
                role.to_owned(),
                cell(&r["version"]),
                cell(&r["started_at"]),
                cell(&r["seen_at"]),
            ]);
        }
        text.push('\n');
        text.push_str(&table.render());
    }
    let recent = s["recent_fires"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if !recent.is_empty() {
        let mut table = Table::new(&["FIRE AT", "SCHEDULE", "KIND", "LAG", "RUN"]);
        for f in recent {
            table.row(vec![
                cell(&f["fire_at"]),
                cell(&f["schedule_id"]),
                cell(&f["kind"]),
                millis(&f["lag_ms"]),
                cell(&f["run_id"]),
            ]);
        }
        text.push('\n');
        text.push_str(&table.render());
    }
    text
}

/// The next fire: an instant, or `{schedule…, at}`.
fn next_fire(v: &Value) -> String {
    if !v.is_object() {
        return cell(v);
    }
    let at = if v["at"].is_null() {
        &v["fire_at"]
    } else {
        &v["at"]
    };
    let of = if v["schedule_name"].is_string() {
        &v["schedule_name"]
    } else {
        &v["schedule_id"]
    };
    if of.is_null() {
        cell(at)
    } else {
        format!("{} ({})", cell(at), cell(of))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_without_a_running_scheduler_says_so() {
        let text = render(&json!({
            "paused": false, "leader": null, "replicas": [], "schedules_loaded": 0,
            "schedules_active": 0, "next_fire": null, "last_lag_ms": null,
            "lag_p99_ms": null, "recent_fires": []
        }));
        assert!(text.contains("leader:           none"), "{text}");
        assert!(text.contains("paused:           no"), "{text}");
        assert!(!text.contains("REPLICA"), "{text}");
    }

    #[test]
    fn a_leader_and_its_replicas_are_listed() {
        let text = render(&json!({
            "paused": true,
            "leader": {"replica_id": "sched-a", "term": 3, "expires_at": "2027-01-01T00:00:10Z"},
            "replicas": [{"replica_id": "sched-a", "leader": true, "version": "0.1.0",
                          "started_at": "t0", "seen_at": "t1"},
                         {"replica_id": "sched-b", "leader": false, "version": "0.1.0",
                          "started_at": "t0", "seen_at": "t2"}],
            "next_fire": {"schedule_id": "s1", "at": "2027-01-01T03:00:00Z"},
            "last_lag_ms": 12
        }));
        assert!(
            text.contains("sched-a (term 3, lease until 2027-01-01T00:00:10Z)"),
            "{text}"
        );
        assert!(
            text.contains("next fire:        2027-01-01T03:00:00Z (s1)"),
            "{text}"
        );
        assert!(
            text.contains("sched-b  standby  0.1.0    t0       t2"),
            "{text}"
        );
        assert!(text.contains("last lag:         12 ms"), "{text}");
    }
}
