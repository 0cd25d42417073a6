//! `jobs diff JOB V1 V2`: a unified diff of two versions' definitions, each
//! written as the YAML export writes it.

use anyhow::{Context as _, bail};
use opsc_api::jobs::Format;
use opsc_proto::job::JobDefinition;
use serde_json::Value;

use super::find;
use crate::client::http::ApiClient;
use crate::client::output;

/// Lines of context around each change.
const CONTEXT: usize = 3;
/// Documents longer than this (lines, each side) are not diffed line by line.
const MAX_LINES: usize = 5_000;

/// Prints the diff from version `from` to version `to` (nothing when equal).
pub async fn diff(api: &mut ApiClient, key: &str, from: i32, to: i32) -> anyhow::Result<()> {
    let id = find::job_id(api, key).await?;
    let old = version_yaml(api, &id, from).await?;
    let new = version_yaml(api, &id, to).await?;
    let name = output::sanitize(key.trim());
    let text = unified(
        &old,
        &new,
        &format!("{name} v{from}"),
        &format!("{name} v{to}"),
    )?;
    Ok(output::print(&text)?)
}

/// One version's definition as YAML.
async fn version_yaml(api: &mut ApiClient, id: &str, n: i32) -> anyhow::Result<String> {
    let v: Value = api
        .get(&["api", "v1", "jobs", id, "versions", &n.to_string()], &[])
        .await
        .with_context(|| format!("getting version {n}"))?;
    let def: JobDefinition = serde_json::from_value(v["definition"].clone())
        .with_context(|| format!("reading version {n}"))?;
    let yaml = opsc_api::jobs::render(&def, Format::Yaml)
        .map_err(|e| anyhow::anyhow!("writing version {n} as YAML: {e}"))?;
    Ok(yaml.lines().map(|l| output::sanitize(l) + "\n").collect())
}

/// One line of an edit script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Same(usize, usize),
    Del(usize),
    Add(usize),
}

/// The shortest edit script from `a` to `b` (longest common subsequence).
fn script(a: &[&str], b: &[&str]) -> Vec<Op> {
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: the LCS length of a[i..] and b[j..].
    let mut lcs = vec![vec![0_u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::new();
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push(Op::Same(i, j));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            // Deletions first, as diff(1) shows a changed line.
            ops.push(Op::Del(i));
            i += 1;
        } else {
            ops.push(Op::Add(j));
            j += 1;
        }
    }
    ops
}

/// `old` to `new` as a unified diff with `---`/`+++` headers; empty when
/// they are equal.
fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> anyhow::Result<String> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    if a.len() > MAX_LINES || b.len() > MAX_LINES {
        bail!("the definitions are too long to compare line by line");
    }
    let ops = script(&a, &b);
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| !matches!(op, Op::Same(..)))
        .map(|(k, _)| k)
        .collect();
    if changed.is_empty() {
        return Ok(String::new());
    }
    // Hunks: runs of changes whose context windows touch.
    let mut hunks: Vec<(usize, usize)> = Vec::new();
    for &k in &changed {
        let lo = k.saturating_sub(CONTEXT);
        let hi = (k + CONTEXT + 1).min(ops.len());
        match hunks.last_mut() {
            Some(last) if lo <= last.1 => last.1 = hi,
            _ => hunks.push((lo, hi)),
        }
    }
    let mut out = format!("--- {old_name}\n+++ {new_name}\n");
    for (lo, hi) in hunks {
        let part = &ops[lo..hi];
        let (mut a_start, mut b_start) = (None, None);
        let (mut a_len, mut b_len) = (0, 0);
        let mut body = String::new();
        for op in part {
            match *op {
                Op::Same(i, j) => {
                    a_start.get_or_insert(i);
                    b_start.get_or_insert(j);
                    a_len += 1;
                    b_len += 1;
                    body.push_str(&format!(" {}\n", a[i]));
                }
                Op::Del(i) => {
                    a_start.get_or_insert(i);
                    a_len += 1;
                    body.push_str(&format!("-{}\n", a[i]));
                }
                Op::Add(j) => {
                    b_start.get_or_insert(j);
                    b_len += 1;
                    body.push_str(&format!("+{}\n", b[j]));
                }
            }
        }
        let start = |s: Option<usize>, len: usize, before: usize| {
            if len == 0 { before } else { s.unwrap_or(0) + 1 }
        };
        // An empty side starts at the line before the hunk, as diff(1) says.
        let a_before = lines_before(&ops[..lo], true);
        let b_before = lines_before(&ops[..lo], false);
        out.push_str(&format!(
            "@@ -{},{a_len} +{},{b_len} @@\n{body}",
            start(a_start, a_len, a_before),
            start(b_start, b_len, b_before)
        ));
    }
    Ok(out)
}

/// Lines of one side (`old` or new) before a hunk.
fn lines_before(before: &[Op], old: bool) -> usize {
    before
        .iter()
        .filter(|op| match op {
            Op::Same(..) => true,
            Op::Del(_) => old,
            Op::Add(_) => !old,
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_documents_have_no_diff() {
        assert_eq!(unified("a\nb\n", "a\nb\n", "x", "y").unwrap(), "");
    }

    #[test]
    fn a_change_shows_with_its_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
        assert_eq!(
            unified(old, new, "j v1", "j v2").unwrap(),
            "--- j v1\n+++ j v2\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
        );
    }

    #[test]
    fn far_apart_changes_make_two_hunks_and_additions_count_right() {
        let old: String = (1..=20).map(|i| format!("{i}\n")).collect();
        let new: String = (1..=21)
            .map(|i| {
                if i == 2 {
                    "two\n".to_owned()
                } else {
                    format!("{i}\n")
                }
            })
            .collect();
        let d = unified(&old, &new, "a", "b").unwrap();
        assert_eq!(d.matches("@@ ").count(), 2, "{d}");
        assert!(d.contains("-2\n+two\n"), "{d}");
        assert!(
            d.ends_with("@@ -18,3 +18,4 @@\n 18\n 19\n 20\n+21\n"),
            "{d}"
        );
    }

    #[test]
    fn an_insertion_into_an_empty_document_starts_at_zero() {
        assert_eq!(
            unified("", "a\n", "x", "y").unwrap(),
            "--- x\n+++ y\n@@ -0,0 +1,1 @@\n+a\n"
        );
    }
}
