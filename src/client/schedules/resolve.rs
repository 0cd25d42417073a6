//! Names to ids: a schedule, job, target or target group given by its id or
//! its exact name. A name is looked up by listing with the api's filters;
//! an id is used as given, so the api says when it does not exist.

use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::client::http::ApiClient;
use crate::client::output::sanitize;

/// The largest page the list endpoints hand out.
const PAGE: &str = "500";
/// Pages of schedules read while looking for a name, before giving up
/// (50,000 schedules).
const MAX_PAGES: usize = 100;

/// Whether `text` is a UUID in its usual hyphenated form (as the api prints ids).
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36 && uuid::Uuid::try_parse(text).is_ok()
}

/// The one item of `items` named exactly `key`.
fn only_named<'a>(
    items: impl IntoIterator<Item = &'a Value>,
    what: &str,
    key: &str,
) -> anyhow::Result<Option<Value>> {
    let found: Vec<&Value> = items.into_iter().filter(|i| i["name"] == key).collect();
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some((*one).clone())),
        _ => bail!(
            "{} {what}s are named {}: give the id",
            found.len(),
            sanitize(key)
        ),
    }
}

fn id_of(item: &Value, what: &str) -> anyhow::Result<String> {
    item["id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("the api listed a {what} without an id"))
}

/// The id of the item of `collection` named `key`, from one page of up to
/// 500 (`name_filter`: the list takes `?name=`, a substring match).
async fn named_in(
    api: &mut ApiClient,
    collection: &str,
    what: &str,
    key: &str,
    name_filter: bool,
) -> anyhow::Result<String> {
    let mut query = vec![("limit", PAGE.to_owned())];
    if name_filter {
        query.push(("name", key.to_owned()));
    }
    let page: Value = api
        .get(&["api", "v1", collection], &query)
        .await
        .with_context(|| format!("looking up {what} {}", sanitize(key)))?;
    let items = page["items"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let item = only_named(items, what, key)?
        .with_context(|| format!("no {what} is named {}", sanitize(key)))?;
    id_of(&item, what)
}

/// The job with its current definition, by id or exact name.
pub async fn job(api: &mut ApiClient, key: &str) -> anyhow::Result<Value> {
    let key = key.trim();
    let id = if is_uuid(key) {
        key.to_owned()
    } else {
        named_in(api, "jobs", "job", key, true).await?
    };
    api.get(&["api", "v1", "jobs", &id], &[])
        .await
        .with_context(|| format!("getting job {}", sanitize(key)))
}

/// A target's id, by id or exact name.
pub async fn target(api: &mut ApiClient, key: &str) -> anyhow::Result<String> {
    let key = key.trim();
    if is_uuid(key) {
        return Ok(key.to_owned());
    }
    named_in(api, "targets", "target", key, true).await
}

/// A target group's id, by id or exact name.
pub async fn group(api: &mut ApiClient, key: &str) -> anyhow::Result<String> {
    let key = key.trim();
    if is_uuid(key) {
        return Ok(key.to_owned());
    }
    named_in(api, "target-groups", "target group", key, false).await
}

/// A schedule's id, by id or exact name: the list (which has no name
/// filter) is read page by page until the name turns up.
pub async fn schedule(api: &mut ApiClient, key: &str) -> anyhow::Result<String> {
    let key = key.trim();
    if is_uuid(key) {
        return Ok(key.to_owned());
    }
    let mut offset = 0_u64;
    for _ in 0..MAX_PAGES {
        let query = [("limit", PAGE.to_owned()), ("offset", offset.to_string())];
        let page: Value = api
            .get(&["api", "v1", "schedules"], &query)
            .await
            .with_context(|| format!("looking up schedule {}", sanitize(key)))?;
        let items = page["items"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        if let Some(found) = only_named(items, "schedule", key)? {
            return id_of(&found, "schedule");
        }
        offset += items.len() as u64;
        if items.is_empty() || offset >= page["total"].as_u64().unwrap_or(0) {
            break;
        }
    }
    bail!("no schedule is named {}", sanitize(key))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ids_are_told_from_names() {
        assert!(is_uuid("0190f0c2-8e4b-7c3a-9d2e-1f2a3b4c5d6e"));
        assert!(!is_uuid("nightly"));
        assert!(
            !is_uuid("0190f0c28e4b7c3a9d2e1f2a3b4c5d6e"),
            "simple form is a name"
        );
    }

    #[test]
    fn a_name_matches_exactly_and_once() {
        let items = [
            json!({"id": "1", "name": "nightly-backup"}),
            json!({"id": "2", "name": "nightly"}),
        ];
        let found = only_named(&items, "schedule", "nightly").unwrap().unwrap();
        assert_eq!(found["id"], "2");
        assert!(only_named(&items, "schedule", "Nightly").unwrap().is_none());
        let twice = [
            json!({"id": "1", "name": "x"}),
            json!({"id": "2", "name": "x"}),
        ];
        let e = only_named(&twice, "target group", "x").unwrap_err();
        assert_eq!(e.to_string(), "2 target groups are named x: give the id");
    }
}
