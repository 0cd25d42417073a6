//! Rendering for people (aligned tables, key-value details) and for scripts (JSON).
//!
//! Text that came from the server is cleaned of control characters before it
//! reaches a terminal, so a display name cannot move the cursor or recolour
//! the screen.

use std::io::{self, Write as _};

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
}

/// The `-o` option of every resource command.
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
}
