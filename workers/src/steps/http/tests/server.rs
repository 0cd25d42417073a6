//! A real HTTP(S) server on 127.0.0.1 for the step tests: echoes requests,
//! answers chosen statuses, redirects, stalls, and records what it saw.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// What the server saw, and the answers queued for `/flaky`.
#[derive(Debug, Default)]
pub struct Shared {
    pub seen: Mutex<Vec<Seen>>,
    /// Answers `/flaky` gives first: status and optional `Retry-After`.
    pub flaky: Mutex<VecDeque<(u16, Option<&'static str>)>>,
}

impl Shared {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// A running server; stopped on drop.
#[derive(Debug)]
pub struct Server {
    pub addr: SocketAddr,
    pub shared: Arc<Shared>,
    scheme: &'static str,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// A plain HTTP server.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let app = router(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            addr,
            shared,
            scheme: "http",
            task,
        }
    }

    /// An HTTPS server with a fresh self-signed certificate for 127.0.0.1.
    pub async fn start_tls() -> Self {
        let cert = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
        ])
        .unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(
            rustls::pki_types::PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()),
        );
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let app = router(shared.clone());
        let tls = TlsListener {
            tcp: listener,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        };
        let task = tokio::spawn(async move {
            axum::serve(tls, app).await.unwrap();
        });
        Self {
            addr,
            shared,
            scheme: "https",
            task,
        }
    }

    /// `scheme://127.0.0.1:port`.
    pub fn base(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// `base()` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }
}

/// Accepts TCP connections and completes the TLS handshake; a failed
/// handshake (a client refusing the certificate) is skipped.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/echo", any(echo))
        .route("/echo/{*rest}", any(echo))
        .route("/status/{code}", any(status))
        .route("/redirect/{n}", any(redirect))
        .route("/redirect307", any(redirect307))
        .route("/away", any(away))
        .route("/flaky", any(flaky))
        .route("/slow", any(slow))
        .route("/big", any(big))
        .with_state(shared)
}

async fn record(shared: &Shared, req: Request) -> Seen {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let seen = Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        headers: parts.headers.clone(),
        body,
    };
    shared.seen.lock().unwrap().push(seen.clone());
    seen
}

/// Answers everything it got as JSON.
async fn echo(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let query = req.uri().query().unwrap_or_default().to_owned();
    let seen = record(&shared, req).await;
    let headers: BTreeMap<String, String> = seen
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("?").to_owned()))
        .collect();
    axum::Json(json!({
        "method": seen.method,
        "path": seen.path,
        "query": query,
        "headers": headers,
        "body": String::from_utf8_lossy(&seen.body),
    }))
    .into_response()
}

async fn status(
    State(shared): State<Arc<Shared>>,
    Path(code): Path<u16>,
    req: Request,
) -> Response {
    record(&shared, req).await;
    let code = StatusCode::from_u16(code).unwrap();
    (code, format!("{{\"status\": {}}}", code.as_u16())).into_response()
}

/// `/redirect/n`: `n` more 302s, then `/echo`.
async fn redirect(Path(n): Path<u32>) -> Response {
    let to = if n == 0 {
        "/echo".to_owned()
    } else {
        format!("/redirect/{}", n - 1)
    };
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

async fn redirect307() -> Response {
    (
        StatusCode::TEMPORARY_REDIRECT,
        [(header::LOCATION, "/echo/kept")],
    )
        .into_response()
}

/// `/away?to=<url>`: a 302 to any URL.
async fn away(Query(q): Query<BTreeMap<String, String>>) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, q["to"].clone())]).into_response()
}

async fn flaky(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    record(&shared, req).await;
    let next = shared.flaky.lock().unwrap().pop_front();
    match next {
        Some((code, retry_after)) => {
            let mut r = (StatusCode::from_u16(code).unwrap(), "try later").into_response();
            if let Some(secs) = retry_after {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, secs.parse().unwrap());
            }
            r
        }
        None => axum::Json(json!({"delivered": true})).into_response(),
    }
}

async fn slow() -> Response {
    tokio::time::sleep(Duration::from_secs(60)).await;
    "late".into_response()
}

/// One ~60 KiB JSON line, with multi-byte characters around the 16 KiB cuts.
async fn big() -> Response {
    let items: Vec<Value> = (0..1500)
        .map(|i| json!({"i": i, "name": format!("élément-{i:05}-€")}))
        .collect();
    let body = serde_json::to_string(&json!({"items": items})).unwrap();
    assert!(!body.contains('\n') && body.len() > 40_000);
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap()
}
