//! How a run's frames look in a terminal: output lines prefixed by their
//! step (and target, when the run has several), one `==>` line per status
//! change, and a final line with the outcome.
//!
//! Everything that came from the server is cleaned of control characters
//! (tabs kept), so output cannot move the cursor or recolour the screen.

use std::collections::HashMap;

use serde_json::Value;

/// Where a rendered line goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// Standard output.
    Out(String),
    /// Standard error (the step's own stderr lines).
    Err(String),
}

/// What the run's `finished` event said (the `end` frame has only the status).
#[derive(Debug, Clone, Default)]
struct Finished {
    reason: Option<String>,
    duration_ms: Option<u64>,
}

/// Turns frames into lines; remembers what it needs for the final line.
#[derive(Debug)]
pub struct Renderer {
    run_id: String,
    job: String,
    /// Target names by id; prefixes name targets only when the run has several.
    targets: HashMap<String, String>,
    several_targets: bool,
    /// User names by id, for who asked to cancel.
    users: HashMap<String, String>,
    finished: Finished,
}

/// Control characters (but tab) replaced with U+FFFD.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

/// An event type in words' order: `io.opsconductor.run.step_started.v1`
/// and `step_started` are `step_started`; a command's type
/// (`io.opsconductor.cmd.run.cancel.v1`) is its last word, `cancel`.
fn short_type(kind: &str) -> &str {
    let kind = kind.strip_suffix(".v1").unwrap_or(kind);
    match kind.strip_prefix("io.opsconductor.") {
        Some(rest) => rest.rsplit('.').next().unwrap_or(rest),
        None => kind,
    }
}

/// `850 ms`, `1.2 s`, `3m 05s`.
pub fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{}m {:02}s", ms / 60_000, (ms / 1000) % 60),
    }
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

impl Renderer {
    /// A renderer for the run `run` (as `GET /api/v1/runs/{id}` shows it),
    /// with target names by id.
    pub fn new(run: &Value, targets: HashMap<String, String>) -> Self {
        let several_targets = run
            .get("target_ids")
            .and_then(Value::as_array)
            .is_some_and(|a| a.len() > 1);
        Self {
            run_id: text(run, "id").unwrap_or_default().to_owned(),
            job: clean(text(run, "job_name").unwrap_or_default()),
            targets,
            several_targets,
            users: HashMap::new(),
            finished: Finished::default(),
        }
    }

    /// Names users by id (who asked to cancel) where the map knows them.
    pub fn with_users(mut self, users: HashMap<String, String>) -> Self {
        self.users = users;
        self
    }

    /// A user's name, else their id as given.
    fn who(&self, id: &str) -> String {
        clean(self.users.get(id).map_or(id, String::as_str))
    }

    fn target(&self, data: &Value) -> Option<String> {
        let id = text(data, "target_id")?;
        Some(clean(
            self.targets
                .get(id)
                .map_or_else(|| id.get(..8).unwrap_or(id), String::as_str),
        ))
    }

    /// `[step]` or `[step@target]`.
    fn prefix(&self, data: &Value) -> String {
        let step = clean(text(data, "step_id").unwrap_or("?"));
        match self.target(data).filter(|_| self.several_targets) {
            Some(t) => format!("[{step}@{t}]"),
            None => format!("[{step}]"),
        }
    }

    /// ` on <target>` when the run has several targets.
    fn on(&self, data: &Value) -> String {
        self.target(data)
            .filter(|_| self.several_targets)
            .map(|t| format!(" on {t}"))
            .unwrap_or_default()
    }

    /// The line an `output` frame shows.
    pub fn output(&self, data: &Value) -> Line {
        let line = format!(
            "{} {}",
            self.prefix(data),
            clean(text(data, "text").unwrap_or_default())
        );
        if text(data, "stream") == Some("stderr") {
            Line::Err(line)
        } else {
            Line::Out(line)
        }
    }

    /// The line a `run` frame (`{type, data}`) shows, if any.
    pub fn run_event(&mut self, frame: &Value) -> Option<Line> {
        let kind = short_type(text(frame, "type").unwrap_or_default());
        let d = frame.get("data").unwrap_or(&Value::Null);
        let line = match kind {
            "accepted" => format!(
                "==> accepted: job {} v{}",
                self.job,
                d.get("job_version").and_then(Value::as_u64).unwrap_or(0)
            ),
            "started" => {
                let shard = d.get("shard").unwrap_or(&Value::Null);
                let count = shard.get("count").and_then(Value::as_u64).unwrap_or(1);
                let part = if count > 1 {
                    let index = shard.get("index").and_then(Value::as_u64).unwrap_or(0);
                    format!(" (shard {} of {count})", index + 1)
                } else {
                    String::new()
                };
                format!(
                    "==> started on worker {} in pool {}{part}",
                    clean(text(d, "worker_id").unwrap_or("?")),
                    clean(text(d, "pool").unwrap_or("?"))
                )
            }
            "step_started" => {
                let attempt = d.get("attempt").and_then(Value::as_u64).unwrap_or(1);
                let again = if attempt > 1 {
                    format!(" (attempt {attempt})")
                } else {
                    String::new()
                };
                format!(
                    "==> step {}{} started{again}",
                    clean(text(d, "step_id").unwrap_or("?")),
                    self.on(d)
                )
            }
            "step_finished" => {
                let mut facts = Vec::new();
                if let Some(code) = d.get("exit_code").and_then(Value::as_i64) {
                    facts.push(format!("exit {code}"));
                }
                if let Some(ms) = d.get("duration_ms").and_then(Value::as_u64) {
                    facts.push(duration(ms));
                }
                let error = text(d, "error")
                    .map(|e| format!(": {}", clean(e)))
                    .unwrap_or_default();
                format!(
                    "==> step {}{} {} ({}){error}",
                    clean(text(d, "step_id").unwrap_or("?")),
                    self.on(d),
                    clean(text(d, "status").unwrap_or("?")),
                    facts.join(", ")
                )
            }
            "cancel_requested" | "cancel" => {
                let by = text(d, "requested_by")
                    .filter(|b| !b.is_empty())
                    .map(|b| format!(" by {}", self.who(b)))
                    .unwrap_or_default();
                let why = text(d, "reason")
                    .map(|r| format!(": {}", clean(r)))
                    .unwrap_or_default();
                format!("==> cancel requested{by}{why}")
            }
            "shard_finished" => {
                let shard = d.get("shard").unwrap_or(&Value::Null);
                let count = shard.get("count").and_then(Value::as_u64).unwrap_or(1);
                let part = if count > 1 {
                    let index = shard.get("index").and_then(Value::as_u64).unwrap_or(0);
                    format!("shard {} of {count}", index + 1)
                } else {
                    "the run's work".to_owned()
                };
                let why = text(d, "reason")
                    .map(|r| format!(": {}", clean(r)))
                    .unwrap_or_default();
                format!(
                    "==> worker {} finished {part}: {}{why}",
                    clean(text(d, "worker_id").unwrap_or("?")),
                    clean(text(d, "status").unwrap_or("?"))
                )
            }
            "finished" => {
                self.finished = Finished {
                    reason: text(d, "reason").map(clean),
                    duration_ms: d.get("duration_ms").and_then(Value::as_u64),
                };
                return None;
            }
            other => format!("==> {}", clean(&other.replace(['_', '.'], " "))),
        };
        Some(Line::Out(line))
    }

    /// The final line, for the run's final `status`; `reason` and
    /// `duration_ms` fill in what the `finished` event did not say.
    pub fn end(&self, status: &str, reason: Option<&str>, duration_ms: Option<u64>) -> Line {
        let reason = self
            .finished
            .reason
            .clone()
            .or_else(|| reason.map(clean))
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        let took = self
            .finished
            .duration_ms
            .or(duration_ms)
            .map(|ms| format!(" after {}", duration(ms)))
            .unwrap_or_default();
        Line::Out(format!(
            "run {} {}{took}{reason}",
            clean(&self.run_id),
            clean(status)
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn renderer(targets: usize) -> Renderer {
        let ids: Vec<String> = (0..targets).map(|i| format!("0000000{i}-aaaa")).collect();
        let names = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), format!("web-{i}")))
            .collect();
        Renderer::new(
            &json!({"id": "r1", "job_name": "deploy", "target_ids": ids}),
            names,
        )
    }

    #[test]
    fn output_names_the_target_only_when_the_run_has_several() {
        let line = json!({"step_id": "build", "target_id": "00000001-aaaa", "stream": "stdout", "text": "ok\tdone"});
        assert_eq!(
            renderer(2).output(&line),
            Line::Out("[build@web-1] ok\tdone".into())
        );
        assert_eq!(
            renderer(1).output(&line),
            Line::Out("[build] ok\tdone".into())
        );
        let err = json!({"step_id": "build", "stream": "stderr", "text": "oops"});
        assert_eq!(renderer(1).output(&err), Line::Err("[build] oops".into()));
    }

    #[test]
    fn unknown_targets_show_a_short_id_and_escapes_are_cleaned() {
        let line = json!({"step_id": "s\u{1b}[2J", "target_id": "0123456789abcdef", "text": "a\u{1b}]0;x\u{7}b"});
        let Line::Out(text) = renderer(2).output(&line) else {
            panic!("stdout")
        };
        assert_eq!(text, "[s\u{fffd}[2J@01234567] a\u{fffd}]0;x\u{fffd}b");
    }

    #[test]
    fn status_changes_read_as_sentences() {
        let mut r = renderer(2);
        let show = |r: &mut Renderer, v: Value| match r.run_event(&v) {
            Some(Line::Out(s)) => s,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            show(
                &mut r,
                json!({"type": "accepted", "data": {"job_version": 3}})
            ),
            "==> accepted: job deploy v3"
        );
        assert_eq!(
            show(
                &mut r,
                json!({"type": "started", "data": {"worker_id": "w1", "pool": "edge", "shard": {"index": 1, "count": 2}}})
            ),
            "==> started on worker w1 in pool edge (shard 2 of 2)"
        );
        assert_eq!(
            show(
                &mut r,
                json!({"type": "step_started", "data": {"step_id": "a", "target_id": "00000000-aaaa", "attempt": 2}})
            ),
            "==> step a on web-0 started (attempt 2)"
        );
        assert_eq!(
            show(
                &mut r,
                json!({"type": "step_finished", "data": {"step_id": "a", "status": "failed", "exit_code": 3, "duration_ms": 1500, "error": "exit code 3"}})
            ),
            "==> step a failed (exit 3, 1.5 s): exit code 3"
        );
    }

    #[test]
    fn commands_and_unknown_events_read_as_words_not_types() {
        let mut users = HashMap::new();
        users.insert("u1".to_owned(), "alice".to_owned());
        let mut r = renderer(1).with_users(users);
        let mut show = |v: Value| match r.run_event(&v) {
            Some(Line::Out(s)) => s,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            show(json!({"type": "io.opsconductor.cmd.run.cancel", "data": {"requested_by": "u1"}})),
            "==> cancel requested by alice"
        );
        assert_eq!(
            show(
                json!({"type": "cancel_requested", "data": {"requested_by": "api", "reason": "withdrawn"}})
            ),
            "==> cancel requested by api: withdrawn"
        );
        assert_eq!(
            show(
                json!({"type": "shard_finished", "data": {"worker_id": "w1", "status": "succeeded", "shard": {"index": 0, "count": 2}}})
            ),
            "==> worker w1 finished shard 1 of 2: succeeded"
        );
        let odd = show(json!({"type": "io.opsconductor.run.something_new.v1", "data": {}}));
        assert_eq!(odd, "==> something new");
        let odd = show(json!({"type": "x.y_z", "data": {}}));
        assert!(!odd.contains('.') && !odd.contains('_'), "{odd}");
    }

    #[test]
    fn the_final_line_prefers_what_the_finished_event_said() {
        let mut r = renderer(1);
        assert_eq!(
            r.end("succeeded", None, Some(20)),
            Line::Out("run r1 succeeded after 20 ms".into())
        );
        assert!(
            r.run_event(&json!({"type": "finished", "data": {"status": "failed", "reason": "step bad failed", "duration_ms": 61000}}))
                .is_none()
        );
        assert_eq!(
            r.end("failed", Some("other"), Some(5)),
            Line::Out("run r1 failed after 1m 01s: step bad failed".into())
        );
    }
}
