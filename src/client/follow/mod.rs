//! Following a run: `runs follow <id>` and `jobs run --follow`.
//!
//! Reads the api's Server-Sent Events stream (`GET /api/v1/runs/{id}/stream`),
//! which replays the run from its start and then follows it live, and
//! prints each frame ([`render`]), or with `-o json` each frame as one JSON
//! line. When the connection breaks before the run ends, it reconnects from
//! the last frame's id (`Last-Event-ID`), or, when the stream replays the
//! run instead, skips what it has already shown (same order).
//! Stopping the command (Ctrl-C) stops following; the run goes on.
//!
//! The exit status tells how the run ended: see [`exit_code`].

pub mod render;

use std::collections::HashMap;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use self::render::{Line, Renderer};
use super::http::ApiClient;
use super::output::{self, OutputFormat};
use super::sse::SseParser;

/// Reconnections after the stream broke off, before giving up.
const RECONNECTS: u32 = 5;
/// Pause before reconnecting.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

/// The exit status for a run's final status: 0 succeeded; 130 cancelled
/// (as for an interrupted command); 1 failed, timed_out, worker_lost,
/// skipped (its job's concurrency limit did not start it) and anything
/// else.
pub fn exit_code(status: &str) -> u8 {
    match status {
        "succeeded" => 0,
        "cancelled" => 130,
        _ => 1,
    }
}

/// A `waiting` run (held by its job's concurrency limit) is followed on
/// until it has run.
fn terminal(status: &str) -> bool {
    !matches!(status, "waiting" | "queued" | "running" | "")
}

/// Frames already shown, by kind, so a reconnection that replays skips
/// them; the last resume point the stream gave, so one that resumes
/// needs not.
#[derive(Debug, Default, Clone)]
struct Seen {
    output: u64,
    run: u64,
    last_id: Option<String>,
}

/// Follows run `run_id` until it ends; the exit status for its outcome.
pub async fn follow(
    api: &mut ApiClient,
    run_id: &str,
    format: OutputFormat,
) -> anyhow::Result<ExitCode> {
    let path = ["api", "v1", "runs", run_id];
    let run: Value = api.get(&path, &[]).await.context("getting the run")?;
    let mut renderer =
        Renderer::new(&run, target_names(api, &run).await).with_users(user_names(api).await);
    match run["status"].as_str() {
        Some("waiting") => eprintln!(
            "opsconductor: run {run_id} waits for a slot of its job's concurrency limit; following it"
        ),
        Some("skipped") => eprintln!(
            "opsconductor: run {run_id} was skipped by its job's concurrency limit and never started"
        ),
        _ => {}
    }
    let mut seen = Seen::default();
    let mut reconnects = 0;
    loop {
        let first = reconnects == 0;
        match read(api, run_id, format, &mut renderer, &mut seen).await {
            Ok(Some(status)) => return Ok(ExitCode::from(exit_code(&status))),
            Ok(None) => {}
            // The stream never opened (the api is not there, the run is
            // not the caller's): say so. One that broke off after some
            // frames is resumed.
            Err(e) if first && seen.output == 0 && seen.run == 0 => return Err(e),
            Err(_) => {}
        }
        // The stream stopped before the end: has the run ended meanwhile?
        let now: Value = api.get(&path, &[]).await.context("getting the run")?;
        let status = now["status"].as_str().unwrap_or_default();
        if terminal(status) {
            if !format.is_data() {
                let end = renderer.end(status, now["reason"].as_str(), now["duration_ms"].as_u64());
                show(&end)?;
            } else {
                let frame = json!({"event": "end", "data": {"run_id": run_id, "status": status}});
                show(&Line::Out(frame.to_string()))?;
            }
            return Ok(ExitCode::from(exit_code(status)));
        }
        reconnects += 1;
        if reconnects > RECONNECTS {
            bail!("the live stream of run {run_id} keeps breaking off; the run goes on");
        }
        eprintln!("opsconductor: the live stream broke off; resuming");
        tokio::time::sleep(RECONNECT_PAUSE).await;
    }
}

/// Target names by id, when the run has several targets (prefixes name
/// them); ids are shown shortened for targets not found.
async fn target_names(api: &mut ApiClient, run: &Value) -> HashMap<String, String> {
    let several = run["target_ids"].as_array().is_some_and(|a| a.len() > 1);
    if !several {
        return HashMap::new();
    }
    let query = [("limit", "500".to_owned())];
    let page: Value = match api.get(&["api", "v1", "targets"], &query).await {
        Ok(p) => p,
        Err(_) => return HashMap::new(),
    };
    page["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|t| {
                    Some((t["id"].as_str()?.to_owned(), t["name"].as_str()?.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// User names by id: the caller's own, and everyone's when the caller may
/// list users (admins); used to say who asked to cancel.
async fn user_names(api: &mut ApiClient) -> HashMap<String, String> {
    let mut names = HashMap::new();
    let pair = |u: &Value| {
        Some((
            u["id"].as_str()?.to_owned(),
            u["username"].as_str()?.to_owned(),
        ))
    };
    if let Ok(me) = api.get::<Value>(&["api", "v1", "me"], &[]).await {
        names.extend(pair(&me));
    }
    let query = [("limit", "500".to_owned())];
    if let Ok(page) = api.get::<Value>(&["api", "v1", "users"], &query).await {
        let items = page["items"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        names.extend(items.iter().filter_map(pair));
    }
    names
}

/// Reads one connection of the stream; the final status when it saw `end`,
/// `None` when it stopped before.
async fn read(
    api: &mut ApiClient,
    run_id: &str,
    format: OutputFormat,
    renderer: &mut Renderer,
    seen: &mut Seen,
) -> anyhow::Result<Option<String>> {
    let resume: Vec<(String, String)> = seen
        .last_id
        .iter()
        .map(|id| ("Last-Event-ID".to_owned(), id.clone()))
        .collect();
    let mut response = api
        .stream(&["api", "v1", "runs", run_id, "stream"], &resume)
        .await
        .context("opening the run's live stream")?;
    let mut parser = SseParser::default();
    let mut here = Seen::default();
    let mut first = true;
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => return Ok(None),
            Err(e) => return Err(api.stream_error(&e).into()),
        };
        for event in parser.feed(&chunk) {
            // Resumed after the last frame shown (not a replay from the
            // start): every frame is new.
            if std::mem::take(&mut first) && !resume.is_empty() && event.id.is_some() {
                here = seen.clone();
            }
            if let Some(id) = &event.id {
                seen.last_id = Some(id.clone());
            }
            let data: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
            let fresh = match event.event.as_str() {
                "output" => {
                    here.output += 1;
                    here.output > seen.output
                }
                "run" => {
                    here.run += 1;
                    here.run > seen.run
                }
                _ => true,
            };
            if !fresh {
                continue;
            }
            seen.output = seen.output.max(here.output);
            seen.run = seen.run.max(here.run);
            let status = (event.event == "end")
                .then(|| data["status"].as_str().unwrap_or("unknown").to_owned());
            if format.is_data() {
                let frame = json!({"event": event.event, "data": data});
                show(&Line::Out(frame.to_string()))?;
            } else {
                let line = match event.event.as_str() {
                    "output" => Some(renderer.output(&data)),
                    "run" => renderer.run_event(&data),
                    "end" => status.as_deref().map(|s| renderer.end(s, None, None)),
                    _ => None,
                };
                if let Some(line) = line {
                    show(&line)?;
                }
            }
            if status.is_some() {
                return Ok(status);
            }
        }
    }
}

fn show(line: &Line) -> anyhow::Result<()> {
    match line {
        Line::Out(text) => output::print(&format!("{text}\n"))?,
        Line::Err(text) => {
            let mut err = std::io::stderr().lock();
            err.write_all(text.as_bytes())?;
            err.write_all(b"\n")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::exit_code;

    #[test]
    fn the_exit_status_says_how_the_run_ended() {
        assert_eq!(exit_code("succeeded"), 0);
        for failed in [
            "failed",
            "timed_out",
            "worker_lost",
            "skipped",
            "something-new",
        ] {
            assert_eq!(exit_code(failed), 1, "{failed}");
        }
        assert_eq!(exit_code("cancelled"), 130);
    }
}
