//! Rendering for people (aligned tables, key-value details) and for scripts
//! (JSON, YAML, bare ids).
//!
//! Text that came from the server is cleaned of control characters before it
//! reaches a terminal, so a display name cannot move the cursor or recolour
//! the screen.
//!
//! Commands take [`ViewArgs`] (`-o table|json|yaml`, `-q`): the default is a
//! table on a terminal and JSON when standard output is piped, and
//! [`View::render`] prints a value in the chosen form. [`OutputArgs`] is the
//! older `-o` whose default is always a table.

use std::io::{self, IsTerminal as _, Write as _};

use clap::{Args, ValueEnum};
use serde_json::Value;

/// How results are shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people.
    #[default]
    Table,
    /// The api's JSON, pretty-printed, for scripts.
    Json,
    /// The api's JSON as YAML.
    Yaml,
}

impl OutputFormat {
    /// A table when standard output is a terminal, JSON when it is piped.
    pub fn auto() -> Self {
        if io::stdout().is_terminal() {
            Self::Table
        } else {
            Self::Json
        }
    }

    /// Whether this is a machine format (JSON or YAML).
    pub fn is_data(self) -> bool {
        self != Self::Table
    }
}

/// The `-o` option with a table as its default (commands that print a table
/// even when piped).
#[derive(Debug, Clone, Copy, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(
        short = 'o',
        long = "output",
        global = true,
        value_enum,
        default_value_t = OutputFormat::Table
    )]
    pub format: OutputFormat,
}

/// `-o/--output` and `-q/--quiet` of a command that shows resources.
#[derive(Debug, Clone, Copy, Args)]
pub struct ViewArgs {
    /// Output format [default: table on a terminal, json when piped].
    #[arg(short = 'o', long = "output", global = true, value_enum)]
    pub output: Option<OutputFormat>,
    /// Print only ids, one per line.
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
}

impl ViewArgs {
    /// The chosen view, with the format detected when `-o` was not given.
    pub fn view(&self) -> View {
        View {
            format: self.output.unwrap_or_else(OutputFormat::auto),
            quiet: self.quiet,
        }
    }
}

/// How one command shows its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// Table, JSON or YAML.
    pub format: OutputFormat,
    /// Only ids, one per line.
    pub quiet: bool,
}

impl View {
    /// A view of this format, not quiet.
    pub fn new(format: OutputFormat) -> Self {
        Self {
            format,
            quiet: false,
        }
    }

    /// `value` as text: its ids with `-q` (see [`ids`]), JSON or YAML as
    /// asked, else what `table` makes of it (for people).
    pub fn text(&self, value: &Value, table: impl FnOnce(&Value) -> String) -> String {
        if self.quiet {
            return ids(value)
                .iter()
                .map(|id| format!("{}\n", sanitize(id)))
                .collect();
        }
        match self.format {
            OutputFormat::Json => json(value),
            OutputFormat::Yaml => yaml(value),
            OutputFormat::Table => table(value),
        }
    }

    /// Prints [`View::text`] to standard output.
    pub fn render(&self, value: &Value, table: impl FnOnce(&Value) -> String) -> io::Result<()> {
        print(&self.text(value, table))
    }

    /// Prints a message for people (tables only: nothing in JSON, YAML or
    /// quiet output, where `value` is printed instead).
    pub fn done(&self, value: &Value, message: &str) -> io::Result<()> {
        self.render(value, |_| format!("{}\n", sanitize(message)))
    }
}

/// The ids in `value`: each item's `id` of a page (`{"items": [...]}`) or of
/// an array, else the value's own `id`.
pub fn ids(value: &Value) -> Vec<String> {
    let items = value["items"].as_array().or_else(|| value.as_array());
    let id = |v: &Value| match &v["id"] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match items {
        Some(items) => items.iter().filter_map(id).collect(),
        None => id(value).into_iter().collect(),
    }
}

/// `value` as YAML, ending in a newline.
pub fn yaml(value: &Value) -> String {
    let mut text = serde_norway::to_string(value).unwrap_or_else(|_| json(value));
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// Replaces control characters (newlines, escapes) with U+FFFD.
pub fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// Rows under a header, columns padded to the widest cell.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&'static str]) -> Self {
        Self {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are blank, extra cells are dropped.
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells: Vec<String> = cells.into_iter().map(|c| sanitize(&c)).collect();
        cells.resize(self.headers.len(), String::new());
        self.rows.push(cells);
    }

    /// The table as lines, two spaces between columns, no trailing blanks.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let header: Vec<String> = self.headers.iter().map(|h| (*h).to_owned()).collect();
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                let pad = w.saturating_sub(cell.chars().count());
                line.extend(std::iter::repeat_n(' ', pad));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// One record as `key: value` lines, keys aligned.
pub fn details(pairs: &[(&str, String)]) -> String {
    let width = pairs
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (key, value) in pairs {
        let pad = width - key.chars().count();
        out.push_str(&format!("{key}:{} {}\n", " ".repeat(pad), sanitize(value)));
    }
    out
}

/// `value` pretty-printed, with a final newline.
pub fn json(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    text.push('\n');
    text
}

/// Writes `text` to standard output.
pub fn print(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// A cell for an optional value: the value, or `-`.
pub fn or_dash(value: Option<&str>) -> String {
    match value {
        Some(v) if !v.is_empty() => v.to_owned(),
        _ => "-".to_owned(),
    }
}

/// `yes` or `no`.
pub fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_to_the_widest_cell_without_trailing_blanks() {
        let mut t = Table::new(&["ID", "USERNAME", "ROLE"]);
        t.row(vec!["1".into(), "admin".into(), "admin".into()]);
        t.row(vec!["22".into(), "ops-person".into(), "viewer".into()]);
        assert_eq!(
            t.render(),
            "ID  USERNAME    ROLE\n\
             1   admin       admin\n\
             22  ops-person  viewer\n"
        );
    }

    #[test]
    fn width_counts_characters_not_bytes() {
        let mut t = Table::new(&["NAME", "X"]);
        t.row(vec!["Zoë".into(), "1".into()]);
        t.row(vec!["Bob".into(), "2".into()]);
        let out = t.render();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[1], "Zoë   1");
        assert_eq!(lines[2], "Bob   2");
    }

    #[test]
    fn an_empty_table_is_its_header_and_short_rows_are_padded() {
        assert_eq!(Table::new(&["A", "B"]).render(), "A  B\n");
        let mut t = Table::new(&["A", "B", "C"]);
        t.row(vec!["x".into()]);
        assert_eq!(t.render(), "A  B  C\nx\n");
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let mut t = Table::new(&["NAME"]);
        t.row(vec!["evil\u{1b}[2Jname\nnext".into()]);
        let out = t.render();
        assert!(!out.contains('\u{1b}'));
        assert_eq!(out.lines().count(), 2, "{out}");
        assert!(details(&[("name", "a\rb".into())]).contains("a\u{fffd}b"));
    }

    #[test]
    fn details_align_keys() {
        assert_eq!(
            details(&[("id", "7".into()), ("username", "ann".into())]),
            "id:       7\nusername: ann\n"
        );
    }

    #[test]
    fn helpers_render_absent_and_boolean_values() {
        assert_eq!(or_dash(None), "-");
        assert_eq!(or_dash(Some("")), "-");
        assert_eq!(or_dash(Some("a@b")), "a@b");
        assert_eq!(yes_no(true), "yes");
        assert_eq!(json(&serde_json::json!({"a": 1})), "{\n  \"a\": 1\n}\n");
    }

    #[test]
    fn a_view_prints_ids_yaml_json_or_the_table() {
        let page =
            serde_json::json!({"items": [{"id": "a", "name": "x"}, {"id": "b"}], "total": 2});
        let table = |_: &Value| "TABLE\n".to_owned();
        let quiet = View {
            format: OutputFormat::Table,
            quiet: true,
        };
        assert_eq!(quiet.text(&page, table), "a\nb\n");
        assert_eq!(
            quiet.text(&serde_json::json!({"id": "c\u{1b}"}), table),
            "c\u{fffd}\n"
        );
        assert_eq!(View::new(OutputFormat::Table).text(&page, table), "TABLE\n");
        let yaml = View::new(OutputFormat::Yaml).text(&serde_json::json!({"a": 1}), table);
        assert_eq!(yaml, "a: 1\n");
        assert!(
            View::new(OutputFormat::Json)
                .text(&page, table)
                .starts_with('{')
        );
        assert_eq!(ids(&serde_json::json!([{"id": 1}])), vec!["1".to_owned()]);
    }
}
