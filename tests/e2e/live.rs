//! The live-output WebSocket (`GET /api/v1/runs/{id}/ws`) against a real
//! api and worker: the same frames as the SSE stream, live delivery before
//! the run ends, a normal close after `end`, and the refusals.

use std::time::Duration;

use futures::StreamExt as _;
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::harness::ApiServer;
use crate::harness::runs::{create_job, run_job, wait_end};

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// How the test client authenticates.
enum Auth<'a> {
    None,
    /// `Authorization: Bearer <token>`.
    Header(&'a str),
    /// `Sec-WebSocket-Protocol: opsconductor.v1, opsconductor.bearer.<token>`, as a browser would.
    Protocol(&'a str),
}

async fn connect(
    api: &ApiServer,
    run: &str,
    auth: Auth<'_>,
) -> Result<
    (
        Ws,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ),
    WsError,
> {
    let url = format!(
        "{}/api/v1/runs/{run}/ws",
        api.base.replace("http://", "ws://")
    );
    let mut req = url.into_client_request().unwrap();
    match auth {
        Auth::None => {}
        Auth::Header(t) => {
            req.headers_mut()
                .insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
        Auth::Protocol(t) => {
            req.headers_mut().insert(
                "sec-websocket-protocol",
                format!("opsconductor.v1, opsconductor.bearer.{t}")
                    .parse()
                    .unwrap(),
            );
        }
    }
    tokio_tungstenite::connect_async(req).await
}

/// The HTTP status of a refused handshake.
fn refused(result: Result<(Ws, impl std::fmt::Debug), WsError>) -> u16 {
    match result {
        Err(WsError::Http(res)) => res.status().as_u16(),
        Err(other) => panic!("not an HTTP refusal: {other}"),
        Ok((_, res)) => panic!("the handshake succeeded: {res:?}"),
    }
}

/// The next message that is not a ping or pong.
async fn next(ws: &mut Ws) -> Option<Message> {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .expect("a frame within 30 s")?;
        match m.expect("a well-formed frame") {
            Message::Ping(_) | Message::Pong(_) => {}
            other => return Some(other),
        }
    }
}

/// Every frame as JSON until the server closes; the close frame.
async fn until_close(ws: &mut Ws) -> (Vec<Value>, Option<CloseFrame>) {
    let mut frames = Vec::new();
    while let Some(m) = next(ws).await {
        match m {
            Message::Text(t) => frames.push(serde_json::from_str(&t).unwrap()),
            Message::Close(c) => return (frames, c),
            other => panic!("unexpected message {other:?}"),
        }
    }
    panic!("the connection ended without a close frame after {frames:?}")
}

/// The SSE stream's events as `{event, data}` values, with `id` when the
/// event has one.
pub(crate) fn sse_frames(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut event = None;
            let mut data = None;
            let mut id = None;
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event: ") {
                    event = Some(e.to_owned());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str::<Value>(d).unwrap());
                } else if let Some(i) = line.strip_prefix("id: ") {
                    id = Some(i.to_owned());
                }
            }
            let mut frame = json!({"event": event?, "data": data?});
            if let Some(id) = id {
                frame["id"] = json!(id);
            }
            Some(frame)
        })
        .collect()
}

/// Frames without their resume points (a replay from PostgreSQL has none,
/// one from the bus, while the recorder catches up, has them).
fn without_ids(mut frames: Vec<Value>) -> Vec<Value> {
    for f in &mut frames {
        if let Some(o) = f.as_object_mut() {
            o.remove("id");
        }
    }
    frames
}

fn texts(frames: &[Value]) -> Vec<&str> {
    frames
        .iter()
        .filter(|f| f["event"] == "output")
        .filter_map(|f| f["data"]["text"].as_str())
        .collect()
}

#[tokio::test]
async fn a_late_websocket_subscriber_gets_the_sse_frames_then_a_normal_close() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let job = create_job(
        &api,
        &admin,
        json!({"name": "lines", "steps": [
            {"id": "say", "type": "local.exec", "with": {"command": "echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three"}},
            {"id": "then", "type": "local.exec", "with": {"command": "echo after"}}
        ]}),
    )
    .await;
    let run = run_job(&api, &admin, &job, json!({})).await;
    assert_eq!(wait_end(&api, &admin, &run).await["status"], "succeeded");
    // The recorder may trail the end by a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (mut ws, _) = connect(&api, &run, Auth::Header(&admin)).await.unwrap();
    let (frames, close) = until_close(&mut ws).await;
    let close = close.expect("a close frame with a code");
    assert_eq!(close.code, CloseCode::Normal, "{close:?}");
    assert_eq!(
        texts(&frames),
        ["one", "two", "three", "after"],
        "{frames:?}"
    );
    let two = frames.iter().find(|f| f["data"]["text"] == "two").unwrap();
    assert_eq!(two["data"]["stream"], "stderr");
    assert_eq!(two["data"]["step_id"], "say");
    assert!(
        frames
            .iter()
            .any(|f| f["event"] == "run" && f["data"]["type"] == "finished"),
        "{frames:?}"
    );
    assert_eq!(
        frames.last().unwrap(),
        &json!({"event": "end", "data": {"run_id": run, "status": "succeeded"}})
    );
    // Lines and events interleave as they happened: each step's lines
    // between its start and its end.
    let at = |pred: &dyn Fn(&Value) -> bool| {
        frames
            .iter()
            .position(pred)
            .unwrap_or_else(|| panic!("missing frame in {frames:?}"))
    };
    let step = |kind: &'static str, id: &'static str| {
        move |f: &Value| f["data"]["type"] == kind && f["data"]["data"]["step_id"] == id
    };
    let line = |text: &'static str| move |f: &Value| f["data"]["text"] == text;
    let order = [
        at(&step("step_started", "say")),
        at(&line("one")),
        at(&line("three")),
        at(&step("step_finished", "say")),
        at(&step("step_started", "then")),
        at(&line("after")),
        at(&step("step_finished", "then")),
    ];
    assert!(order.is_sorted(), "{order:?} in {frames:?}");

    // Exactly what the SSE stream of the same run delivers.
    let sse = api
        .req(
            Method::GET,
            &format!("/api/v1/runs/{run}/stream"),
            Some(&admin),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(without_ids(sse_frames(&sse)), without_ids(frames));
    api.stop().await;
}

#[tokio::test]
async fn a_live_websocket_subscriber_sees_lines_before_the_run_ends() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let viewer_password = "live-viewer-pass-42x";
    api.user(&admin, "watcher", "viewer", viewer_password).await;
    let (viewer, _) = api.login("watcher", viewer_password).await;
    let job = create_job(
        &api,
        &admin,
        json!({"name": "slow", "steps": [
            {"id": "slow", "type": "local.exec", "with": {"command": "echo first; sleep 3; echo last"}}
        ]}),
    )
    .await;
    let run = run_job(&api, &admin, &job, json!({})).await;

    // A browser-style client: the token travels as a subprotocol.
    let (mut ws, res) = connect(&api, &run, Auth::Protocol(&viewer)).await.unwrap();
    assert_eq!(
        res.headers()["sec-websocket-protocol"],
        "opsconductor.v1",
        "the server selects its protocol and never echoes the token"
    );
    let mut before = Vec::new();
    loop {
        let Some(Message::Text(t)) = next(&mut ws).await else {
            panic!("the stream ended early after {before:?}")
        };
        let frame: Value = serde_json::from_str(&t).unwrap();
        assert_ne!(frame["event"], "end", "ended before any line: {before:?}");
        let first = frame["data"]["text"] == "first";
        before.push(frame);
        if first {
            break;
        }
    }
    let (_, now) = api
        .call(
            Method::GET,
            &format!("/api/v1/runs/{run}"),
            Some(&admin),
            None,
        )
        .await;
    // Live: the run has not ended (the recorder may not have projected its
    // start yet, but its end cannot precede the step's last line).
    assert!(
        matches!(now["status"].as_str(), Some("queued" | "running")),
        "the line came live: {now}"
    );

    let (rest, close) = until_close(&mut ws).await;
    assert_eq!(close.unwrap().code, CloseCode::Normal);
    assert_eq!(texts(&rest), ["last"], "{rest:?}");
    assert_eq!(rest.last().unwrap()["event"], "end");
    assert_eq!(rest.last().unwrap()["data"]["status"], "succeeded");
    api.stop().await;
}

#[tokio::test]
async fn the_websocket_refuses_strangers_unknown_runs_and_plain_requests() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let unknown = uuid::Uuid::now_v7().to_string();

    assert_eq!(refused(connect(&api, &unknown, Auth::None).await), 401);
    assert_eq!(
        refused(connect(&api, &unknown, Auth::Protocol("opst_forged-token")).await),
        401
    );
    assert_eq!(
        refused(connect(&api, &unknown, Auth::Header(&admin)).await),
        404
    );
    assert_eq!(
        refused(connect(&api, &unknown, Auth::Protocol(&admin)).await),
        404
    );

    // A subprotocol token counts on the WebSocket route only.
    let status = api
        .req(Method::GET, &format!("/api/v1/runs/{unknown}/stream"), None)
        .header(
            "sec-websocket-protocol",
            format!("opsconductor.v1, opsconductor.bearer.{admin}"),
        )
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);

    // A plain GET of an existing run's WebSocket is told to upgrade.
    let job = create_job(
        &api,
        &admin,
        json!({"name": "idle", "steps": [
            {"id": "s", "type": "local.exec", "with": {"command": "true"}}
        ]}),
    )
    .await;
    let run = run_job(&api, &admin, &job, json!({})).await;
    let (status, body) = api
        .call(
            Method::GET,
            &format!("/api/v1/runs/{run}/ws"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 426, "{body}");
    assert_eq!(body["status"], 426, "problem+json: {body}");
    api.stop().await;
}

#[tokio::test]
async fn live_frames_come_in_the_order_they_happened() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let job = create_job(
        &api,
        &admin,
        json!({"name": "chatty", "steps": [
            {"id": "one", "type": "local.exec", "with": {"command": "seq 1 300"}},
            {"id": "two", "type": "local.exec", "with": {"command": "seq 1 50; echo done >&2"}}
        ]}),
    )
    .await;
    // No worker yet: the run waits, and the subscriber is there before
    // anything happens, so every frame comes live.
    let run = run_job(&api, &admin, &job, json!({})).await;
    let (mut ws, _) = connect(&api, &run, Auth::Header(&admin)).await.unwrap();
    let _worker = api.start_worker("default").await;
    let (frames, close) = until_close(&mut ws).await;
    assert_eq!(close.unwrap().code, CloseCode::Normal);

    let kinds: Vec<String> = frames
        .iter()
        .map(|f| match f["event"].as_str() {
            Some("run") => f["data"]["type"].as_str().unwrap_or_default().to_owned(),
            other => other.unwrap_or_default().to_owned(),
        })
        .collect();
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("accepted"),
        "{kinds:?}"
    );
    let at = |kind: &str, step: &str| {
        frames
            .iter()
            .position(|f| f["data"]["type"] == kind && f["data"]["data"]["step_id"] == step)
            .unwrap_or_else(|| panic!("no {kind} of {step}: {kinds:?}"))
    };
    let started = kinds.iter().position(|k| k == "started").unwrap();
    assert!(started < at("step_started", "one"));
    for step in ["one", "two"] {
        let (begin, end) = (at("step_started", step), at("step_finished", step));
        let lines: Vec<usize> = frames
            .iter()
            .enumerate()
            .filter(|(_, f)| f["event"] == "output" && f["data"]["step_id"] == step)
            .map(|(i, _)| i)
            .collect();
        assert!(!lines.is_empty());
        assert!(
            lines.iter().all(|i| *i > begin && *i < end),
            "every line of {step} between its start ({begin}) and end ({end}): {lines:?}"
        );
        assert_eq!(
            frames[end]["data"]["data"]["output_lines"],
            json!(lines.len()),
            "the end says how many lines came"
        );
    }
    assert!(at("step_finished", "one") < at("step_started", "two"));
    assert_eq!(kinds[kinds.len() - 2], "finished", "{kinds:?}");
    assert_eq!(kinds.last().map(String::as_str), Some("end"));
    api.stop().await;
}
