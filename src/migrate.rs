//! `opsconductor migrate`.

use anyhow::Context as _;
use opsc_runtime::Config;

#[allow(clippy::print_stdout, reason = "command output")]
pub async fn run(config: &Config) -> anyhow::Result<()> {
    if config.database.url.is_none() {
        return Err(opsc_runtime::ConfigError {
            setting: "database.url (OPSC_DATABASE_URL)".into(),
            problem: "is required by migrate".into(),
        }
        .into());
    }
    let store = opsc_api::Store::connect(config).await?;
    let applied = store.migrate().await.context("migrating the database")?;
    store.close().await;
    println!("Applied {applied} migration(s); the database schema is current.");
    Ok(())
}
