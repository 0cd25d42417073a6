//! Static checks of the `notify.email|slack|teams|webhook` steps' settings,
//! and the send condition they share with the worker.
//!
//! Values that are templates (`{{ … }}`) are checked for their shape only;
//! the worker checks what they render to.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{PathError, token};
use crate::notify::ChannelKind;

/// Longest wait for the delivery result a step may ask for, in seconds.
pub const MAX_TIMEOUT_SECS: u64 = 600;
/// The default wait for the delivery result, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 60;
/// Most recipients one step may name.
pub const MAX_RECIPIENTS: usize = 50;

/// When a notify step runs, given the earlier steps of the run (`send`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SendWhen {
    /// Whatever happened before (the default).
    #[default]
    Always,
    /// Only when every earlier step succeeded.
    OnSuccess,
    /// Only when an earlier step failed.
    OnFailure,
}

impl SendWhen {
    /// The wire names.
    pub const NAMES: [&'static str; 3] = ["always", "on_success", "on_failure"];

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "always" => Some(Self::Always),
            "on_success" => Some(Self::OnSuccess),
            "on_failure" => Some(Self::OnFailure),
            _ => None,
        }
    }

    /// The condition of settings `with` (absent or unreadable: `always`; a
    /// saved job has been checked).
    pub fn of(with: &BTreeMap<String, Value>) -> Self {
        with.get("send")
            .and_then(Value::as_str)
            .and_then(Self::parse)
            .unwrap_or_default()
    }
}

/// The channel kind a notify step type delivers through (`notify.email` →
/// email), or `None` for another step type.
pub fn kind_of_step(step_type: &str) -> Option<ChannelKind> {
    match step_type {
        "notify.email" => Some(ChannelKind::Email),
        "notify.slack" => Some(ChannelKind::Slack),
        "notify.teams" => Some(ChannelKind::Teams),
        "notify.webhook" => Some(ChannelKind::Webhook),
        _ => None,
    }
}

fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%")
}

/// Checks one recipient of `kind` as written (`None`: it is fine).
pub fn recipient_problem(kind: ChannelKind, to: &str) -> Option<String> {
    let to = to.trim();
    if to.is_empty() {
        return Some("must not be empty".to_owned());
    }
    if is_template(to) {
        return None;
    }
    match kind {
        ChannelKind::Email => {
            let ok = to.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty() && d.contains('.') && !to.contains(char::is_whitespace)
            });
            (!ok).then(|| format!("'{to}' is not an email address"))
        }
        ChannelKind::Slack => {
            let ok = to.strip_prefix('#').is_some_and(|c| !c.is_empty())
                || (to.len() >= 2
                    && matches!(to.as_bytes()[0], b'C' | b'G' | b'U' | b'W')
                    && to
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
            (!ok).then(|| format!("'{to}' is not a Slack channel ('#ops', 'C…') or member ('U…')"))
        }
        ChannelKind::Teams | ChannelKind::Webhook => Some("takes no recipients".to_owned()),
    }
}

/// Checks the settings of a notify step at `at` (`/steps/2`); other step
/// types are left alone.
pub fn check(
    step_type: &str,
    with: &BTreeMap<String, Value>,
    at: &str,
    errors: &mut Vec<PathError>,
) {
    let Some(kind) = kind_of_step(step_type) else {
        return;
    };
    let path = |key: &str| format!("{at}/with/{}", token(key));
    match with.get("channel") {
        None => errors.push(PathError::new(
            path("channel"),
            "a channel id or name is required",
        )),
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        Some(_) => errors.push(PathError::new(
            path("channel"),
            "must be a channel id or name (a non-empty string)",
        )),
    }
    if let Some(v) = with.get("send") {
        let ok = v.as_str().and_then(SendWhen::parse).is_some();
        if !ok {
            errors.push(PathError::new(
                path("send"),
                format!("must be one of {}", SendWhen::NAMES.join(", ")),
            ));
        }
    }
    check_to(kind, with.get("to"), &path("to"), errors);
    for key in ["subject", "text", "body", "html"] {
        if with.get(key).is_some_and(|v| !v.is_string()) {
            errors.push(PathError::new(path(key), "must be a string"));
        }
    }
    if with.contains_key("text") && with.contains_key("body") {
        errors.push(PathError::new(path("body"), "give text or body, not both"));
    }
    if with.contains_key("html") && kind != ChannelKind::Email {
        errors.push(PathError::new(path("html"), "only notify.email takes html"));
    }
    match with.get("data") {
        Some(_) if kind != ChannelKind::Webhook => {
            errors.push(PathError::new(
                path("data"),
                "only notify.webhook takes data",
            ));
        }
        Some(v) if !v.is_object() => {
            errors.push(PathError::new(path("data"), "must be a JSON object"));
        }
        _ => {}
    }
    let has_message = ["text", "body", "html", "data"]
        .iter()
        .any(|k| with.contains_key(*k));
    if !has_message {
        errors.push(PathError::new(path("text"), "a message (text) is required"));
    }
    if let Some(v) = with.get("timeout_secs") {
        let ok = v
            .as_u64()
            .is_some_and(|n| (1..=MAX_TIMEOUT_SECS).contains(&n));
        if !ok {
            errors.push(PathError::new(
                path("timeout_secs"),
                format!("must be a whole number of seconds from 1 to {MAX_TIMEOUT_SECS}"),
            ));
        }
    }
}

fn check_to(kind: ChannelKind, to: Option<&Value>, at: &str, errors: &mut Vec<PathError>) {
    let Some(to) = to else {
        return;
    };
    if matches!(kind, ChannelKind::Teams | ChannelKind::Webhook) {
        errors.push(PathError::new(
            at,
            format!(
                "a {} channel posts to its configured endpoint: it takes no recipients",
                kind.as_str()
            ),
        ));
        return;
    }
    let Some(list) = to.as_array() else {
        errors.push(PathError::new(at, "must be a list of strings"));
        return;
    };
    if list.len() > MAX_RECIPIENTS {
        errors.push(PathError::new(
            at,
            format!("at most {MAX_RECIPIENTS} recipients"),
        ));
    }
    for (i, item) in list.iter().enumerate() {
        let problem = match item.as_str() {
            Some(s) => recipient_problem(kind, s),
            None => Some("must be a string".to_owned()),
        };
        if let Some(p) = problem {
            errors.push(PathError::new(format!("{at}/{i}"), p));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors_of(kind: &str, with: Value) -> Vec<String> {
        let with: BTreeMap<String, Value> = serde_json::from_value(with).unwrap();
        let mut e = Vec::new();
        check(kind, &with, "/steps/2", &mut e);
        paths_of(&e)
    }

    fn paths_of(e: &[PathError]) -> Vec<String> {
        e.iter().map(|e| e.path.clone()).collect()
    }

    #[test]
    fn a_good_step_passes() {
        assert!(
            errors_of(
                "notify.email",
                json!({"channel": "ops-mail", "to": ["a@example.com", "{{ params.to }}"],
                   "subject": "s", "text": "{{ steps.check.stdout }}", "html": "<b>x</b>",
                   "send": "on_failure", "timeout_secs": 120})
            )
            .is_empty()
        );
        assert!(
            errors_of(
                "notify.webhook",
                json!({"channel": "hook", "data": {"a": 1}})
            )
            .is_empty()
        );
        assert!(
            errors_of(
                "notify.slack",
                json!({"channel": "s", "to": ["#ops", "C01", "U02"], "text": "x"})
            )
            .is_empty()
        );
        assert!(errors_of("ssh.exec", json!({"anything": 1})).is_empty());
    }

    #[test]
    fn errors_name_the_setting() {
        assert_eq!(
            errors_of("notify.teams", json!({"text": "x"})),
            ["/steps/2/with/channel"]
        );
        assert_eq!(
            errors_of("notify.teams", json!({"channel": 3, "text": "x"})),
            ["/steps/2/with/channel"]
        );
        assert_eq!(
            errors_of(
                "notify.email",
                json!({"channel": "c", "text": "x", "send": "sometimes"})
            ),
            ["/steps/2/with/send"]
        );
        assert_eq!(
            errors_of(
                "notify.teams",
                json!({"channel": "c", "text": "x", "to": ["a@b.c"]})
            ),
            ["/steps/2/with/to"]
        );
        assert_eq!(
            errors_of(
                "notify.email",
                json!({"channel": "c", "text": "x", "to": ["nobody", 3]})
            ),
            ["/steps/2/with/to/0", "/steps/2/with/to/1"]
        );
        assert_eq!(
            errors_of(
                "notify.slack",
                json!({"channel": "c", "text": "x", "to": "#ops"})
            ),
            ["/steps/2/with/to"]
        );
        assert_eq!(
            errors_of(
                "notify.slack",
                json!({"channel": "c", "text": "x", "html": "<p>"})
            ),
            ["/steps/2/with/html"]
        );
        assert_eq!(
            errors_of(
                "notify.email",
                json!({"channel": "c", "text": "x", "data": {}})
            ),
            ["/steps/2/with/data"]
        );
        assert_eq!(
            errors_of("notify.webhook", json!({"channel": "c", "data": [1]})),
            ["/steps/2/with/data"]
        );
        assert_eq!(
            errors_of(
                "notify.webhook",
                json!({"channel": "c", "text": "x", "timeout_secs": 601})
            ),
            ["/steps/2/with/timeout_secs"]
        );
        // Unknown settings are the step catalogue's to refuse.
        let with: BTreeMap<String, Value> =
            serde_json::from_value(json!({"channel": "c", "text": "x", "url": "http://evil"}))
                .unwrap();
        let mut e = Vec::new();
        crate::step_catalog::check_with("notify.webhook", &with, "/steps/2", &mut e);
        assert_eq!(paths_of(&e), ["/steps/2/with/url"]);
        assert_eq!(
            errors_of("notify.email", json!({"channel": "c"})),
            ["/steps/2/with/text"]
        );
    }

    #[test]
    fn the_job_check_runs_these_checks() {
        let def: crate::job::JobDefinition = serde_json::from_value(json!({
            "name": "n",
            "steps": [
                {"id": "a", "type": "wait", "with": {"seconds": 1}},
                {"id": "b", "type": "notify.webhook", "with": {"channel": "h", "text": "x", "send": "later"}}
            ]
        }))
        .unwrap();
        let errors = crate::job_check::check(&def, crate::job::STEP_TYPES);
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/steps/1/with/send"]);
    }

    #[test]
    fn send_conditions_parse() {
        let w = |v: Value| -> BTreeMap<String, Value> { serde_json::from_value(v).unwrap() };
        assert_eq!(SendWhen::of(&w(json!({}))), SendWhen::Always);
        assert_eq!(
            SendWhen::of(&w(json!({"send": "on_failure"}))),
            SendWhen::OnFailure
        );
        assert_eq!(
            SendWhen::of(&w(json!({"send": "on_success"}))),
            SendWhen::OnSuccess
        );
        assert_eq!(SendWhen::of(&w(json!({"send": "x"}))), SendWhen::Always);
    }
}
