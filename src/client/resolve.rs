//! Names to ids: wherever a command names a resource it takes its id or its
//! exact name. An id is used as given (the api says when it does not
//! exist); a name is looked up by listing, with the api's name filter where
//! the list has one, page by page until the name turns up. An unknown or
//! ambiguous name is an error naming it.

use anyhow::{Context as _, bail};
use serde_json::Value;
use uuid::Uuid;

use crate::client::http::ApiClient;
use crate::client::output::sanitize;

/// The largest page the list endpoints hand out.
const PAGE: u64 = 500;
/// Pages read while looking for a name before giving up (50,000 items).
const MAX_PAGES: usize = 100;

/// A kind of resource that commands name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A job (`name`).
    Job,
    /// A target (`name`).
    Target,
    /// A target group (`name`).
    Group,
    /// A credential (`name`).
    Credential,
    /// A user (`username`).
    User,
    /// One of your API tokens (`name`).
    Token,
    /// A schedule (`name`).
    #[allow(
        dead_code,
        reason = "for the schedule commands, which resolve names in schedules/resolve.rs for now"
    )]
    Schedule,
    /// A run: ids only.
    Run,
}

impl Kind {
    /// The resource in words, for messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Job => "job",
            Self::Target => "target",
            Self::Group => "target group",
            Self::Credential => "credential",
            Self::User => "user",
            Self::Token => "API token",
            Self::Schedule => "schedule",
            Self::Run => "run",
        }
    }

    /// The collection under `/api/v1/`.
    pub fn collection(self) -> &'static str {
        match self {
            Self::Job => "jobs",
            Self::Target => "targets",
            Self::Group => "target-groups",
            Self::Credential => "credentials",
            Self::User => "users",
            Self::Token => "api-tokens",
            Self::Schedule => "schedules",
            Self::Run => "runs",
        }
    }

    /// The field holding the name.
    fn name_field(self) -> &'static str {
        if self == Self::User {
            "username"
        } else {
            "name"
        }
    }

    /// Whether the list takes `?name=` (a case-insensitive substring).
    fn filters_by_name(self) -> bool {
        matches!(self, Self::Job | Self::Target)
    }
}

/// Whether `text` is a UUID in its usual hyphenated form (as the api prints ids).
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36 && Uuid::try_parse(text).is_ok()
}

/// The id of the `kind` named `name_or_id`: the id itself, or the one item
/// whose name is exactly this.
pub async fn resolve(api: &mut ApiClient, kind: Kind, name_or_id: &str) -> anyhow::Result<Uuid> {
    let key = name_or_id.trim();
    if is_uuid(key) {
        return Ok(Uuid::try_parse(key)?);
    }
    if kind == Kind::Run {
        bail!("{} is not a run id: runs are named by id", sanitize(key));
    }
    if key.is_empty() {
        bail!("an empty {} name", kind.label());
    }
    let item = find(api, kind, key).await?;
    let id = item["id"].as_str().unwrap_or_default();
    Uuid::try_parse(id).with_context(|| format!("the api listed a {} without an id", kind.label()))
}

/// [`resolve`] as the id's text, for paths.
pub async fn id(api: &mut ApiClient, kind: Kind, name_or_id: &str) -> anyhow::Result<String> {
    Ok(resolve(api, kind, name_or_id).await?.to_string())
}

/// The listed item of `kind` named exactly `key`.
async fn find(api: &mut ApiClient, kind: Kind, key: &str) -> anyhow::Result<Value> {
    let mut offset = 0_u64;
    let mut found: Vec<Value> = Vec::new();
    for _ in 0..MAX_PAGES {
        let mut query = vec![("limit", PAGE.to_string()), ("offset", offset.to_string())];
        if kind.filters_by_name() {
            query.push(("name", key.to_owned()));
        }
        let page: Value = api
            .get(&["api", "v1", kind.collection()], &query)
            .await
            .with_context(|| format!("looking up {} {}", kind.label(), sanitize(key)))?;
        let items = page["items"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        found.extend(named(items, kind, key).cloned());
        offset += items.len() as u64;
        let total = page["total"].as_u64().unwrap_or(0);
        if items.is_empty() || offset >= total {
            break;
        }
    }
    only(found, kind, key)
}

/// The items of `items` named exactly `key`.
fn named<'a>(items: &'a [Value], kind: Kind, key: &'a str) -> impl Iterator<Item = &'a Value> {
    items
        .iter()
        .filter(move |i| i[kind.name_field()].as_str() == Some(key))
}

/// The one item of `found`, or an error naming `key`.
fn only(mut found: Vec<Value>, kind: Kind, key: &str) -> anyhow::Result<Value> {
    match found.len() {
        0 => bail!("no {} is named {}", kind.label(), sanitize(key)),
        1 => Ok(found.swap_remove(0)),
        n => bail!(
            "{n} {}s are named {}: give the id",
            kind.label(),
            sanitize(key)
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ids_are_told_from_names() {
        assert!(is_uuid("0190f0c2-8e4b-7c3a-9d2e-1f2a3b4c5d6e"));
        assert!(!is_uuid("web-1"));
        assert!(!is_uuid("0190f0c28e4b7c3a9d2e1f2a3b4c5d6e"));
    }

    #[test]
    fn a_name_matches_exactly_and_once() {
        let items = [
            json!({"id": "1", "name": "web-10"}),
            json!({"id": "2", "name": "web-1"}),
            json!({"id": "3", "username": "web-1"}),
        ];
        let hits: Vec<&Value> = named(&items, Kind::Target, "web-1").collect();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0]["id"], "2");
        let users: Vec<&Value> = named(&items, Kind::User, "web-1").collect();
        assert_eq!(users[0]["id"], "3");
        assert_eq!(named(&items, Kind::Target, "Web-1").count(), 0);
        let e = only(vec![], Kind::Credential, "k\u{1b}").unwrap_err();
        assert_eq!(e.to_string(), "no credential is named k\u{fffd}");
        let e = only(vec![json!({}), json!({})], Kind::Group, "g").unwrap_err();
        assert_eq!(e.to_string(), "2 target groups are named g: give the id");
    }
}
