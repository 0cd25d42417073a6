//! Bulk import (all or nothing, every bad row named) and export of target
//! documents, as JSON or CSV ([`super::csv_io`]).

use std::collections::{HashMap, HashSet};

use sea_orm::{ActiveModelTrait, EntityTrait, TransactionTrait};
use serde_json::Value;
use uuid::Uuid;

use super::crud::{RowError, TargetError, TargetQuery, active, filtered, name_taken};
use super::names::{self, Resolver};
use super::{FieldError, TargetSpec, csv_io, spec_of};
use crate::core::Core;
use crate::store::credential;

/// Most targets one import may hold.
const MAX_IMPORT: usize = 10_000;

/// How an import or export is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A JSON array of target documents.
    Json,
    /// CSV with the columns of [`csv_io::COLUMNS`].
    Csv,
}

impl Format {
    /// The format's name, as in `?format=` and the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
        }
    }
}

/// An export, ready to be sent as a file.
#[derive(Debug)]
pub struct Export {
    /// How `body` is written.
    pub format: Format,
    /// The file's content.
    pub body: String,
}

/// Reads `body` into rows of documents, or each row's errors.
async fn rows(
    core: &Core,
    body: &str,
    format: Format,
) -> Result<Vec<Result<TargetSpec, Vec<FieldError>>>, TargetError> {
    Ok(match format {
        Format::Csv => {
            let names: HashMap<String, Uuid> = credential::Entity::find()
                .all(core.db())
                .await?
                .into_iter()
                .map(|c| (c.name, c.id))
                .collect();
            csv_io::read(body, &names).map_err(TargetError::Invalid)?
        }
        Format::Json => {
            crate::strict::numbers_in_range(body.as_bytes()).map_err(TargetError::Invalid)?;
            let raw: Vec<Value> = serde_json::from_str(body).map_err(|e| {
                TargetError::Invalid(format!("the body must be a JSON array of targets: {e}"))
            })?;
            // Credentials may be named by name, as in the CSV.
            let mut resolver = Resolver::new(core.db());
            let mut rows = Vec::with_capacity(raw.len());
            for mut v in raw {
                let unresolved = names::target_document(&mut resolver, &mut v).await?;
                rows.push(if unresolved.is_empty() {
                    serde_json::from_value::<TargetSpec>(v).map_err(|e| {
                        vec![FieldError {
                            field: "row".into(),
                            message: e.to_string(),
                        }]
                    })
                } else {
                    Err(unresolved)
                });
            }
            rows
        }
    })
}

fn at_row(n: usize, errors: Vec<FieldError>) -> impl Iterator<Item = RowError> {
    errors.into_iter().map(move |e| RowError {
        row: n,
        field: e.field,
        message: e.message,
    })
}

/// What an import did.
#[derive(Debug)]
pub struct Imported {
    /// How many targets were imported.
    pub count: usize,
    /// The credential scopes an admin's import widened (for the audit trail).
    pub widened: serde_json::Value,
}

/// Imports every target of `body`, or none: everything is validated first
/// and [`TargetError::Rows`] names every bad row. The number imported.
pub async fn import(
    core: &Core,
    admin: bool,
    body: &str,
    format: Format,
) -> Result<Imported, TargetError> {
    let rows = rows(core, body, format).await?;
    if rows.is_empty() {
        return Err(TargetError::Invalid("nothing to import".to_owned()));
    }
    if rows.len() > MAX_IMPORT {
        return Err(TargetError::Invalid(
            "at most 10,000 targets per import".to_owned(),
        ));
    }
    let db = core.db();
    let mut errors: Vec<RowError> = Vec::new();
    let mut specs = Vec::new();
    let mut seen = HashSet::new();
    for (i, row) in rows.into_iter().enumerate() {
        let n = i + 1;
        match row {
            Err(es) => errors.extend(at_row(n, es)),
            Ok(mut spec) => {
                let mut es = spec.check_fields();
                es.extend(spec.check_credentials(db).await?);
                if !seen.insert(spec.name.clone()) {
                    es.push(FieldError {
                        field: "name".into(),
                        message: "appears twice in this import".into(),
                    });
                } else if name_taken(db, &spec.name, None).await? {
                    es.push(FieldError {
                        field: "name".into(),
                        message: "a target with this name exists".into(),
                    });
                }
                errors.extend(at_row(n, es));
                specs.push(spec);
            }
        }
    }
    if !errors.is_empty() {
        return Err(TargetError::Rows(errors));
    }
    let count = specs.len();
    let txn = db.begin().await?;
    let mut widened = Vec::new();
    for (i, spec) in specs.into_iter().enumerate() {
        // An operator's import keeps every credential inside its scope, as
        // a single target would; nothing is imported when a row does not.
        let w = super::scope::enforce(&txn, admin, None, &spec)
            .await
            .map_err(|e| match e {
                TargetError::Forbidden(why) => {
                    TargetError::Forbidden(format!("row {}: {why}", i + 1))
                }
                other => other,
            })?;
        if let serde_json::Value::Array(w) = w {
            widened.extend(w);
        }
        active(spec, Uuid::now_v7()).insert(&txn).await?;
    }
    txn.commit().await?;
    Ok(Imported {
        count,
        widened: serde_json::Value::Array(widened),
    })
}

/// Every target the query's filters select, as a file in its `format`
/// (`json` when none).
pub async fn export(core: &Core, q: &TargetQuery) -> Result<Export, TargetError> {
    let format = match q.format.as_deref().unwrap_or("json") {
        "json" => Format::Json,
        "csv" => Format::Csv,
        _ => {
            return Err(TargetError::Invalid(
                "format must be json or csv".to_owned(),
            ));
        }
    };
    let specs: Vec<TargetSpec> = filtered(core, q)
        .await?
        .all(core.db())
        .await?
        .iter()
        .map(spec_of)
        .collect();
    let body = match format {
        Format::Csv => csv_io::write(&specs),
        Format::Json => serde_json::to_string_pretty(&specs)?,
    };
    Ok(Export { format, body })
}
