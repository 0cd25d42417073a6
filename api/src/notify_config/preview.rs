//! Previews: which recent notices a rule would match, and how a template
//! renders — on a sample notice made here, or on a real run's notice.

use std::collections::VecDeque;
use std::time::Duration;

use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::consumer::pull::OrderedConfig;
use chrono::{TimeDelta, Utc};
use futures::StreamExt as _;
use opsc_proto::CloudEvent;
use opsc_proto::commands::{Trigger, TriggerKind};
use opsc_proto::events::RunStatus;
use opsc_proto::notify::{
    ChannelKind, FailedStepDigest, JobRef, Notice, NoticeKind, NotifyTrigger, RuleDoc, RunDigest,
    TargetDigest, template,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::{NotifyConfigError, refuse, templates};
use crate::core::Core;

/// Notices read at most.
pub const MAX_NOTICES: usize = 500;

/// How far back notices are read.
const LOOKBACK: TimeDelta = TimeDelta::days(7);

/// How long reading the stream may take.
const READ_FOR: Duration = Duration::from_secs(10);

/// `?limit=` of a rule preview.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewQuery {
    /// Matches answered at most (1 to 500, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// One notice a rule matches.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PreviewMatch {
    /// The triggers it matched.
    pub triggers: Vec<NotifyTrigger>,
    /// The notice.
    pub notice: Notice,
}

/// What a rule would have matched.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RulePreview {
    /// Notices looked at (the newest of the last 7 days, 500 at most).
    pub scanned: usize,
    /// Those the rule matches, newest first.
    pub matches: Vec<PreviewMatch>,
}

/// The newest notices of the last seven days, newest first.
pub async fn recent_notices(core: &Core) -> Result<Vec<Notice>, NotifyConfigError> {
    let unavailable =
        |e: &dyn std::fmt::Display| NotifyConfigError::Unavailable(format!("reading notices: {e}"));
    let since = (Utc::now() - LOOKBACK).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let deliver_policy: DeliverPolicy =
        serde_json::from_value(json!({"deliver_policy": "by_start_time", "opt_start_time": since}))
            .map_err(|e| NotifyConfigError::broken(&e))?;
    let config = OrderedConfig {
        filter_subject: core.bus.subjects.notice_events_all(),
        deliver_policy,
        ..Default::default()
    };
    let mut consumer = core
        .bus
        .js
        .get_stream(&core.bus.streams.events)
        .await
        .map_err(|e| unavailable(&e))?
        .create_consumer(config)
        .await
        .map_err(|e| unavailable(&e))?;
    let pending = consumer
        .info()
        .await
        .map_err(|e| unavailable(&e))?
        .num_pending;
    let mut kept: VecDeque<Notice> = VecDeque::new();
    if pending == 0 {
        return Ok(Vec::new());
    }
    let mut messages = consumer.messages().await.map_err(|e| unavailable(&e))?;
    let deadline = tokio::time::Instant::now() + READ_FOR;
    loop {
        let next = tokio::time::timeout_at(deadline, messages.next()).await;
        let Ok(Some(Ok(m))) = next else { break };
        if let Ok(ev) = CloudEvent::<Notice>::decode(&m.payload) {
            kept.push_back(ev.data);
            if kept.len() > MAX_NOTICES {
                kept.pop_front();
            }
        }
        if m.info().map_or(true, |i| i.pending == 0) {
            break;
        }
    }
    Ok(kept.into_iter().rev().collect())
}

/// The recent notices `rule` matches, `limit` at most.
pub async fn rule(
    core: &Core,
    rule: &RuleDoc,
    limit: Option<u32>,
) -> Result<RulePreview, NotifyConfigError> {
    let limit = usize::try_from(limit.unwrap_or(50).clamp(1, 500)).unwrap_or(50);
    let notices = recent_notices(core).await?;
    let scanned = notices.len();
    let matches = notices
        .into_iter()
        .filter_map(|n| {
            let triggers = rule.matches(&n, n.at);
            (!triggers.is_empty()).then_some(PreviewMatch {
                triggers,
                notice: n,
            })
        })
        .take(limit)
        .collect();
    Ok(RulePreview { scanned, matches })
}

/// A template preview request.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplatePreviewBody {
    /// The channel kind (its default template is the base).
    pub kind: ChannelKind,
    /// The trigger rendered.
    pub trigger: NotifyTrigger,
    /// Subject template (else the stored template's, else the default).
    #[serde(default)]
    pub subject: Option<String>,
    /// Text template.
    #[serde(default)]
    pub text: Option<String>,
    /// HTML template.
    #[serde(default)]
    pub html: Option<String>,
    /// A stored template to start from.
    #[serde(default)]
    pub template_id: Option<Uuid>,
    /// A real run to render (else a sample notice).
    #[serde(default)]
    pub run_id: Option<Uuid>,
}

/// A rendered template.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TemplatePreview {
    /// The subject or title.
    pub subject: String,
    /// The text.
    pub text: String,
    /// The HTML body (email).
    pub html: Option<String>,
    /// Whether it was rendered on a sample notice.
    pub sample: bool,
}

/// A sample notice of a failed run, for previews.
pub fn sample_notice(core: &Core) -> Notice {
    let run_id = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0001);
    let user = Uuid::from_u128(3);
    Notice {
        notice_id: format!("run:{run_id}:finished"),
        kind: NoticeKind::RunFinished,
        at: Utc::now(),
        console_url: crate::notices::console_url(core),
        run: Some(RunDigest {
            run_id,
            job: JobRef {
                id: Uuid::from_u128(2),
                name: "nightly-backup".into(),
                tags: vec!["db".into()],
                owner_id: Some(user),
                critical: false,
            },
            job_version: 3,
            status: RunStatus::Failed,
            reason: Some("step backup failed on db-1".into()),
            trigger: Trigger::new(TriggerKind::Manual, user.to_string()),
            started_by: Some(user),
            attempt: 1,
            retry_root: run_id,
            will_retry: false,
            duration_ms: Some(83_000),
            baseline: None,
            previous_status: Some(RunStatus::Succeeded),
            failure_streak: 1,
            targets: vec![TargetDigest {
                id: Uuid::from_u128(9),
                name: "db-1".into(),
                status: Some("failed".into()),
            }],
            group_ids: vec![],
            failed_steps: vec![FailedStepDigest {
                step_id: "backup".into(),
                target: Some("db-1".into()),
                status: "failed".into(),
                exit_code: Some(2),
                error: Some("exit status 2".into()),
                last_lines: vec!["pg_dump: error: connection refused".into()],
            }],
            schedule: None,
        }),
        schedule: None,
        target: None,
        dead_letter: None,
    }
}

/// The notice of a real run (`None`: no such run). Wired to the notice
/// builder of `crate::notices`.
async fn run_notice(core: &Core, run_id: Uuid) -> Result<Option<Notice>, NotifyConfigError> {
    Ok(crate::notices::run_notice(core, run_id).await?)
}

/// Renders a template preview.
pub async fn template(
    core: &Core,
    b: TemplatePreviewBody,
) -> Result<TemplatePreview, NotifyConfigError> {
    refuse(templates::texts_check(
        b.subject.as_deref(),
        b.text.as_deref(),
        b.html.as_deref(),
    ))?;
    let mut parts = template::default_for(b.kind);
    if let Some(id) = b.template_id {
        let t = templates::doc_of(&templates::find(core, id).await?)?;
        parts = template::Parts {
            subject: t.subject,
            text: t.text,
            html: t.html.or(parts.html),
        };
    }
    if let Some(s) = b.subject {
        parts.subject = s;
    }
    if let Some(t) = b.text {
        parts.text = t;
    }
    if b.html.is_some() {
        parts.html = b.html;
    }
    let (notice, sample) = match b.run_id {
        Some(id) => (
            run_notice(core, id)
                .await?
                .ok_or(NotifyConfigError::NotFound("run"))?,
            false,
        ),
        None => (sample_notice(core), true),
    };
    let ctx = template::context(&notice, b.trigger);
    let out = template::render_parts(&parts, &ctx)
        .map_err(|e| NotifyConfigError::invalid("/text", e.to_string()))?;
    Ok(TemplatePreview {
        subject: out.subject,
        text: out.text,
        html: out.html,
        sample,
    })
}
