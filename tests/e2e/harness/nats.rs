//! The shared NATS, and private nats-server processes for fault tests.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The shared NATS with JetStream.
pub fn shared_nats_url() -> String {
    std::env::var("OPSC_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

fn nats_server_binary() -> PathBuf {
    if let Ok(p) = std::env::var("OPSC_TEST_NATS_SERVER") {
        return PathBuf::from(p);
    }
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = PathBuf::from(dir).join("nats-server");
        if p.is_file() {
            return p;
        }
    }
    PathBuf::from("/usr/sbin/nats-server")
}

/// A nats-server of the test's own, on a free port, killed on drop.
#[derive(Debug)]
pub struct PrivateNats {
    /// Its port.
    pub port: u16,
    store: tempfile::TempDir,
    jetstream: bool,
    child: Option<Child>,
}

impl PrivateNats {
    /// Starts a server with JetStream and waits until it accepts connections.
    pub async fn start() -> Self {
        Self::start_with(true).await
    }

    /// Starts a server without JetStream.
    pub async fn start_without_jetstream() -> Self {
        Self::start_with(false).await
    }

    async fn start_with(jetstream: bool) -> Self {
        let mut server = Self {
            port: super::free_port(),
            store: tempfile::tempdir().expect("store dir"),
            jetstream,
            child: None,
        };
        server.resume().await;
        server
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL), as a crash would.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port with the same store.
    pub async fn resume(&mut self) {
        let mut cmd = Command::new(nats_server_binary());
        cmd.args(["-a", "127.0.0.1", "-p", &self.port.to_string()]);
        if self.jetstream {
            cmd.arg("-js").arg("-sd").arg(self.store.path());
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server (set OPSC_TEST_NATS_SERVER)");
        self.child = Some(child);
        let addr = format!("127.0.0.1:{}", self.port);
        super::wait_until("nats-server to listen", Duration::from_secs(10), || {
            let addr = addr.clone();
            async move { tokio::net::TcpStream::connect(addr).await.is_ok() }
        })
        .await;
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        self.stop();
    }
}
