//! `opsconductor keys rotate` and `opsconductor keys seal-key`.

use anyhow::Context as _;
use opsc_runtime::{Config, Role};

/// Re-wraps every credential under the current master key and prints a JSON report.
#[allow(clippy::print_stdout, reason = "command output")]
pub async fn rotate(config: &Config) -> anyhow::Result<()> {
    config.validate(&[Role::Api])?;
    let master = config.master_key()?;
    let retired: Vec<[u8; 32]> = config
        .retired_master_keys()?
        .iter()
        .map(|k| *k.expose())
        .collect();
    let keys = opsc_api::vault::Keyring::new(master.expose(), &retired);
    let store = opsc_api::Store::connect(config).await?;
    store.require_migrated().await?;
    let report = opsc_api::rotation::rotate(&store, &keys)
        .await
        .context("re-wrapping credentials")?;
    store.close().await;
    println!("{}", serde_json::to_string_pretty(&report)?);
    if !report.failed.is_empty() {
        anyhow::bail!(
            "{} credential(s) could not be opened: is every earlier master key in security.retired_master_keys?",
            report.failed.len()
        );
    }
    Ok(())
}

/// Prints the seal key of `pool`.
#[allow(clippy::print_stdout, reason = "command output")]
pub fn seal_key(config: &Config, pool: &str) -> anyhow::Result<()> {
    if !opsc_proto::subjects::is_valid_token(pool) {
        anyhow::bail!("--pool: must be 1-64 letters, digits, '-' or '_'");
    }
    let master = config.master_key()?;
    println!(
        "{}",
        opsc_runtime::keys::SealKey::for_pool(&master, pool).to_base64()
    );
    Ok(())
}
