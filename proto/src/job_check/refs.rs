//! What templates in `with` and `when` may reference, found by parsing them
//! with minijinja (the engine workers render them with); and, once they
//! parse, their [`bounds`] and, in commands, their [`quoting`].

use std::collections::{BTreeSet, HashSet};

use minijinja::Environment;
use serde_json::Value;

use super::bounds::{self, Kind};
use super::quoting::{self, Language};
use super::{PathError, token};
use crate::job::{JobDefinition, ParamType};

/// Context roots whose members are not known before a run.
const OPEN_ROOTS: [&str; 3] = ["target", "run", "job"];

/// The names a template in one step may use.
pub(super) struct Scope<'a> {
    def: &'a JobDefinition,
    earlier_steps: &'a HashSet<&'a str>,
    env: Environment<'static>,
}

impl<'a> Scope<'a> {
    pub(super) fn new(def: &'a JobDefinition, earlier_steps: &'a HashSet<&'a str>) -> Self {
        Self {
            def,
            earlier_steps,
            env: Environment::new(),
        }
    }

    /// Checks every string inside `value`, recursively, as a template;
    /// `language`: the command language its values are quoted for.
    pub(super) fn check_value(
        &self,
        value: &Value,
        at: &str,
        language: Option<Language>,
        errors: &mut Vec<PathError>,
    ) {
        match value {
            Value::String(s) => self.check_template(s, at, language, errors),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.check_value(item, &format!("{at}/{i}"), language, errors);
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    self.check_value(v, &format!("{at}/{}", token(k)), language, errors);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    fn check_template(
        &self,
        source: &str,
        at: &str,
        language: Option<Language>,
        errors: &mut Vec<PathError>,
    ) {
        if !source.contains("{{") && !source.contains("{%") && !source.contains("{#") {
            return;
        }
        if let Err(e) = bounds::check_size(source, false) {
            return errors.push(PathError::new(at, e));
        }
        match self.env.template_from_str(source) {
            Ok(t) => self.check_names(t.undeclared_variables(true), at, errors),
            Err(e) => return errors.push(PathError::new(at, format!("template: {e}"))),
        }
        let kinds = |name: &str| self.param_kind(name);
        let mut problems = bounds::check_template(source, &kinds);
        if let Some(language) = language {
            problems.extend(quoting::check_quoting(language, source));
        }
        errors.extend(problems.into_iter().map(|m| PathError::new(at, m)));
    }

    /// Checks a `when` expression.
    pub(super) fn check_expression(&self, source: &str, at: &str, errors: &mut Vec<PathError>) {
        if let Err(e) = bounds::check_size(source, true) {
            return errors.push(PathError::new(at, e));
        }
        match self.env.compile_expression(source) {
            Ok(e) => self.check_names(e.undeclared_variables(true), at, errors),
            Err(e) => return errors.push(PathError::new(at, format!("expression: {e}"))),
        }
        let kinds = |name: &str| self.param_kind(name);
        let problems = bounds::check_expression(source, &kinds);
        errors.extend(problems.into_iter().map(|m| PathError::new(at, m)));
    }

    /// What a parameter holds, as far as its declared type tells.
    fn param_kind(&self, name: &str) -> Kind {
        match self.def.parameters.get(name).map(|p| p.kind) {
            Some(ParamType::Int) => Kind::Number,
            Some(ParamType::Bool) => Kind::Bool,
            _ => Kind::Other,
        }
    }

    fn check_names(
        &self,
        names: impl IntoIterator<Item = String>,
        at: &str,
        errors: &mut Vec<PathError>,
    ) {
        // Sorted, so that errors come in a stable order.
        let names: BTreeSet<String> = names.into_iter().collect();
        for name in names {
            if let Some(message) = self.problem(&name) {
                errors.push(PathError::new(at, message));
            }
        }
    }

    /// What is wrong with a dotted reference like `steps.check.stdout`.
    fn problem(&self, dotted: &str) -> Option<String> {
        let mut parts = dotted.split('.');
        let root = parts.next().unwrap_or_default();
        let member = parts.next();
        match root {
            "params" => member
                .filter(|p| !self.def.parameters.contains_key(*p))
                .map(|p| format!("unknown parameter '{p}'")),
            "steps" => member.and_then(|s| self.step_problem(s)),
            r if OPEN_ROOTS.contains(&r) => None,
            r if self.def.parameters.contains_key(r) => None,
            r if bounds::FUNCTIONS.contains(&r) => None,
            r => Some(format!("unknown parameter or variable '{r}'")),
        }
    }

    fn step_problem(&self, id: &str) -> Option<String> {
        if self.earlier_steps.contains(id) {
            None
        } else if self.def.steps.iter().any(|s| s.id == id) {
            Some(format!(
                "step '{id}' does not run before this one: only earlier steps can be referenced"
            ))
        } else {
            Some(format!("unknown step '{id}'"))
        }
    }
}
