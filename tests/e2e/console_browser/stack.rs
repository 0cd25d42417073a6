//! The installation the browser journeys run against, every role a real
//! process, and the fixture that tells the journeys about it.
//!
//! The fixture (`OPSC_E2E_FIXTURE`, typed as `Stack` in
//! `console/e2e/fixtures.ts`):
//!
//! ```json
//! { "base_url": "http://127.0.0.1:<port>",
//!   "admin":    {"username": "admin",    "password": "…"},
//!   "operator": {"username": "operator", "password": "…"},
//!   "viewer":   {"username": "viewer",   "password": "…"},
//!   "pool": "default",
//!   "sshd": {"host": "127.0.0.1", "port": 0, "user": "…", "password": "…",
//!            "private_key": "…", "host_fingerprint": "SHA256:…"},
//!   "smtp": {"host": "127.0.0.1", "port": 0},
//!   "smtp_inbox_url": "http://127.0.0.1:<port>/messages" }
//! ```

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use opsc_notify_peers::{SmtpPeer, SmtpTls};
use serde_json::{Value, json};

use super::inbox::Inbox;
use crate::harness::{
    ApiServer, Opsc, Sshd, TEST_ADMIN_PASSWORD, TEST_MASTER_KEY, env_of, free_port,
    shared_nats_url, status_of,
};

const OPERATOR_PASSWORD: &str = "console-operator-pass-7h2q";
const VIEWER_PASSWORD: &str = "console-viewer-pass-4m8x";

/// Every process of the installation, stopped by [`Stack::stop`] (or
/// killed when dropped).
pub struct Stack {
    api: ApiServer,
    worker: Opsc,
    scheduler: Opsc,
    notifier: Opsc,
    sshd: Sshd,
    smtp: Arc<SmtpPeer>,
    inbox: Inbox,
}

impl Stack {
    /// Starts the installation with the api serving the console built in
    /// `console_dist`, and creates the operator and viewer accounts.
    pub async fn start(console_dist: &Path) -> Self {
        let dist = console_dist.display().to_string();
        let api = ApiServer::start(&[("OPSC_HTTP_CONSOLE_DIR", &dist)]).await;
        let worker = api.start_worker("default").await;
        let scheduler = api.start_scheduler(&[]).await;
        let notifier = start_notifier(&api).await;
        let sshd = Sshd::start().await;
        let smtp = Arc::new(
            SmtpPeer::start(SmtpTls::None, None)
                .await
                .expect("the SMTP server (aiosmtpd from the test venv: run deploy/test.sh)"),
        );
        let inbox = Inbox::start(smtp.clone()).await;
        let admin = api.admin().await;
        api.user(&admin, "operator", "operator", OPERATOR_PASSWORD)
            .await;
        api.user(&admin, "viewer", "viewer", VIEWER_PASSWORD).await;
        Self {
            api,
            worker,
            scheduler,
            notifier,
            sshd,
            smtp,
            inbox,
        }
    }

    /// What the journeys know of the installation.
    pub fn fixture(&self) -> Value {
        let account =
            |username: &str, password: &str| json!({"username": username, "password": password});
        json!({
            "base_url": self.api.base,
            "admin": account("admin", TEST_ADMIN_PASSWORD),
            "operator": account("operator", OPERATOR_PASSWORD),
            "viewer": account("viewer", VIEWER_PASSWORD),
            "pool": "default",
            "sshd": {
                "host": "127.0.0.1",
                "port": self.sshd.port,
                "user": self.sshd.user,
                "password": self.sshd.password,
                "private_key": self.sshd.key_plain(),
                "host_fingerprint": self.sshd.host_fingerprint(),
            },
            "smtp": {"host": self.smtp.host(), "port": self.smtp.port()},
            "smtp_inbox_url": self.inbox.url,
        })
    }

    /// The last lines each process printed, for a failure message.
    pub fn logs(&self) -> String {
        [
            ("api", self.api.process.output()),
            ("worker", self.worker.output()),
            ("scheduler", self.scheduler.output()),
            ("notifier", self.notifier.output()),
            ("sshd", self.sshd.log()),
            ("smtp", self.smtp.log()),
        ]
        .into_iter()
        .map(|(who, out)| format!("[{who}]\n{}\n", super::playwright::tail(&out, 40)))
        .collect()
    }

    /// Stops every process, drops the database and deletes the streams.
    pub async fn stop(mut self) {
        let _ = self.notifier.terminate().await;
        let _ = self.scheduler.terminate().await;
        let _ = self.worker.terminate().await;
        drop(self.inbox);
        self.api.stop().await;
    }
}

/// `opsconductor server notifier` on the api's bus, ready.
async fn start_notifier(api: &ApiServer) -> Opsc {
    let health = format!("127.0.0.1:{}", free_port());
    let nats = api
        .env
        .get("OPSC_NATS_URL")
        .cloned()
        .unwrap_or_else(shared_nats_url);
    let env = env_of(&[
        ("OPSC_NATS_PREFIX", api.prefix.to_string()),
        ("OPSC_NATS_URL", nats),
        ("OPSC_MASTER_KEY", TEST_MASTER_KEY.to_owned()),
        ("OPSC_NOTIFIER_HEALTH_ADDR", health.clone()),
        ("OPSC_NOTIFIER_TICK_SECS", "1".to_owned()),
        ("OPSC_LOG_LEVEL", "info".to_owned()),
    ]);
    let p = Opsc::spawn(&["server", "notifier"], &env);
    let ready = format!("http://{health}/readyz");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while status_of(&ready).await != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "notifier not ready: {}",
            p.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    p
}
