//! `opsconductor keys rotate`, `keys seal-key` and `keys seal`.

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

/// Prints the seal key of `pool`, or the api's intake key.
#[allow(clippy::print_stdout, reason = "command output")]
pub fn seal_key(config: &Config, pool: &str, intake: bool) -> anyhow::Result<()> {
    let master = config.master_key()?;
    let key = if intake {
        opsc_runtime::keys::IntakeKey::derive(&master)
            .public()
            .to_base64()
    } else {
        if !opsc_proto::subjects::is_valid_token(pool) {
            anyhow::bail!("--pool: must be 1-64 letters, digits, '-' or '_'");
        }
        opsc_runtime::keys::SealKey::for_pool(&master, pool).to_base64()
    };
    println!("{key}");
    Ok(())
}

/// Prints the notifier's seal key (it opens channel secrets).
#[allow(clippy::print_stdout, reason = "command output")]
pub fn seal_key_notifier(config: &Config) -> anyhow::Result<()> {
    let master = config.master_key()?;
    println!(
        "{}",
        opsc_runtime::keys::SealKey::for_notifier(&master).to_base64()
    );
    Ok(())
}

/// Seals standard input for the api with the public intake key in
/// `key_file`, bound to `context`.
#[allow(clippy::print_stdout, reason = "command output")]
pub fn seal(key_file: &std::path::Path, context: &str) -> anyhow::Result<()> {
    use std::io::Read as _;
    let text = std::fs::read_to_string(key_file)
        .with_context(|| format!("reading {}", key_file.display()))?;
    let key = opsc_runtime::keys::IntakePublicKey::from_base64(&text).with_context(|| {
        format!(
            "{}: not an intake key (32 bytes, base64, from `keys seal-key --intake`)",
            key_file.display()
        )
    })?;
    let mut plain = Vec::new();
    std::io::stdin()
        .read_to_end(&mut plain)
        .context("reading standard input")?;
    println!("{}", key.seal(&plain, context));
    Ok(())
}
