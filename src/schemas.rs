//! `opsconductor schemas write|check`.

use std::path::PathBuf;

/// `schemas` actions.
#[derive(Debug, clap::Subcommand)]
pub enum SchemasAction {
    /// Write every schema (removing stale ones) into the folder.
    Write {
        /// The schemas folder.
        #[arg(long, default_value = "schemas")]
        dir: PathBuf,
    },
    /// Exit non-zero when the folder differs from the code.
    Check {
        /// The schemas folder.
        #[arg(long, default_value = "schemas")]
        dir: PathBuf,
    },
}

#[allow(clippy::print_stdout, reason = "command output")]
pub fn run(action: SchemasAction) -> anyhow::Result<()> {
    match action {
        SchemasAction::Write { dir } => {
            let written = opsc_proto::schema::write(&dir)?;
            std::fs::write(
                dir.join("openapi.json"),
                opsc_api::http::openapi::document_text(),
            )?;
            println!(
                "Wrote {} schemas and openapi.json under {}.",
                written.len(),
                dir.display()
            );
            Ok(())
        }
        SchemasAction::Check { dir } => {
            let mut drift: Vec<String> = opsc_proto::schema::check(&dir)?
                .iter()
                .map(ToString::to_string)
                .collect();
            let openapi = std::fs::read_to_string(dir.join("openapi.json")).unwrap_or_default();
            if openapi != opsc_api::http::openapi::document_text() {
                drift.push("openapi.json: differs from the code".to_owned());
            }
            if drift.is_empty() {
                println!("Schemas under {} match the code.", dir.display());
                return Ok(());
            }
            for d in &drift {
                println!("{d}");
            }
            anyhow::bail!(
                "{} schema(s) drifted: run `opsconductor schemas write` and review the diff",
                drift.len()
            )
        }
    }
}
