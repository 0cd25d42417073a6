//! The metric names a PromQL expression reads, and the families a
//! Prometheus text exposition declares: enough to tell whether a dashboard
//! or alert names a series that `/metrics` really exports.

use std::collections::{BTreeMap, BTreeSet};

/// A metric selector in an expression: its name and the label names its
/// matchers use (`name{a="x", b=~"y"}` → `a`, `b`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Selector {
    pub name: String,
    pub labels: BTreeSet<String>,
}

/// Words that are PromQL syntax, not metric names, when not followed by `(`.
const KEYWORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "and",
    "or",
    "unless",
    "atan2",
    "inf",
    "nan",
    "Inf",
    "NaN",
];

/// Aggregation operators: their grouping (`by (…)`) may come between the
/// name and the parenthesis.
const AGGREGATIONS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
];

/// Keywords followed by a parenthesised list of label names.
const LABEL_LISTS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// Every metric selector of `expr`. Grafana variables (`$job`, `${pool}`,
/// `$__rate_interval`) may appear anywhere; strings, ranges (`[5m]`),
/// numbers, durations, function and aggregation names, grouping label lists
/// and keywords are not metric names.
pub fn selectors(expr: &str) -> Vec<Selector> {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' || c == '`' {
            i = skip_string(&chars, i);
        } else if c == '[' {
            i = skip_past(&chars, i, ']');
        } else if c == '$' {
            i = skip_variable(&chars, i);
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            // A number or a duration: 0.95, 1e-9, 5m, 1h30m.
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                let exp = matches!(chars[i], 'e' | 'E');
                i += 1;
                if exp && i < chars.len() && matches!(chars[i], '+' | '-') {
                    i += 1;
                }
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut next = i;
            while next < chars.len() && chars[next].is_whitespace() {
                next += 1;
            }
            let paren = chars.get(next) == Some(&'(');
            if LABEL_LISTS.contains(&word.as_str()) {
                if paren {
                    i = skip_past(&chars, next, ')');
                }
            } else if paren
                || KEYWORDS.contains(&word.as_str())
                || AGGREGATIONS.contains(&word.as_str())
            {
                // A function or an aggregation; its arguments follow.
            } else {
                let mut labels = BTreeSet::new();
                if chars.get(next) == Some(&'{') {
                    let end = skip_past(&chars, next, '}');
                    labels = matcher_labels(&chars[next + 1..end.saturating_sub(1)]);
                    i = end;
                }
                out.push(Selector { name: word, labels });
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The label names of a matcher list (`a="x", b!~"y"`).
fn matcher_labels(inner: &[char]) -> BTreeSet<String> {
    let mut labels = BTreeSet::new();
    let mut i = 0;
    let mut expect_name = true;
    while i < inner.len() {
        let c = inner[i];
        if c == '"' || c == '\'' || c == '`' {
            i = skip_string(inner, i);
        } else if c == ',' {
            expect_name = true;
            i += 1;
        } else if expect_name && (c.is_ascii_alphabetic() || c == '_') {
            let start = i;
            while i < inner.len() && (inner[i].is_ascii_alphanumeric() || inner[i] == '_') {
                i += 1;
            }
            labels.insert(inner[start..i].iter().collect());
            expect_name = false;
        } else {
            i += 1;
        }
    }
    labels
}

/// Index just past the string starting at `start` (backslash escapes).
fn skip_string(chars: &[char], start: usize) -> usize {
    let quote = chars[start];
    let mut i = start + 1;
    while i < chars.len() && chars[i] != quote {
        if chars[i] == '\\' && quote != '`' {
            i += 1;
        }
        i += 1;
    }
    i + 1
}

/// Index just past the `close` that matches the bracket at `start`,
/// stepping over strings inside.
fn skip_past(chars: &[char], start: usize, close: char) -> usize {
    let open = chars[start];
    let mut depth = 0;
    let mut i = start;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' || c == '`' {
            i = skip_string(chars, i);
            continue;
        }
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return i + 1;
            }
        }
        i += 1;
    }
    chars.len()
}

/// Index just past a Grafana variable: `$name`, `${name}`, `${name:fmt}`.
fn skip_variable(chars: &[char], start: usize) -> usize {
    if chars.get(start + 1) == Some(&'{') {
        return skip_past(chars, start + 1, '}');
    }
    let mut i = start + 1;
    while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
        i += 1;
    }
    i
}

/// The Grafana variables an expression uses (`$job`, `${pool:regex}`), by
/// name, without Grafana's built-ins (`$__rate_interval`…) and without
/// `label_replace` back-references (`$1`).
pub fn variables(text: &str) -> BTreeSet<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = BTreeSet::new();
    for (i, c) in chars.iter().enumerate() {
        if *c != '$' {
            continue;
        }
        let rest: String = chars[i + 1..].iter().collect();
        let name: String = rest
            .trim_start_matches('{')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() && !name.starts_with("__") && !name.chars().all(|c| c.is_ascii_digit())
        {
            out.insert(name);
        }
    }
    out
}

/// One family of an exposition: its type and the label names its samples carry.
#[derive(Debug, Clone, Default)]
pub struct Family {
    pub kind: String,
    pub labels: BTreeSet<String>,
    pub samples: usize,
}

/// The families an exposition declares (`# TYPE name kind`), with the labels
/// of their samples.
pub fn families(exposition: &str) -> BTreeMap<String, Family> {
    let mut out: BTreeMap<String, Family> = BTreeMap::new();
    for line in exposition.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split_whitespace();
            if let (Some(name), Some(kind)) = (parts.next(), parts.next()) {
                out.entry(name.to_owned()).or_default().kind = kind.to_owned();
            }
        }
    }
    for line in exposition
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let sample = line.split([' ', '{']).next().unwrap_or_default();
        let Some(family) = family_of(&out, sample) else {
            continue;
        };
        let labels = line
            .split_once('{')
            .map(|(_, r)| matcher_labels(&r.chars().collect::<Vec<_>>()))
            .unwrap_or_default();
        if let Some(f) = out.get_mut(&family) {
            f.samples += 1;
            f.labels.extend(labels.into_iter().filter(|l| l != "le"));
        }
    }
    out
}

/// The family a series name belongs to, by the suffixes its type allows:
/// counters `_total` (and `_created`), histograms `_bucket`, `_sum`,
/// `_count`, gauges and unknowns the bare name, infos `_info`.
pub fn family_of(families: &BTreeMap<String, Family>, series: &str) -> Option<String> {
    let allowed = |kind: &str| -> &'static [&'static str] {
        match kind {
            "counter" => &["_total", "_created"],
            "histogram" => &["_bucket", "_sum", "_count", "_created"],
            "summary" => &["", "_sum", "_count", "_created"],
            "info" => &["_info"],
            _ => &[""],
        }
    };
    families
        .iter()
        .find(|(name, f)| {
            allowed(&f.kind).iter().any(|suffix| {
                series
                    .strip_prefix(name.as_str())
                    .is_some_and(|rest| rest == *suffix)
            })
        })
        .map(|(name, _)| name.clone())
}

/// What is wrong with `expr` against the exported families: series no
/// role exports, and matcher labels a family with samples never carries.
pub fn problems(expr: &str, families: &BTreeMap<String, Family>) -> Vec<String> {
    let found = selectors(expr);
    if found.is_empty() {
        return vec![format!("no metric in `{expr}`")];
    }
    let mut out = Vec::new();
    for s in found {
        let Some(family) = family_of(families, &s.name) else {
            out.push(format!("`{}` is not exported by any role", s.name));
            continue;
        };
        let f = &families[&family];
        if f.samples == 0 {
            continue;
        }
        for label in s
            .labels
            .iter()
            .filter(|l| !f.labels.contains(*l) && *l != "job")
        {
            out.push(format!(
                "`{}` has no label `{label}` (it has {:?})",
                s.name, f.labels
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(expr: &str) -> Vec<String> {
        selectors(expr).into_iter().map(|s| s.name).collect()
    }

    #[test]
    fn selectors_are_the_metric_names_only() {
        assert_eq!(
            names(
                r#"histogram_quantile(0.95, sum by (le, step_type) (rate(opsc_step_duration_seconds_bucket{job=~"$job"}[$__rate_interval])))"#
            ),
            ["opsc_step_duration_seconds_bucket"]
        );
        assert_eq!(
            names(
                r#"label_replace(max by (durable) (opsc_consumer_pending{durable=~"dispatch-($pool)"}), "pool", "$1", "durable", "dispatch-(.*)")"#
            ),
            ["opsc_consumer_pending"]
        );
        assert_eq!(
            names(
                "count by (pool) (a_slots offset 1h) unless on (pool) b > 1e-9 and c_total / ignoring (x) d"
            ),
            ["a_slots", "b", "c_total", "d"]
        );
        let s = &selectors(r#"x{a="1,b=\"2\"", c!~'z'}"#)[0];
        assert_eq!(s.labels, BTreeSet::from(["a".to_owned(), "c".to_owned()]));
    }

    #[test]
    fn unknown_series_and_wrong_suffixes_are_problems() {
        let f = families(
            "# TYPE opsc_runs counter\nopsc_runs_total{status=\"ok\"} 1\n# TYPE opsc_lag histogram\n# TYPE opsc_up gauge\n",
        );
        assert!(problems("sum(rate(opsc_runs_total[5m]))", &f).is_empty());
        assert!(problems("opsc_lag_bucket + opsc_up", &f).is_empty());
        assert_eq!(problems("rate(opsc_runs[5m])", &f).len(), 1);
        assert_eq!(problems("opsc_lag", &f).len(), 1);
        assert_eq!(problems("opsc_up_total", &f).len(), 1);
        assert_eq!(problems(r#"opsc_runs_total{kind="x"}"#, &f).len(), 1);
        assert_eq!(problems("sum(rate(opsc_missing_total[5m]))", &f).len(), 1);
        assert_eq!(problems("vector(1)", &f).len(), 1);
        assert_eq!(
            variables("a{x=~\"$job\", y=\"${pool:regex}\"}[$__rate_interval] $1"),
            BTreeSet::from(["job".to_owned(), "pool".to_owned()])
        );
    }
}
