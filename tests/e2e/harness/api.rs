//! A real `opsconductor server api` on its own database, prefix and port.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use super::{
    Opsc, TEST_ADMIN_PASSWORD, TEST_MASTER_KEY, TestDb, env_of, free_port, shared_nats_url,
    unique_prefix,
};

/// A running api and what it needs.
#[derive(Debug)]
pub struct ApiServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Its installation prefix.
    pub prefix: opsc_proto::Prefix,
    /// The process.
    pub process: Opsc,
    /// Its environment, for restarts.
    pub env: BTreeMap<String, String>,
    /// Its database.
    pub db: Option<TestDb>,
    client: reqwest::Client,
}

impl ApiServer {
    /// Starts an api with extra environment, migrated and ready.
    pub async fn start(extra: &[(&str, &str)]) -> Self {
        let db = TestDb::create().await;
        let mut m = Opsc::spawn(
            &["migrate"],
            &env_of(&[("OPSC_DATABASE_URL", db.url.clone())]),
        );
        assert_eq!(m.wait().await, Some(0), "{}", m.output());
        let port = free_port();
        let prefix = unique_prefix();
        let mut env: BTreeMap<String, String> = env_of(&[
            ("OPSC_DATABASE_URL", db.url.clone()),
            ("OPSC_MASTER_KEY", TEST_MASTER_KEY.to_owned()),
            (
                "OPSC_BOOTSTRAP_ADMIN_PASSWORD",
                TEST_ADMIN_PASSWORD.to_owned(),
            ),
            ("OPSC_NATS_URL", shared_nats_url()),
            ("OPSC_NATS_PREFIX", prefix.to_string()),
            ("OPSC_HTTP_ADDR", format!("127.0.0.1:{port}")),
            ("OPSC_LOG_LEVEL", "debug".to_owned()),
            // The pool the tests' jobs run in may reach into its workers'
            // host (tests of the refusals use other pools).
            ("OPSC_POOLS_LOCAL_EXEC", "default".to_owned()),
            ("OPSC_POOLS_HOST_FILES", "default".to_owned()),
            // The tests' peers (sshd, HTTP listeners, the WinRM peer) listen on
            // loopback, which the egress policy refuses outside dev.
            ("OPSC_WORKER_EGRESS_ALLOW", "loopback".to_owned()),
        ]);
        for (k, v) in extra {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        if let Ok(client) = async_nats::connect(shared_nats_url()).await {
            super::reap_stale_test_streams(&async_nats::jetstream::new(client)).await;
        }
        let process = Opsc::spawn(&["server", "api"], &env);
        let base = format!("http://127.0.0.1:{port}");
        let ready = format!("{base}/readyz");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while super::status_of(&ready).await != 200 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "api not ready: {}",
                process.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            base,
            prefix,
            process,
            env,
            db: Some(db),
            client: super::http(),
        }
    }

    /// A request builder for `path` with an optional bearer token.
    pub fn req(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let r = self.client.request(method, format!("{}{path}", self.base));
        match token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    /// Sends and returns status and JSON body (Null when none, and for an
    /// event stream, which is left unread: it may never end).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self.req(method, path, token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let res = r.send().await.expect("request");
        let status = res.status().as_u16();
        let streaming = res
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        if streaming {
            return (status, Value::Null);
        }
        let text = res.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Logs in; the token pair.
    pub async fn login(&self, username: &str, password: &str) -> (String, String) {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": username, "password": password})),
            )
            .await;
        assert_eq!(status, 200, "login {username}: {body}");
        (
            body["access_token"].as_str().unwrap().to_owned(),
            body["refresh_token"].as_str().unwrap().to_owned(),
        )
    }

    /// The bootstrap admin's access token.
    pub async fn admin(&self) -> String {
        self.login("admin", TEST_ADMIN_PASSWORD).await.0
    }

    /// A new API token of `role`, valid for a day, made by the holder of
    /// `bearer`; its secret.
    pub async fn api_token(&self, bearer: &str, role: &str) -> String {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/api-tokens",
                Some(bearer),
                Some(json!({"name": format!("test-{role}"), "role": role, "expires_in_days": 1})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["secret"]
            .as_str()
            .expect("a new token's secret")
            .to_owned()
    }

    /// Creates a user with `role` and the given password; its id.
    pub async fn user(&self, admin: &str, username: &str, role: &str, password: &str) -> String {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/users",
                Some(admin),
                Some(json!({"username": username, "password": password, "role": role})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// Starts `opsconductor server worker` for `pool` on this installation's
    /// bus, holding only its pool's seal key (printed by `keys seal-key`,
    /// as an operator would), and waits until it is ready.
    pub async fn start_worker(&self, pool: &str) -> Opsc {
        self.start_worker_with(pool, &[]).await
    }

    /// [`Self::start_worker`] with extra environment.
    pub async fn start_worker_with(&self, pool: &str, extra: &[(&str, &str)]) -> Opsc {
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
        let health = format!("127.0.0.1:{}", free_port());
        let nats = self
            .env
            .get("OPSC_NATS_URL")
            .cloned()
            .unwrap_or_else(shared_nats_url);
        let mut env = env_of(&[
            ("OPSC_NATS_PREFIX", self.prefix.to_string()),
            ("OPSC_WORKER_POOL", pool.to_owned()),
            ("OPSC_WORKER_SEAL_KEY", seal_key),
            ("OPSC_WORKER_HEALTH_ADDR", health.clone()),
            ("OPSC_LOG_LEVEL", "debug".to_owned()),
            ("OPSC_POOLS_LOCAL_EXEC", "default".to_owned()),
            ("OPSC_POOLS_HOST_FILES", "default".to_owned()),
            // The tests' peers (sshd, HTTP listeners, the WinRM peer) listen on
            // loopback, which the egress policy refuses outside dev.
            ("OPSC_WORKER_EGRESS_ALLOW", "loopback".to_owned()),
            (
                "OPSC_WORKER_WORK_ROOT",
                std::env::temp_dir()
                    .join(format!("opsc-work-{}", uuid::Uuid::now_v7().simple()))
                    .display()
                    .to_string(),
            ),
            // The tests' worker-side files are temporary directories.
            (
                "OPSC_WORKER_FILE_ROOTS",
                std::env::temp_dir().display().to_string(),
            ),
        ]);
        env.insert("OPSC_NATS_URL".to_owned(), nats);
        for (k, v) in extra {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        let worker = Opsc::spawn(&["server", "worker"], &env);
        let ready = format!("http://{health}/readyz");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while super::status_of(&ready).await != 200 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "worker not ready: {}",
                worker.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        worker
    }

    /// Restarts the server on the same database with changed environment.
    pub async fn restart(&mut self, changes: &[(&str, &str)]) {
        let _ = self.process.terminate().await;
        for (k, v) in changes {
            self.env.insert((*k).to_owned(), (*v).to_owned());
        }
        self.process = Opsc::spawn(&["server", "api"], &self.env);
        let ready = format!("{}/readyz", self.base);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while super::status_of(&ready).await != 200 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "api not ready: {}",
                self.process.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the server, drops its database and deletes its streams.
    pub async fn stop(mut self) {
        let _ = self.process.terminate().await;
        if let Ok(client) = async_nats::connect(shared_nats_url()).await {
            super::cleanup_prefix(&async_nats::jetstream::new(client), &self.prefix).await;
        }
        if let Some(db) = self.db.take() {
            db.drop_now().await;
        }
    }
}
