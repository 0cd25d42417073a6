//! How schedules, their previews and their fire history look in a table.
//!
//! Fields are read leniently (a missing one shows as `-`), so a newer api
//! that adds or renames a field never breaks the listing.

use serde_json::Value;

use crate::client::output::{self, Table, yes_no};

/// A field as one cell: strings as they are, numbers and booleans printed,
/// absent or null as `-`.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) if s.is_empty() => "-".to_owned(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => yes_no(*b),
        Value::Array(items) if items.is_empty() => "-".to_owned(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// `k=v, …` for an object, `-` when empty.
fn pairs(value: &Value) -> String {
    match value.as_object() {
        Some(map) if !map.is_empty() => map
            .iter()
            .map(|(k, v)| format!("{k}={}", cell(v)))
            .collect::<Vec<_>>()
            .join(", "),
        _ => "-".to_owned(),
    }
}

/// The job as `name (id)`, or its id.
fn job(s: &Value) -> String {
    match s["job_name"].as_str() {
        Some(name) if !name.is_empty() => format!("{name} ({})", cell(&s["job_id"])),
        _ => cell(&s["job_id"]),
    }
}

/// A page of schedules.
pub fn list(items: &[Value]) -> Table {
    let mut table = Table::new(&[
        "ID",
        "NAME",
        "JOB",
        "CRON",
        "TIME ZONE",
        "ENABLED",
        "PAUSED",
        "NEXT FIRE",
    ]);
    for s in items {
        let job = match s["job_name"].as_str() {
            Some(name) if !name.is_empty() => name.to_owned(),
            _ => cell(&s["job_id"]),
        };
        table.row(vec![
            cell(&s["id"]),
            cell(&s["name"]),
            job,
            cell(&s["cron"]),
            cell(&s["time_zone"]),
            cell(&s["enabled"]),
            cell(&s["paused"]),
            cell(&s["next_fire_at"]),
        ]);
    }
    table
}

/// One schedule, every field.
pub fn details(s: &Value) -> String {
    let targets = &s["targets"];
    let secret = cell(&s["secret_parameters"]);
    output::details(&[
        ("id", cell(&s["id"])),
        ("name", cell(&s["name"])),
        ("description", cell(&s["description"])),
        ("job", job(s)),
        ("cron", cell(&s["cron"])),
        ("time zone", cell(&s["time_zone"])),
        ("start", cell(&s["start_at"])),
        ("end", cell(&s["end_at"])),
        ("enabled", cell(&s["enabled"])),
        ("paused", cell(&s["paused"])),
        ("dst gap", cell(&s["dst"]["gap"])),
        ("dst overlap", cell(&s["dst"]["overlap"])),
        ("misfire", pairs(&s["misfire"])),
        ("parameters", pairs(&s["parameters"])),
        ("secret parameters", secret),
        ("targets", cell(&targets["targets"])),
        ("groups", cell(&targets["groups"])),
        ("tags", cell(&targets["tags"])),
        ("owner", cell(&s["owner_id"])),
        ("revision", cell(&s["revision"])),
        ("created", cell(&s["created_at"])),
        ("updated", cell(&s["updated_at"])),
        ("next fire (UTC)", cell(&s["next_fire_at"])),
        ("next fire (local)", cell(&s["next_fire_local"])),
    ])
}

/// A preview's kind for a person.
pub fn kind(kind: &str) -> String {
    match kind {
        "regular" => "regular",
        "shifted_from_gap" => "shifted (DST gap)",
        "skipped_gap" => "skipped (DST gap)",
        "overlap_first" => "overlap (first)",
        "overlap_second" => "overlap (second)",
        other => other,
    }
    .to_owned()
}

/// The next fires: UTC, the schedule's local time, and the kind.
pub fn next(items: &[Value]) -> Table {
    let mut table = Table::new(&["UTC", "LOCAL", "KIND"]);
    for i in items {
        table.row(vec![
            cell(&i["at"]),
            cell(&i["local"]),
            kind(i["kind"].as_str().unwrap_or("regular")),
        ]);
    }
    table
}

/// Milliseconds as a short duration (`850 ms`, `12.3 s`).
pub fn millis(value: &Value) -> String {
    match value.as_f64() {
        Some(ms) if ms < 1000.0 => format!("{ms:.0} ms"),
        Some(ms) => format!("{:.1} s", ms / 1000.0),
        None => "-".to_owned(),
    }
}

/// The fire history, newest first as the api sends it.
pub fn fires(items: &[Value]) -> Table {
    let mut table = Table::new(&[
        "FIRE AT", "KIND", "RECORDED", "LAG", "CATCH-UP", "RUN", "REASON",
    ]);
    for f in items {
        table.row(vec![
            cell(&f["fire_at"]),
            cell(&f["kind"]),
            cell(&f["recorded_at"]),
            millis(&f["lag_ms"]),
            cell(&f["catch_up"]),
            cell(&f["run_id"]),
            cell(&f["reason"]),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_preview_names_each_kind() {
        let items = [
            json!({"at": "2027-03-28T01:00:00Z", "local": "2027-03-28T03:00:00+02:00", "kind": "shifted_from_gap"}),
            json!({"at": "2027-10-31T00:30:00Z", "local": "2027-10-31T02:30:00+02:00", "kind": "overlap_first"}),
            json!({"at": "2027-11-01T01:30:00Z", "local": "2027-11-01T02:30:00+01:00", "kind": "regular"}),
        ];
        assert_eq!(
            next(&items).render(),
            "UTC                   LOCAL                      KIND\n\
             2027-03-28T01:00:00Z  2027-03-28T03:00:00+02:00  shifted (DST gap)\n\
             2027-10-31T00:30:00Z  2027-10-31T02:30:00+02:00  overlap (first)\n\
             2027-11-01T01:30:00Z  2027-11-01T02:30:00+01:00  regular\n"
        );
        assert_eq!(kind("something_new"), "something_new");
    }

    #[test]
    fn absent_fields_are_dashes_and_lags_are_short() {
        assert_eq!(cell(&Value::Null), "-");
        assert_eq!(cell(&json!([])), "-");
        assert_eq!(cell(&json!(["a", "b"])), "a, b");
        assert_eq!(cell(&json!(true)), "yes");
        assert_eq!(millis(&json!(850)), "850 ms");
        assert_eq!(millis(&json!(12_345)), "12.3 s");
        assert_eq!(pairs(&json!({"env": "prod", "n": 3})), "env=prod, n=3");
        let shown = details(&json!({"id": "s1", "job_id": "j1", "job_name": "backup"}));
        assert!(
            shown.contains("job:               backup (j1)\n"),
            "{shown}"
        );
        assert!(shown.contains("next fire (local): -\n"), "{shown}");
    }
}
