//! Printing what a `schedules` command got back: the api's JSON (`-o json`),
//! only ids (`--quiet`), or tables for people.

use anyhow::Context as _;
use serde_json::Value;

use super::view;
use crate::client::output::{self, OutputFormat, sanitize};

/// How to show what a command got back.
#[derive(Debug, Clone, Copy)]
pub struct Show {
    /// Table or JSON.
    pub format: OutputFormat,
    /// Ids only.
    pub quiet: bool,
}

impl Show {
    /// How to show results.
    pub fn new(format: OutputFormat, quiet: bool) -> Self {
        Self { format, quiet }
    }

    /// Prints `value` as JSON, as its id, or as `table`.
    pub fn one(self, value: &Value, table: impl FnOnce(&Value) -> String) -> anyhow::Result<()> {
        let text = if self.quiet {
            format!("{}\n", sanitize(value["id"].as_str().unwrap_or_default()))
        } else if self.format == OutputFormat::Json {
            output::json(value)
        } else {
            table(value)
        };
        Ok(output::print(&text)?)
    }

    /// A page of schedules: ids, the page as JSON, or a table.
    pub fn list(self, page: &Value) -> anyhow::Result<()> {
        let items = page["items"]
            .as_array()
            .context("reading the list of schedules")?;
        if self.quiet {
            let ids: String = items
                .iter()
                .map(|s| format!("{}\n", sanitize(s["id"].as_str().unwrap_or_default())))
                .collect();
            return Ok(output::print(&ids)?);
        }
        if self.format == OutputFormat::Json {
            return Ok(output::print(&output::json(page))?);
        }
        output::print(&view::list(items).render())?;
        let offset = page["offset"].as_u64().unwrap_or(0);
        let shown = offset + items.len() as u64;
        let total = page["total"].as_u64().unwrap_or(shown);
        if shown < total {
            eprintln!(
                "Showing {}-{shown} of {total}; use --offset {shown} for more.",
                offset + 1
            );
        }
        Ok(())
    }

    /// `{items: […]}` as JSON or as `table`.
    pub fn items(self, got: &Value, table: fn(&[Value]) -> output::Table) -> anyhow::Result<()> {
        if self.format == OutputFormat::Json {
            return Ok(output::print(&output::json(got))?);
        }
        let items = got["items"]
            .as_array()
            .context("reading the api's answer")?;
        Ok(output::print(&table(items).render())?)
    }
}
