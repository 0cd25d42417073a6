//! What the HTTP peers share: a server on a free loopback port that stops
//! when dropped, a switch that fails the next N requests, and a record.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// An axum server on 127.0.0.1; stopped when dropped.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl Server {
    /// Serves `app` on a free loopback port.
    pub async fn start(app: axum::Router) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Self {
            addr,
            stop: Some(tx),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Fails the next N requests in a given way.
#[derive(Debug, Clone)]
pub struct FailNext<M: Copy> {
    inner: Arc<Mutex<(u32, Option<M>)>>,
}

impl<M: Copy> Default for FailNext<M> {
    fn default() -> Self {
        Self {
            inner: Arc::new(Mutex::new((0, None))),
        }
    }
}

impl<M: Copy> FailNext<M> {
    /// The next `n` requests fail with `mode`.
    pub fn set(&self, n: u32, mode: M) {
        if let Ok(mut g) = self.inner.lock() {
            *g = (n, Some(mode));
        }
    }

    /// Whether this request fails, and how (counts it down).
    pub fn take(&self) -> Option<M> {
        let mut g = self.inner.lock().ok()?;
        if g.0 == 0 {
            return None;
        }
        g.0 -= 1;
        g.1
    }
}

/// A list of what arrived, shared with the handlers.
#[derive(Debug)]
pub struct Record<T> {
    inner: Arc<Mutex<Vec<T>>>,
}

impl<T> Clone for Record<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> Default for Record<T> {
    fn default() -> Self {
        Self {
            inner: Arc::new(Mutex::new(Vec::new())),
        }
    }
}

impl<T: Clone> Record<T> {
    /// Adds one.
    pub fn push(&self, t: T) {
        if let Ok(mut g) = self.inner.lock() {
            g.push(t);
        }
    }

    /// Everything so far, oldest first.
    pub fn all(&self) -> Vec<T> {
        self.inner.lock().map(|g| g.clone()).unwrap_or_default()
    }

    /// Waits until at least `n` arrived (or `timeout` passed); all of them.
    pub async fn wait_for(&self, n: usize, timeout: std::time::Duration) -> Vec<T> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let all = self.all();
            if all.len() >= n || tokio::time::Instant::now() > deadline {
                return all;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }
}

/// A random-enough token for a test (not for production secrets).
pub fn token(prefix: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let a = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let b = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{prefix}{a:016x}{b:016x}")
}
