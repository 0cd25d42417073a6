//! The SMTP server's mailbox over HTTP, so a journey can check that a
//! notification arrived: `GET <inbox>/messages` answers every message the
//! server accepted, oldest first, as JSON.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use opsc_notify_peers::SmtpPeer;
use serde_json::{Value, json};

/// A small HTTP server in the test process reading an [`SmtpPeer`]'s mail;
/// stopped when dropped.
#[derive(Debug)]
pub struct Inbox {
    /// `http://127.0.0.1:<port>/messages`.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Inbox {
    /// Serves `smtp`'s messages on a free loopback port.
    pub async fn start(smtp: Arc<SmtpPeer>) -> Self {
        let app = axum::Router::new()
            .route("/messages", get(messages))
            .with_state(smtp);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the inbox");
        let addr = listener.local_addr().expect("inbox address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://{addr}/messages"),
            task,
        }
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn messages(State(smtp): State<Arc<SmtpPeer>>) -> Result<Json<Value>, StatusCode> {
    let all = smtp
        .messages()
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Json(Value::Array(
        all.into_iter()
            .map(|m| {
                json!({
                    "mail_from": m.mail_from,
                    "rcpt_to": m.rcpt_to,
                    "subject": m.subject,
                    "text": m.text,
                    "html": m.html,
                })
            })
            .collect(),
    )))
}
