//! `opsconductor runs follow` when its stream is cut mid-run: a TCP proxy
//! between the CLI and the api closes the connection that carried the
//! second line; the CLI reconnects with the last frame's id
//! (`Last-Event-ID`) and prints every line exactly once, in order.

use std::sync::{Arc, Mutex};

use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::harness::runs::{create_job, run_job};
use crate::harness::{ApiServer, cli};

/// What the proxy saw: the requests' heads, and whether it cut a stream.
#[derive(Debug, Default)]
struct Seen {
    requests: Vec<String>,
    cut: bool,
}

/// Forwards connections to `upstream`; the first response that carries
/// `marker` is cut right after it.
async fn proxy(upstream: String, marker: &'static str) -> (String, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Seen::default()));
    let state = seen.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(&upstream).await else {
                continue;
            };
            tokio::spawn(pipe(client, server, state.clone(), marker));
        }
    });
    (addr, seen)
}

async fn pipe(client: TcpStream, server: TcpStream, seen: Arc<Mutex<Seen>>, marker: &str) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let requests = seen.clone();
    let up = tokio::spawn(async move {
        let mut buf = vec![0_u8; 16 * 1024];
        while let Ok(n) = cr.read(&mut buf).await {
            if n == 0 {
                break;
            }
            let head = String::from_utf8_lossy(&buf[..n]).into_owned();
            if head.starts_with("GET ") || head.starts_with("POST ") {
                requests.lock().unwrap().requests.push(head);
            }
            if sw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    });
    let mut buf = vec![0_u8; 16 * 1024];
    let mut tail = String::new();
    while let Ok(n) = sr.read(&mut buf).await {
        if n == 0 || cw.write_all(&buf[..n]).await.is_err() {
            break;
        }
        tail.push_str(&String::from_utf8_lossy(&buf[..n]));
        if tail.contains(marker) {
            let mut s = seen.lock().unwrap();
            if !s.cut {
                s.cut = true;
                break;
            }
        }
        if tail.len() > 4096 {
            tail.drain(..tail.len() - 1024);
        }
    }
    up.abort();
    let _ = cw.shutdown().await;
}

#[tokio::test]
async fn runs_follow_resumes_a_cut_stream_after_its_last_frame() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let token = api.api_token(&admin, "operator").await;
    let job = create_job(
        &api,
        &admin,
        json!({"name": "cut", "steps": [
            {"id": "a", "type": "local.exec", "with": {"command": "echo line-one; echo line-two; sleep 4; echo line-three"}}
        ]}),
    )
    .await;
    let upstream = api.base.trim_start_matches("http://").to_owned();
    let (through, seen) = proxy(upstream, "\"text\":\"line-two\"").await;
    let env = cli::env(&through, &token);
    let run = run_job(&api, &admin, &job, json!({})).await;
    let out = cli::run(&["runs", "follow", &run], &env).await;
    let (stdout, stderr) = (&out.stdout, &out.stderr);
    assert_eq!(out.code, Some(0), "{stdout}\n{stderr}");
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert!(seen.cut, "the proxy cut a stream: {seen:?}");
    assert!(stderr.contains("broke off; resuming"), "{stderr}");
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("[a] line-"))
        .collect();
    assert_eq!(
        lines,
        ["[a] line-one", "[a] line-two", "[a] line-three"],
        "{stdout}"
    );
    let streams: Vec<&String> = seen
        .requests
        .iter()
        .filter(|r| r.starts_with(&format!("GET /api/v1/runs/{run}/stream ")))
        .collect();
    assert!(streams.len() >= 2, "{streams:?}");
    assert!(
        !streams[0].to_ascii_lowercase().contains("last-event-id:"),
        "{streams:?}"
    );
    let resumed = streams[1].to_ascii_lowercase();
    let id = resumed
        .lines()
        .find_map(|l| l.strip_prefix("last-event-id: "))
        .unwrap_or_else(|| panic!("the reconnect sends its resume point: {resumed}"));
    assert!(
        id.split_once('.')
            .is_some_and(|(e, l)| e.parse::<u64>().is_ok() && l.parse::<u64>().is_ok()),
        "{id}"
    );
    api.stop().await;
}
