//! The core every other module of the api stands on: the system of record,
//! the bus, the vault and sealer, the configuration, and the small caches
//! and metrics the domain modules share. Built once at start and passed,
//! never global. It knows nothing about HTTP.

use std::sync::Arc;
use std::time::Duration;

use opsc_runtime::bus::Bus;
use opsc_runtime::keys::PoolSealer;
use opsc_runtime::{Config, Metrics};

use crate::auth::keys::DerivedKeys;
use crate::auth::throttle::{Limits, Throttle};
use crate::jobs::cache::DefinitionCache;
use crate::metrics::ApiMetrics;
use crate::settings::Settings;
use crate::store::Store;

/// What every domain module is given.
#[derive(Clone, Debug)]
pub struct Core {
    /// The system of record.
    pub store: Store,
    /// The bus, for commands and events.
    pub bus: Bus,
    /// The configuration.
    pub config: Arc<Config>,
    /// Keys derived from the master key (access tokens, MFA secrets).
    pub keys: Arc<DerivedKeys>,
    /// Key-encryption keys of the credential vault.
    pub vault: Arc<crate::vault::Keyring>,
    /// Seals secrets for the worker pool that uses them, and opens what
    /// producers sealed for the api's intake.
    pub sealer: Arc<PoolSealer>,
    /// Security settings (cached).
    pub settings: Settings,
    /// Login throttling.
    pub throttle: Arc<Throttle>,
    /// An Argon2 hash checked for unknown users, so they cost the same time.
    pub dummy_hash: Arc<str>,
    /// Bounds password verifications and logins per address in flight.
    pub verifier: Arc<crate::password::Verifier>,
    /// Live streams each user holds open.
    pub streams: Arc<crate::slots::Slots<uuid::Uuid>>,
    /// Previews of unsaved cron expressions computed at once (each may
    /// search ten years of dates: tens of milliseconds of CPU).
    pub cron_previews: Arc<tokio::sync::Semaphore>,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
    /// Live workers, from their heartbeats.
    pub workers: crate::workers::Registry,
    /// Parsed job versions (immutable, so cached without expiry).
    pub definitions: DefinitionCache,
    /// Authenticated tokens, for a few seconds.
    pub principals: crate::auth::PrincipalCache,
    /// The api's pipeline metrics.
    pub metrics: ApiMetrics,
    /// Group insert of admitted runs.
    pub runs_writer: crate::store::batch::Batcher,
    /// Group insert of audit records.
    pub audit_writer: crate::store::batch::Batcher,
}

impl Core {
    /// Builds the core; fails on a bad master key.
    pub fn new(
        store: Store,
        bus: Bus,
        config: Arc<Config>,
        metrics: &Metrics,
    ) -> anyhow::Result<Self> {
        let master = config.master_key()?;
        let keys = DerivedKeys::from_master(master.expose());
        let retired: Vec<[u8; 32]> = config
            .retired_master_keys()?
            .iter()
            .map(|k| *k.expose())
            .collect();
        let vault = crate::vault::Keyring::new(master.expose(), &retired);
        let a = &config.auth;
        let throttle = Throttle::new(Limits {
            per_address: usize::try_from(a.address_failure_limit).unwrap_or(usize::MAX),
            window: Duration::from_secs(15 * 60),
            lockout_threshold: a.lockout_threshold,
            lockout: Duration::from_secs(a.lockout_secs),
        });
        let dummy = crate::password::hash(&crate::password::generate())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
        Ok(Self {
            settings: Settings::new(store.db().clone()),
            runs_writer: crate::runs::admit::writer(store.db().clone()),
            audit_writer: crate::audit::writer(store.db().clone()),
            store,
            bus,
            keys: Arc::new(keys),
            throttle: Arc::new(throttle),
            dummy_hash: dummy.into(),
            verifier: Arc::new(crate::password::Verifier::new(
                config.auth.password_check_limit(),
                config.auth.logins_per_address,
            )),
            trusted_proxies: Arc::new(config.http.trusted_networks()),
            streams: Arc::new(crate::slots::Slots::new(config.http.streams_per_user)),
            cron_previews: Arc::new(tokio::sync::Semaphore::new(2)),
            vault: Arc::new(vault),
            sealer: Arc::new(PoolSealer::new(master)),
            workers: crate::workers::Registry::new(Duration::from_secs(
                config.worker.heartbeat_secs,
            )),
            definitions: DefinitionCache::default(),
            principals: crate::auth::PrincipalCache::new(Duration::from_secs(
                config.auth.token_cache_secs,
            )),
            metrics: ApiMetrics::register(metrics),
            config,
        })
    }

    /// The database connection.
    pub fn db(&self) -> &sea_orm::DatabaseConnection {
        self.store.db()
    }
}
