//! `opsconductor dev`: every role against local defaults, ready to try.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use base64::Engine as _;
use opsc_api::{BootstrapOutcome, Store};
use opsc_runtime::Role;
use secrecy::ExposeSecret;

use crate::settings::{GlobalArgs, load_config};

/// `dev` arguments.
#[derive(Debug, clap::Args)]
pub struct DevArgs {
    /// Where dev keeps its generated master key.
    #[arg(long, default_value = ".opsconductor", value_name = "DIR")]
    pub data_dir: PathBuf,
    /// Listen address [http.addr, OPSC_HTTP_ADDR].
    #[arg(long, value_name = "ADDR")]
    pub http_addr: Option<String>,
}

/// The database dev uses when none is configured. On loopback TLS protects
/// nothing and costs both ends CPU on every statement, so it is off.
const DEV_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/opsconductor?sslmode=disable";

#[allow(clippy::print_stdout, reason = "dev tells the person where to go")]
pub async fn run(global: &GlobalArgs, args: DevArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating the data directory {}", args.data_dir.display()))?;
    let mut flags = Vec::new();
    if let Some(a) = args.http_addr {
        flags.push(("http.addr", a));
    }
    let set = |name: &str| global.env_has(name);
    if !set("OPSC_DATABASE_URL") && global.database_url.is_none() {
        flags.push(("database.url", DEV_DATABASE_URL.to_owned()));
    }
    // The demo's steps run on the worker host: dev lets its default pool
    // do that, in a working root of its own (see docs/security.md).
    if !set("OPSC_POOLS_LOCAL_EXEC") {
        flags.push(("pools.local_exec", "default".to_owned()));
    }
    // In dev, targets and the api itself live on this machine.
    if !set("OPSC_WORKER_EGRESS_ALLOW") {
        flags.push(("worker.egress_allow", "loopback".to_owned()));
    }
    if !set("OPSC_WORKER_WORK_ROOT") {
        let root =
            std::path::absolute(args.data_dir.join("work")).context("resolving the work root")?;
        flags.push(("worker.work_root", root.display().to_string()));
    }
    if !set("OPSC_LOG_FORMAT") && global.log_format.is_none() {
        flags.push(("log.format", "text".to_owned()));
    }
    if !set("OPSC_MASTER_KEY") && !set("OPSC_MASTER_KEY_FILE") {
        let key_file = args.data_dir.join("master.key");
        ensure_master_key(&key_file)?;
        flags.push(("security.master_key_file", key_file.display().to_string()));
    }
    let generated =
        if set("OPSC_BOOTSTRAP_ADMIN_PASSWORD") || set("OPSC_BOOTSTRAP_ADMIN_PASSWORD_FILE") {
            None
        } else {
            let pw = opsc_api::password::generate();
            flags.push((
                "security.bootstrap_admin_password",
                pw.expose_secret().to_owned(),
            ));
            Some(pw)
        };
    let config = load_config(global, flags)?;
    config.validate(&Role::ALL)?;
    opsc_runtime::telemetry::init(&config.log);

    if let Some(url) = config.database_url()? {
        Store::create_database_if_missing(url.expose_secret())
            .await
            .context("preparing the dev database")?;
    }
    let store = Store::connect(&config).await?;
    let applied = store.migrate().await?;
    let (store, outcome) = opsc_api::prepare(&config).await?;
    let owner = opsc_api::demo::owner(store.db(), &config.security.bootstrap_admin_username)
        .await
        .context("finding the demo job's owner")?;
    let demo = opsc_api::demo::ensure(store.db(), owner)
        .await
        .context("creating the demo job")?;
    let addr = config.http.addr;
    println!();
    println!("OpsConductor dev is starting at http://{addr}/  (applied {applied} migration(s))");
    println!("  health:  http://{addr}/readyz   metrics: http://{addr}/metrics");
    match (&outcome, &generated) {
        (BootstrapOutcome::Created { username }, Some(pw)) => {
            println!("  log in as {username:?} with the generated password (shown only now):");
            println!("      {}", pw.expose_secret());
        }
        (BootstrapOutcome::Created { username }, None) => {
            println!("  log in as {username:?} with OPSC_BOOTSTRAP_ADMIN_PASSWORD");
        }
        (BootstrapOutcome::UsersExist, _) => {
            println!("  log in with an existing user (the first admin was created earlier)");
        }
    }
    if let Some(id) = demo {
        println!(
            "  demo job {:?} created: POST http://{addr}/api/v1/jobs/{id}/run",
            opsc_api::demo::DEMO_JOB
        );
    }
    println!("  stop with Ctrl-C");
    println!();
    crate::server::run(crate::server::Launch {
        config: config.into(),
        roles: Role::ALL.to_vec(),
        store: Some(store),
    })
    .await
}

/// Creates a random 32-byte master key file (mode 0600) unless one exists.
fn ensure_master_key(path: &Path) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let mut key = [0u8; 32];
    rand::fill(&mut key);
    let text = base64::engine::general_purpose::STANDARD.encode(key);
    #[cfg(unix)]
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("creating {}", path.display()))?;
        f.write_all(text.as_bytes())?;
    }
    #[cfg(not(unix))]
    std::fs::write(path, text)?;
    Ok(())
}
