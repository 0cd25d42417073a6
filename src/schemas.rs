//! `opsconductor schemas write|check`.

use crate::cli::SchemasAction;

#[allow(clippy::print_stdout, reason = "command output")]
pub fn run(action: SchemasAction) -> anyhow::Result<()> {
    match action {
        SchemasAction::Write { dir } => {
            let written = opsc_proto::schema::write(&dir)?;
            println!("Wrote {} schemas under {}.", written.len(), dir.display());
            Ok(())
        }
        SchemasAction::Check { dir } => {
            let drift = opsc_proto::schema::check(&dir)?;
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
