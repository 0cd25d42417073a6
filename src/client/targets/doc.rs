//! Documents read from a file (`-f target.yaml|json`, `-` for standard
//! input) and the editable part of a resource the api shows.

use std::io::Read as _;
use std::path::Path;

use anyhow::Context as _;
use serde_json::{Map, Value};

/// The most a document file may hold (16 MiB).
const MAX_BYTES: u64 = 16 << 20;

/// The text of `path`, or of standard input for `-`.
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_BYTES)
            .read_to_string(&mut text)
            .context("reading standard input")?;
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_BYTES).read_to_string(&mut text))
            .with_context(|| format!("reading {}", path.display()))?;
    }
    Ok(text)
}

/// The document in `path`: JSON, or YAML (which JSON also is).
pub fn read(path: &Path) -> anyhow::Result<Value> {
    let text = read_text(path)?;
    parse(&text).with_context(|| format!("reading {}", path.display()))
}

/// `text` as JSON, else as YAML.
pub fn parse(text: &str) -> anyhow::Result<Value> {
    let trimmed = text.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && let Ok(v) = serde_json::from_str(trimmed)
    {
        return Ok(v);
    }
    let value: Value = serde_norway::from_str(text).context("not JSON or YAML")?;
    Ok(value)
}

/// `view` without the fields the api adds (`id`, timestamps and those in
/// `extra`): the document to send back with a change.
pub fn editable(view: &Value, extra: &[&str]) -> Map<String, Value> {
    let mut doc = view.as_object().cloned().unwrap_or_default();
    for key in ["id", "created_at", "updated_at"].iter().chain(extra) {
        doc.remove(*key);
    }
    doc
}

/// `KEY=VALUE` split at the first `=`.
pub fn pair(text: &str) -> anyhow::Result<(String, String)> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .with_context(|| format!("{text:?} is not KEY=VALUE"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn json_and_yaml_documents_read_alike() {
        let yaml = parse("name: web-1\nhostname: 10.0.0.1\ntags: [a, b]\n").unwrap();
        let json = parse(r#"{"name":"web-1","hostname":"10.0.0.1","tags":["a","b"]}"#).unwrap();
        assert_eq!(yaml, json);
        assert!(parse("name: [unclosed").is_err());
    }

    #[test]
    fn the_editable_part_drops_what_the_api_adds() {
        let view = json!({"id": "1", "name": "n", "created_at": "t", "host_key": null});
        assert_eq!(
            Value::Object(editable(&view, &["host_key"])),
            json!({"name": "n"})
        );
        assert_eq!(pair("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(pair("=x").is_err() && pair("x").is_err());
    }
}
