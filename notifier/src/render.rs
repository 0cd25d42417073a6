//! Rendering: the most specific template override of a channel and
//! trigger (channel and trigger, channel, kind and trigger, kind), else the
//! kind's default; a template that fails to render falls back to the
//! default and the error is kept for the record.

use opsc_proto::notify::template::{self, Parts};
use opsc_proto::notify::{ChannelDoc, Notice, NotifyTrigger, Polarity, TemplateDoc};

use crate::state::HeldItem;

/// A rendered message.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Subject, text, HTML.
    pub parts: Parts,
    /// The template context (a webhook's `data`).
    pub data: serde_json::Value,
    /// `failure`, `success` or `neutral`.
    pub tone: &'static str,
    /// The console link.
    pub link: Option<String>,
    /// Why the override was not used, when it failed.
    pub error: Option<String>,
}

/// The tone of a trigger.
pub fn tone(trigger: NotifyTrigger) -> &'static str {
    match trigger.polarity() {
        Polarity::Failure => "failure",
        Polarity::Success => "success",
        Polarity::Neutral => "neutral",
    }
}

/// The most specific override for `channel` and `trigger`.
pub fn pick<'a>(
    templates: impl Iterator<Item = &'a TemplateDoc>,
    channel: &ChannelDoc,
    trigger: NotifyTrigger,
) -> Option<&'a TemplateDoc> {
    let kind = channel.kind();
    templates
        .filter(|t| t.kind == kind)
        .filter(|t| t.channel_id.is_none_or(|c| c == channel.id))
        .filter(|t| t.trigger.is_none_or(|tr| tr == trigger))
        .max_by_key(|t| {
            (
                u8::from(t.channel_id.is_some()) * 2 + u8::from(t.trigger.is_some()),
                t.revision,
            )
        })
}

/// Renders `notice` for `channel` as `trigger`.
pub fn render<'a>(
    templates: impl Iterator<Item = &'a TemplateDoc>,
    channel: &ChannelDoc,
    notice: &Notice,
    trigger: NotifyTrigger,
) -> Rendered {
    let data = template::context(notice, trigger);
    let default = template::default_for(channel.kind());
    let mut error = None;
    let parts = match pick(templates, channel, trigger) {
        Some(t) => {
            let over = Parts {
                subject: t.subject.clone(),
                text: t.text.clone(),
                html: t.html.clone().or_else(|| default.html.clone()),
            };
            match template::render_parts(&over, &data) {
                Ok(p) => Some(p),
                Err(e) => {
                    error = Some(format!("template {}: {e}; the default was used", t.id));
                    None
                }
            }
        }
        None => None,
    };
    let parts = match parts {
        Some(p) => p,
        None => template::render_parts(&default, &data).unwrap_or_else(|e| Parts {
            subject: format!("[{}] {}", template::label(trigger), notice.notice_id),
            text: format!("The default template failed: {e}"),
            html: None,
        }),
    };
    Rendered {
        parts,
        link: link_of(&data),
        data,
        tone: tone(trigger),
        error,
    }
}

fn link_of(data: &serde_json::Value) -> Option<String> {
    ["run", "job"]
        .iter()
        .find_map(|k| data.get(k)?.get("link")?.as_str())
        .map(str::to_owned)
}

/// One message listing held messages (a quiet-hours or throttle digest).
pub fn digest(title: &str, items: &[HeldItem]) -> Rendered {
    let mut text = format!("{title}\n\n");
    let mut html = format!("<p>{}</p><ul>", escape(title));
    for i in items {
        text.push_str("- ");
        text.push_str(&i.subject);
        if let Some(l) = &i.link {
            text.push_str(" (");
            text.push_str(l);
            text.push(')');
        }
        text.push('\n');
        html.push_str("<li>");
        match &i.link {
            Some(l) => html.push_str(&format!(
                "<a href=\"{}\">{}</a>",
                escape(l),
                escape(&i.subject)
            )),
            None => html.push_str(&escape(&i.subject)),
        }
        html.push_str("</li>");
    }
    html.push_str("</ul>");
    let subjects: Vec<&str> = items.iter().map(|i| i.subject.as_str()).collect();
    Rendered {
        parts: Parts {
            subject: format!("{title} ({})", items.len()),
            text,
            html: Some(html),
        },
        data: serde_json::json!({ "digest": true, "title": title, "subjects": subjects }),
        tone: "neutral",
        link: None,
        error: None,
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
