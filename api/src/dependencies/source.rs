//! The sources of a dependency's parameter mapping, read and checked
//! against job A's and job B's current definitions.
//!
//! A source is `params.<name>` (a parameter of A), or, for a step of A,
//! `steps.<step>.stdout`, `steps.<step>.exit_code` or
//! `steps.<step>.json.<dot.path>` (a key path into the step's JSON
//! output, each key non-empty).

use std::collections::BTreeMap;

use opsc_proto::job::{JobDefinition, ParamType};
use opsc_proto::job_check::PathError;

/// Where a parameter of B comes from in A's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source<'a> {
    /// A parameter of A's run.
    Param(&'a str),
    /// A step's standard output.
    Stdout(&'a str),
    /// A step's exit code.
    ExitCode(&'a str),
    /// A value inside a step's JSON output, by key path.
    Json(&'a str, &'a str),
}

impl<'a> Source<'a> {
    /// Reads one source, or says why it is none.
    pub(crate) fn parse(raw: &'a str) -> Result<Self, String> {
        const FORMS: &str = "a source is params.<name>, steps.<step>.stdout, \
                             steps.<step>.exit_code or steps.<step>.json.<path>";
        if raw.contains('\0') {
            return Err("a source must not contain NUL characters".to_owned());
        }
        if let Some(name) = raw.strip_prefix("params.") {
            return if name.is_empty() {
                Err(format!("{raw:?} names no parameter: {FORMS}"))
            } else {
                Ok(Self::Param(name))
            };
        }
        let Some(rest) = raw.strip_prefix("steps.") else {
            return Err(format!("{raw:?} is not a source: {FORMS}"));
        };
        let Some((step, what)) = rest.split_once('.') else {
            return Err(format!("{raw:?} says nothing of the step: {FORMS}"));
        };
        if step.is_empty() {
            return Err(format!("{raw:?} names no step: {FORMS}"));
        }
        match what {
            "stdout" => Ok(Self::Stdout(step)),
            "exit_code" => Ok(Self::ExitCode(step)),
            _ => match what.strip_prefix("json.") {
                Some(path) if !path.is_empty() && path.split('.').all(|k| !k.is_empty()) => {
                    Ok(Self::Json(step, path))
                }
                Some(_) => Err(format!(
                    "{raw:?}: the JSON key path must be keys separated by single dots"
                )),
                None => Err(format!("{raw:?} is not a source: {FORMS}")),
            },
        }
    }

    /// The step it reads, if it reads one.
    fn step(self) -> Option<&'a str> {
        match self {
            Self::Param(_) => None,
            Self::Stdout(s) | Self::ExitCode(s) | Self::Json(s, _) => Some(s),
        }
    }
}

/// Whether `name` is a secret parameter of `def`.
pub(crate) fn is_secret(def: &JobDefinition, name: &str) -> bool {
    def.parameters
        .get(name)
        .is_some_and(|p| p.kind == ParamType::Secret)
}

/// The path of one mapping entry.
pub(crate) fn at(name: &str) -> String {
    format!("/parameters/{}", crate::strict::escape(name))
}

/// The problems of the mapping's syntax alone (no definitions needed).
pub(crate) fn syntax(map: &BTreeMap<String, String>) -> Vec<PathError> {
    map.iter()
        .filter_map(|(name, raw)| {
            if name.is_empty() {
                Some(PathError::new(at(name), "names no parameter of job B"))
            } else {
                Source::parse(raw)
                    .err()
                    .map(|why| PathError::new(at(name), why))
            }
        })
        .collect()
}

/// The problems of the mapping against A's (`up`) and B's (`down`)
/// current definitions.
pub(crate) fn against(
    map: &BTreeMap<String, String>,
    up: &JobDefinition,
    down: &JobDefinition,
) -> Vec<PathError> {
    let mut errors = Vec::new();
    for (name, raw) in map {
        let Ok(source) = Source::parse(raw) else {
            continue;
        };
        let path = at(name);
        if !down.parameters.contains_key(name) {
            errors.push(PathError::new(
                path,
                format!("job {:?} has no parameter {name:?}", down.name),
            ));
            continue;
        }
        if let Some(step) = source.step() {
            if !up.steps.iter().any(|s| s.id == step) {
                errors.push(PathError::new(
                    path,
                    format!("job {:?} has no step {step:?}", up.name),
                ));
            }
            continue;
        }
        let Source::Param(from) = source else {
            continue;
        };
        if !up.parameters.contains_key(from) {
            errors.push(PathError::new(
                path,
                format!("job {:?} has no parameter {from:?}", up.name),
            ));
        } else if is_secret(up, from) && !is_secret(down, name) {
            errors.push(PathError::new(
                path,
                format!(
                    "parameter {from:?} of job {:?} is secret: it maps only to a secret \
                     parameter, and {name:?} of job {:?} is not",
                    up.name, down.name
                ),
            ));
        }
    }
    errors
}

/// The names of A's secret parameters the mapping reads.
pub(crate) fn secret_sources<'a>(
    map: &'a BTreeMap<String, String>,
    up: &JobDefinition,
) -> Vec<&'a str> {
    map.values()
        .filter_map(|raw| match Source::parse(raw) {
            Ok(Source::Param(from)) if is_secret(up, from) => Some(from),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Source;

    #[test]
    fn the_four_forms_read_and_others_do_not() {
        assert_eq!(Source::parse("params.svc"), Ok(Source::Param("svc")));
        assert_eq!(Source::parse("steps.a.stdout"), Ok(Source::Stdout("a")));
        assert_eq!(
            Source::parse("steps.a.exit_code"),
            Ok(Source::ExitCode("a"))
        );
        assert_eq!(
            Source::parse("steps.a.json.x.y"),
            Ok(Source::Json("a", "x.y"))
        );
        for bad in [
            "",
            "params.",
            "param.x",
            "steps.",
            "steps.a",
            "steps..stdout",
            "steps.a.stderr",
            "steps.a.json",
            "steps.a.json.",
            "steps.a.json.x..y",
            "steps.a.json.x.",
            "steps.a.stdout.x",
            "steps.a.json.x\0",
        ] {
            assert!(Source::parse(bad).is_err(), "{bad:?}");
        }
    }
}
