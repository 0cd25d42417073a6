//! Every role next to a test's api, each with a health port the test knows,
//! so it can scrape every role's `/metrics`.

use std::time::Duration;

use crate::harness::{ApiServer, Opsc, TEST_MASTER_KEY, env_of, free_port, shared_nats_url};

/// A started role and the address of its `/metrics`.
pub struct Role {
    pub name: &'static str,
    pub metrics: String,
    pub process: Opsc,
}

/// Starts `server <role>` on the api's prefix with `env` plus the prefix, the
/// NATS URL and a health address; waits until it is ready.
async fn start(
    api: &ApiServer,
    role: &'static str,
    health_env: &str,
    env: &[(&str, String)],
) -> Role {
    let health = format!("127.0.0.1:{}", free_port());
    let nats = api
        .env
        .get("OPSC_NATS_URL")
        .cloned()
        .unwrap_or_else(shared_nats_url);
    let mut all = env_of(env);
    all.insert("OPSC_NATS_PREFIX".to_owned(), api.prefix.to_string());
    all.insert("OPSC_NATS_URL".to_owned(), nats);
    all.insert(health_env.to_owned(), health.clone());
    let process = Opsc::spawn(&["server", role], &all);
    let ready = format!("http://{health}/readyz");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while crate::harness::status_of(&ready).await != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{role} not ready: {}",
            process.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Role {
        name: role,
        metrics: format!("http://{health}/metrics"),
        process,
    }
}

/// A worker of `pool`, holding its pool's seal key (as `keys seal-key` prints it).
pub async fn worker(api: &ApiServer, pool: &str) -> Role {
    let mut keys = Opsc::spawn(
        &["keys", "seal-key", "--pool", pool],
        &env_of(&[("OPSC_MASTER_KEY", TEST_MASTER_KEY.to_owned())]),
    );
    assert_eq!(keys.wait().await, Some(0), "{}", keys.output());
    let seal_key = keys
        .output()
        .lines()
        .rfind(|l| l.trim().len() == 44)
        .expect("a seal key line")
        .trim()
        .to_owned();
    let work_root =
        std::env::temp_dir().join(format!("opsc-work-{}", uuid::Uuid::now_v7().simple()));
    start(
        api,
        "worker",
        "OPSC_WORKER_HEALTH_ADDR",
        &[
            ("OPSC_WORKER_POOL", pool.to_owned()),
            ("OPSC_WORKER_SEAL_KEY", seal_key),
            ("OPSC_POOLS_LOCAL_EXEC", pool.to_owned()),
            ("OPSC_WORKER_WORK_ROOT", work_root.display().to_string()),
        ],
    )
    .await
}

/// A scheduler replica.
pub async fn scheduler(api: &ApiServer) -> Role {
    start(api, "scheduler", "OPSC_SCHEDULER_HEALTH_ADDR", &[]).await
}

/// A notifier.
pub async fn notifier(api: &ApiServer) -> Role {
    start(
        api,
        "notifier",
        "OPSC_NOTIFIER_HEALTH_ADDR",
        &[("OPSC_MASTER_KEY", TEST_MASTER_KEY.to_owned())],
    )
    .await
}

/// The text of `url`.
pub async fn scrape(url: &str) -> String {
    let res = crate::harness::http()
        .get(url)
        .send()
        .await
        .expect("scrape");
    assert_eq!(res.status().as_u16(), 200, "{url}");
    res.text().await.expect("exposition")
}
