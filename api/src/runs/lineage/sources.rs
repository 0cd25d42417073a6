//! The values a `parameters_from` mapping reads from the upstream run:
//! its parameters (secret ones opened from its vault record), and the
//! stored exit code and standard output of its steps (see [`super::inputs`]).

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement};
use serde_json::{Value, json};

use super::LineageError;
use crate::core::Core;
use crate::store::{run, run_step};

/// Longest standard output taken from a step, in bytes.
pub const MAX_STDOUT: usize = 64 * 1024;

/// What the mapping reads of the upstream run.
pub(super) struct Sources {
    shown: Value,
    secret: BTreeMap<String, Value>,
    /// Step id → (rows found, exit code of the one row).
    steps: BTreeMap<String, (usize, Option<i32>)>,
    /// Step id → its standard output (`None`: beyond [`MAX_STDOUT`]).
    stdout: BTreeMap<String, Option<String>>,
}

/// The step a source reads, if it reads one.
fn step_of(source: &str) -> Option<&str> {
    source.strip_prefix("steps.")?.split('.').next()
}

impl Sources {
    pub(super) async fn read(
        core: &Core,
        upstream: &run::Model,
        map: &BTreeMap<String, String>,
    ) -> Result<Self, LineageError> {
        let db = core.db();
        let wanted: BTreeSet<&str> = map.values().filter_map(|s| step_of(s)).collect();
        let secret = if map.values().any(|s| s.starts_with("params.")) {
            crate::runs::rerun::secret_parameters(core, upstream)?
        } else {
            BTreeMap::new()
        };
        let mut steps = BTreeMap::new();
        let mut stdout = BTreeMap::new();
        if !wanted.is_empty() {
            let rows = run_step::Entity::find()
                .filter(run_step::Column::RunId.eq(upstream.id))
                .filter(run_step::Column::StepId.is_in(wanted.iter().copied()))
                .all(db)
                .await?;
            for r in rows {
                let e = steps.entry(r.step_id).or_insert((0, None));
                e.0 += 1;
                e.1 = r.exit_code;
            }
            let lines = db
                .query_all(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT step_id, text FROM run_output
                      WHERE run_id = $1 AND stream = 'stdout'
                        AND step_id IN (SELECT jsonb_array_elements_text($2::jsonb))
                      ORDER BY step_id, target_key, line_no",
                    vec![upstream.id.into(), json!(wanted).into()],
                ))
                .await?;
            for l in lines {
                let step: String = l.try_get("", "step_id")?;
                let text: String = l.try_get("", "text")?;
                let e = stdout.entry(step).or_insert_with(|| Some(String::new()));
                if let Some(out) = e {
                    if !out.is_empty() {
                        out.push('\n');
                    }
                    out.push_str(&text);
                    if out.len() > MAX_STDOUT {
                        *e = None;
                    }
                }
            }
        }
        Ok(Self {
            shown: upstream.parameters.clone(),
            secret,
            steps,
            stdout,
        })
    }

    /// The value `source` names, and whether it is secret.
    pub(super) fn value(&self, source: &str) -> Result<(Value, bool), String> {
        if let Some(name) = source.strip_prefix("params.") {
            if let Some(v) = self.secret.get(name) {
                return Ok((v.clone(), true));
            }
            return match self.shown.get(name) {
                Some(v) if !v.is_null() => Ok((v.clone(), false)),
                _ => Err("the upstream run has no such parameter".to_owned()),
            };
        }
        let Some(rest) = source.strip_prefix("steps.") else {
            return Err(
                "a source is params.<name> or steps.<step>.(stdout|exit_code|json.<path>)"
                    .to_owned(),
            );
        };
        let (step, what) = rest
            .split_once('.')
            .ok_or("no field of the step is named")?;
        match self.steps.get(step) {
            None => return Err(format!("step {step:?} did not run in the upstream run")),
            Some((n, _)) if *n > 1 => {
                return Err(format!(
                    "step {step:?} ran on {n} targets; a source needs a step that ran once"
                ));
            }
            Some(_) => {}
        }
        let out = || -> Result<&str, String> {
            match self.stdout.get(step) {
                Some(Some(s)) => Ok(s.trim()),
                Some(None) => Err(format!(
                    "the output of step {step:?} exceeds {MAX_STDOUT} bytes"
                )),
                None => Ok(""),
            }
        };
        match what {
            "stdout" => Ok((json!(out()?), false)),
            "exit_code" => match self.steps.get(step).and_then(|s| s.1) {
                Some(code) => Ok((json!(code), false)),
                None => Err(format!("step {step:?} has no exit code")),
            },
            _ => {
                let Some(path) = what.strip_prefix("json.") else {
                    return Err(format!("unknown field {what:?} of a step"));
                };
                let doc: Value = serde_json::from_str(out()?)
                    .map_err(|_| format!("the output of step {step:?} is not JSON"))?;
                walk(&doc, path)
                    .filter(|v| !v.is_null())
                    .cloned()
                    .map(|v| (v, false))
                    .ok_or_else(|| format!("the JSON output of step {step:?} has no {path:?}"))
            }
        }
    }
}

/// The value at a dot-separated path of keys or array indexes.
fn walk<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(doc, |at, key| match at {
        Value::Object(m) => m.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources() -> Sources {
        Sources {
            shown: json!({"svc": "web", "token": "***"}),
            secret: BTreeMap::from([("token".to_owned(), json!("s3cret"))]),
            steps: BTreeMap::from([
                ("s".to_owned(), (1, Some(0))),
                ("many".to_owned(), (2, Some(0))),
                ("big".to_owned(), (1, None)),
            ]),
            stdout: BTreeMap::from([
                (
                    "s".to_owned(),
                    Some(" {\"a\": {\"b\": 7, \"c\": [1, {\"d\": \"x\"}]}}\n".to_owned()),
                ),
                ("big".to_owned(), None),
            ]),
        }
    }

    #[test]
    fn sources_resolve_or_say_why_not() {
        let s = sources();
        assert_eq!(s.value("params.svc").unwrap(), (json!("web"), false));
        assert_eq!(s.value("params.token").unwrap(), (json!("s3cret"), true));
        assert_eq!(s.value("steps.s.exit_code").unwrap(), (json!(0), false));
        assert_eq!(s.value("steps.s.json.a.b").unwrap(), (json!(7), false));
        assert_eq!(
            s.value("steps.s.json.a.c.1.d").unwrap(),
            (json!("x"), false)
        );
        assert!(
            s.value("steps.s.stdout")
                .unwrap()
                .0
                .as_str()
                .unwrap()
                .starts_with('{')
        );
        for (bad, why) in [
            ("params.nope", "no such parameter"),
            ("steps.s.json.a.z", "has no"),
            ("steps.gone.stdout", "did not run"),
            ("steps.many.stdout", "ran on 2 targets"),
            ("steps.big.stdout", "exceeds"),
            ("steps.big.exit_code", "no exit code"),
            ("steps.s.stderr", "unknown field"),
            ("env.HOME", "a source is"),
        ] {
            let e = s.value(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
