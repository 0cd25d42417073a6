//! The shape of the Grafana dashboard and of the alert rules: what Grafana
//! and Prometheus need to load them, and every expression with its source.

use std::collections::BTreeSet;

use serde_json::Value;

/// An expression and where it comes from (for messages).
pub struct Expr {
    pub at: String,
    pub expr: String,
}

/// What is wrong with the dashboard as Grafana dashboard JSON (empty when
/// nothing), and its expressions: the panels' targets and the variables'
/// `label_values(<selector>, <label>)` queries (the selector part).
pub fn check_dashboard(d: &Value) -> (Vec<String>, Vec<Expr>) {
    let mut bad = Vec::new();
    let mut exprs = Vec::new();
    for key in ["title", "uid"] {
        if d[key].as_str().is_none_or(str::is_empty) {
            bad.push(format!("no `{key}`"));
        }
    }
    let uid = d["uid"].as_str().unwrap_or_default();
    if uid.len() > 40
        || !uid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bad.push(format!("uid `{uid}` is not a Grafana uid"));
    }
    if d["schemaVersion"].as_u64().is_none_or(|v| v < 39) {
        bad.push(format!("schemaVersion {} < 39", d["schemaVersion"]));
    }
    let vars = d["templating"]["list"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let defined: BTreeSet<String> = vars
        .iter()
        .filter_map(|v| v["name"].as_str().map(str::to_owned))
        .collect();
    if defined.len() != vars.len() {
        bad.push("variables without a name or defined twice".to_owned());
    }
    let ds = vars.iter().find(|v| v["name"] == "datasource");
    if ds.is_none_or(|v| v["type"] != "datasource" || v["query"] != "prometheus") {
        bad.push("no `datasource` variable of type datasource for prometheus".to_owned());
    }
    for want in ["job", "pool"] {
        if !defined.contains(want) {
            bad.push(format!("no `{want}` variable"));
        }
    }
    for v in vars.iter().filter(|v| v["type"] == "query") {
        let name = v["name"].as_str().unwrap_or_default();
        let q = v["query"]["query"]
            .as_str()
            .or(v["query"].as_str())
            .unwrap_or_default();
        match q
            .strip_prefix("label_values(")
            .and_then(|r| r.strip_suffix(')'))
            .and_then(|r| r.rsplit_once(','))
        {
            Some((selector, _label)) => exprs.push(Expr {
                at: format!("variable {name}"),
                expr: selector.to_owned(),
            }),
            None => bad.push(format!(
                "variable {name}: query `{q}` is not label_values(…)"
            )),
        }
        if v["datasource"]["uid"] != "${datasource}" {
            bad.push(format!("variable {name}: not on ${{datasource}}"));
        }
    }
    let Some(panels) = d["panels"].as_array() else {
        bad.push("no `panels`".to_owned());
        return (bad, exprs);
    };
    let mut all: Vec<&Value> = Vec::new();
    for p in panels {
        all.push(p);
        all.extend(p["panels"].as_array().into_iter().flatten());
    }
    let mut ids = BTreeSet::new();
    let mut boxes: Vec<(u64, u64, u64, u64, String)> = Vec::new();
    let mut used = BTreeSet::new();
    for p in &all {
        let title = p["title"].as_str().unwrap_or_default().to_owned();
        let at = format!("panel {} ({title})", p["id"]);
        if p["id"].as_u64().is_none_or(|id| !ids.insert(id)) {
            bad.push(format!("{at}: no id, or an id used twice"));
        }
        if p["type"].as_str().is_none_or(str::is_empty) || title.is_empty() {
            bad.push(format!("{at}: no type or title"));
        }
        let g = &p["gridPos"];
        let n = |k: &str| g[k].as_u64();
        match (n("h"), n("w"), n("x"), n("y")) {
            (Some(h), Some(w), Some(x), Some(y)) if w >= 1 && h >= 1 && x + w <= 24 => {
                for (bx, by, bw, bh, other) in &boxes {
                    if x < bx + bw && *bx < x + w && y < by + bh && *by < y + h {
                        bad.push(format!("{at} overlaps {other}"));
                    }
                }
                boxes.push((x, y, w, h, at.clone()));
            }
            _ => bad.push(format!(
                "{at}: gridPos {g} is not h, w, x, y within 24 columns"
            )),
        }
        if p["type"] == "row" {
            continue;
        }
        if p["datasource"]["type"] != "prometheus" || p["datasource"]["uid"] != "${datasource}" {
            bad.push(format!(
                "{at}: datasource is not the ${{datasource}} Prometheus"
            ));
        }
        let targets = p["targets"].as_array().cloned().unwrap_or_default();
        if targets.is_empty() {
            bad.push(format!("{at}: no targets"));
        }
        let mut refs = BTreeSet::new();
        for t in &targets {
            if t["refId"]
                .as_str()
                .is_none_or(|r| !refs.insert(r.to_owned()))
            {
                bad.push(format!(
                    "{at}: a target without a refId or with one used twice"
                ));
            }
            match t["expr"].as_str() {
                Some(e) if !e.trim().is_empty() => {
                    used.extend(super::promql::variables(e));
                    exprs.push(Expr {
                        at: at.clone(),
                        expr: e.to_owned(),
                    });
                }
                _ => bad.push(format!("{at}: a target without expr")),
            }
        }
    }
    used.extend(super::promql::variables(&d.to_string()));
    for v in used.difference(&defined) {
        bad.push(format!("`${v}` is used but not defined"));
    }
    (bad, exprs)
}

/// What is wrong with the rule groups (empty when nothing), and the
/// alerts' expressions.
pub fn check_rules(r: &Value) -> (Vec<String>, Vec<Expr>) {
    let mut bad = Vec::new();
    let mut exprs = Vec::new();
    let mut names = BTreeSet::new();
    let groups = r["groups"].as_array().cloned().unwrap_or_default();
    if groups.is_empty() {
        bad.push("no `groups`".to_owned());
    }
    for g in &groups {
        let rules = g["rules"].as_array().cloned().unwrap_or_default();
        if g["name"].as_str().is_none() || rules.is_empty() {
            bad.push(format!("group {}: no name or no rules", g["name"]));
        }
        for rule in &rules {
            let name = rule["alert"].as_str().unwrap_or_default().to_owned();
            if name.is_empty() || !names.insert(name.clone()) {
                bad.push(format!("an alert without a name, or `{name}` twice"));
            }
            if !["critical", "warning", "info"]
                .contains(&rule["labels"]["severity"].as_str().unwrap_or_default())
            {
                bad.push(format!("{name}: severity is not critical, warning or info"));
            }
            for a in ["summary", "description"] {
                if rule["annotations"][a].as_str().is_none_or(str::is_empty) {
                    bad.push(format!("{name}: no {a}"));
                }
            }
            let runbook = rule["annotations"]["runbook"].as_str().unwrap_or_default();
            if runbook != format!("docs/operations.md#{}", name.to_ascii_lowercase()) {
                bad.push(format!(
                    "{name}: runbook `{runbook}` is not its docs/operations.md section"
                ));
            }
            if let Some(f) = rule.get("for") {
                let f = f.as_str().unwrap_or_default();
                let (num, unit) = f.split_at(f.len().saturating_sub(1));
                if num.parse::<u32>().is_err() || !["s", "m", "h"].contains(&unit) {
                    bad.push(format!("{name}: `for: {f}` is not a duration"));
                }
            }
            match rule["expr"].as_str() {
                Some(e) if !e.trim().is_empty() => exprs.push(Expr {
                    at: format!("alert {name}"),
                    expr: e.to_owned(),
                }),
                _ => bad.push(format!("{name}: no expr")),
            }
        }
    }
    (bad, exprs)
}
