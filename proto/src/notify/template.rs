//! Notification templates: minijinja, bounded like job templates (the same
//! static checks of `job_check::bounds` before a template is saved or
//! rendered, fuel while rendering, a cap on the output), with a default
//! for every channel kind.
//!
//! The variables ([`context`]): `trigger`, `job` (`id`, `name`, `tags`,
//! `link`), `run` (`id`, `link`, `status`, `reason`, `attempt`,
//! `duration_ms`, `duration`, `baseline_p95_ms`, `baseline`, `trigger`),
//! `targets` (`name`, `status`), `failed_steps` (`step_id`, `target`,
//! `exit_code`, `error`, `last_lines`), `schedule` (`id`, `name`,
//! `fire_at`, `reason`), `target` (`name`, `error`), `dead_letter`
//! (`origin`, `subject`, `reason`), `notice` (`kind`, `at`), `console_url`.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::{Value, json};

use super::{ChannelKind, Notice, NotifyTrigger};
use crate::job_check::bounds::{Kind, check_size, check_template};

/// Instructions one render may spend.
pub const FUEL: u64 = 200_000;
/// Bytes one rendered text may have at most.
pub const MAX_OUTPUT_BYTES: usize = 256 * 1024;

/// A subject, a text and an optional HTML body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts {
    /// Subject or title.
    pub subject: String,
    /// Plain text.
    pub text: String,
    /// HTML.
    pub html: Option<String>,
}

/// The default templates of a channel kind.
pub fn default_for(kind: ChannelKind) -> Parts {
    let subject = "[{{ trigger_label }}] {{ title }}".to_owned();
    let text = DEFAULT_TEXT.to_owned();
    let html = (kind == ChannelKind::Email).then(|| DEFAULT_HTML.to_owned());
    Parts {
        subject,
        text,
        html,
    }
}

const DEFAULT_TEXT: &str = "{{ headline }}
{% if run %}Run {{ run.id }} of {{ job.name }}: {{ run.status }}{% if run.duration %} after {{ run.duration }}{% endif %}{% if run.baseline %} (usually {{ run.baseline }}){% endif %}{% if run.attempt > 1 %}, attempt {{ run.attempt }}{% endif %}.
{% if run.reason %}Reason: {{ run.reason }}
{% endif %}{% if schedule %}Schedule: {{ schedule.name }}
{% endif %}{% for t in targets %}- {{ t.name }}: {{ t.status or \"not reached\" }}
{% endfor %}{% for s in failed_steps %}Step {{ s.step_id }}{% if s.target %} on {{ s.target }}{% endif %} {{ s.status }}{% if s.exit_code is not none %} (exit {{ s.exit_code }}){% endif %}{% if s.error %}: {{ s.error }}{% endif %}
{% for l in s.last_lines %}    {{ l }}
{% endfor %}{% endfor %}{% if run.link %}{{ run.link }}
{% endif %}{% elif schedule %}{{ schedule.reason }} ({{ schedule.fire_at }})
{% elif target %}{{ target.error }}
{% elif dead_letter %}{{ dead_letter.origin }} gave up on a message on {{ dead_letter.subject }}: {{ dead_letter.reason }}
{% endif %}";

const DEFAULT_HTML: &str = "<h2>{{ headline }}</h2>
{% if run %}<p>Run <a href=\"{{ run.link or '' }}\">{{ run.id }}</a> of <b>{{ job.name }}</b>: <b>{{ run.status }}</b>{% if run.duration %} after {{ run.duration }}{% endif %}{% if run.baseline %} (usually {{ run.baseline }}){% endif %}.</p>
{% if run.reason %}<p>Reason: {{ run.reason }}</p>{% endif %}
{% if targets %}<ul>{% for t in targets %}<li>{{ t.name }}: {{ t.status or 'not reached' }}</li>{% endfor %}</ul>{% endif %}
{% for s in failed_steps %}<p>Step <code>{{ s.step_id }}</code>{% if s.target %} on {{ s.target }}{% endif %} {{ s.status }}{% if s.exit_code is not none %} (exit {{ s.exit_code }}){% endif %}{% if s.error %}: {{ s.error }}{% endif %}</p>
{% if s.last_lines %}<pre>{% for l in s.last_lines %}{{ l }}
{% endfor %}</pre>{% endif %}{% endfor %}
{% elif schedule %}<p>{{ schedule.reason }} ({{ schedule.fire_at }})</p>
{% elif target %}<p>{{ target.error }}</p>
{% elif dead_letter %}<p>{{ dead_letter.origin }} gave up on a message on {{ dead_letter.subject }}: {{ dead_letter.reason }}</p>
{% endif %}";

/// Why a template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The static checks refused it (each problem names the tag and a fix).
    #[error("{}", .0.join("; "))]
    Unbounded(Vec<String>),
    /// Rendering failed (a syntax error, out of fuel, output too long).
    #[error("{0}")]
    Render(String),
}

/// Checks a template before it is saved: bounded and readable.
pub fn check(source: &str) -> Result<(), TemplateError> {
    check_size(source, false).map_err(|e| TemplateError::Unbounded(vec![e]))?;
    let problems = check_template(source, &|_| Kind::Other);
    if !problems.is_empty() {
        return Err(TemplateError::Unbounded(problems));
    }
    let mut env = Environment::new();
    env.add_template("t", source)
        .map(|_| ())
        .map_err(|e| TemplateError::Render(e.to_string()))
}

/// Renders `source` with `ctx`; `html` escapes values for HTML.
pub fn render(source: &str, ctx: &Value, html: bool) -> Result<String, TemplateError> {
    check(source)?;
    let mut env = Environment::new();
    env.set_fuel(Some(FUEL));
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_auto_escape_callback(move |_| {
        if html {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    let out = env
        .render_str(source, ctx)
        .map_err(|e| TemplateError::Render(e.to_string()))?;
    if out.len() > MAX_OUTPUT_BYTES {
        return Err(TemplateError::Render(format!(
            "the rendered text is longer than {MAX_OUTPUT_BYTES} bytes"
        )));
    }
    Ok(out)
}

/// Renders all three parts.
pub fn render_parts(t: &Parts, ctx: &Value) -> Result<Parts, TemplateError> {
    Ok(Parts {
        subject: render(&t.subject, ctx, false)?
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned(),
        text: render(&t.text, ctx, false)?,
        html: t
            .html
            .as_deref()
            .map(|h| render(h, ctx, true))
            .transpose()?,
    })
}

/// `1h 2m 3s` for a duration in milliseconds.
pub fn human_duration(ms: u64) -> String {
    if ms < 1000 {
        return format!("{ms} ms");
    }
    let s = ms / 1000;
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    match (h, m) {
        (0, 0) => format!("{:.1} s", ms as f64 / 1000.0),
        (0, _) => format!("{m}m {s}s"),
        _ => format!("{h}h {m}m {s}s"),
    }
}

/// A headline for people, per trigger.
pub fn label(trigger: NotifyTrigger) -> &'static str {
    match trigger {
        NotifyTrigger::RunStarted => "started",
        NotifyTrigger::RunSucceeded => "succeeded",
        NotifyTrigger::RunFailed => "FAILED",
        NotifyTrigger::RunCancelled => "cancelled",
        NotifyTrigger::RunTimedOut => "TIMED OUT",
        NotifyTrigger::RunWorkerLost => "WORKER LOST",
        NotifyTrigger::RunRetrying => "retrying",
        NotifyTrigger::StatusChanged => "status changed",
        NotifyTrigger::RunSlow => "slow",
        NotifyTrigger::FailureStreak => "FAILING",
        NotifyTrigger::Recovered => "recovered",
        NotifyTrigger::ScheduleSkipped => "schedule skipped",
        NotifyTrigger::ScheduleMisfired => "schedule missed",
        NotifyTrigger::TargetTestFailed => "connection failed",
        NotifyTrigger::DeadLetter => "dead letter",
    }
}

/// The variables of a notification about `notice` for `trigger`.
pub fn context(notice: &Notice, trigger: NotifyTrigger) -> Value {
    let base = notice
        .console_url
        .as_deref()
        .map(|u| u.trim_end_matches('/'));
    let link = |path: String| base.map(|b| format!("{b}{path}"));
    let job = notice.job().map(|j| {
        json!({"id": j.id, "name": j.name, "tags": j.tags, "critical": j.critical,
               "link": link(format!("/jobs/{}", j.id))})
    });
    let run = notice.run.as_ref().map(|r| {
        json!({
            "id": r.run_id, "link": link(format!("/runs/{}", r.run_id)),
            "status": r.status, "reason": r.reason, "attempt": r.attempt,
            "will_retry": r.will_retry, "trigger": r.trigger.kind,
            "duration_ms": r.duration_ms, "duration": r.duration_ms.map(human_duration),
            "baseline_p95_ms": r.baseline.map(|b| b.p95_ms),
            "baseline": r.baseline.map(|b| human_duration(b.p95_ms)),
            "previous_status": r.previous_status, "failure_streak": r.failure_streak,
        })
    });
    let targets = notice.run.as_ref().map_or_else(Vec::new, |r| {
        r.targets
            .iter()
            .map(|t| json!({"name": t.name, "status": t.status}))
            .collect()
    });
    let failed_steps = notice.run.as_ref().map_or_else(Vec::new, |r| {
        r.failed_steps
            .iter()
            .map(|s| {
                json!({"step_id": s.step_id, "target": s.target, "status": s.status,
                       "exit_code": s.exit_code, "error": s.error, "last_lines": s.last_lines})
            })
            .collect()
    });
    let schedule = notice
        .schedule
        .as_ref()
        .map(|s| json!({"id": s.schedule_id, "name": s.name, "fire_at": s.fire_at, "reason": s.reason}))
        .or_else(|| {
            notice
                .run
                .as_ref()
                .and_then(|r| r.schedule.as_ref())
                .map(|s| json!({"id": s.id, "name": s.name}))
        });
    let target = notice
        .target
        .as_ref()
        .map(|t| json!({"id": t.target_id, "name": t.name, "error": t.error}));
    let dead_letter = notice.dead_letter.as_ref().map(
        |d| json!({"origin": d.origin, "subject": d.subject, "reason": d.reason, "deliveries": d.deliveries}),
    );
    let title = match (&job, &target, &dead_letter) {
        (Some(j), _, _) => j["name"].as_str().unwrap_or_default().to_owned(),
        (None, Some(t), _) => t["name"].as_str().unwrap_or_default().to_owned(),
        (None, None, Some(d)) => d["origin"].as_str().unwrap_or_default().to_owned(),
        _ => "OpsConductor".to_owned(),
    };
    let headline = format!("{title}: {}", label(trigger));
    json!({
        "trigger": trigger.as_str(), "trigger_label": label(trigger), "title": title,
        "headline": headline, "job": job, "run": run, "targets": targets,
        "failed_steps": failed_steps, "schedule": schedule, "target": target,
        "dead_letter": dead_letter, "console_url": base,
        "notice": {"id": notice.notice_id, "kind": notice.kind.token(), "at": notice.at},
    })
}
