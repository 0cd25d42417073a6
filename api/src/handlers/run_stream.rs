//! `GET /api/v1/runs/{id}/stream`: Server-Sent Events with every output
//! line (`event: output`) and run event (`event: run`) from the start, then
//! live, ending with `event: end` when the run ends.
//!
//! A finished run is replayed from PostgreSQL. A live run is read from the
//! event and output streams with two ordered JetStream consumers from the
//! first message of the run, so a late subscriber misses nothing and there
//! is no gap between replay and live.

use std::convert::Infallible;
use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, pull::OrderedConfig};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt as _};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::http::AppState;
use crate::http::json::ApiPath;
use crate::http::problem::Problem;
use crate::store::run;

/// How long output is still read after the run ended (lines and the end
/// travel on different streams).
const TAIL: Duration = Duration::from_millis(300);

fn terminal(status: &str) -> bool {
    !matches!(status, "queued" | "running")
}

fn data_of(payload: &[u8]) -> (String, Value) {
    let v: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim_start_matches("io.opsconductor.run.")
        .trim_end_matches(".v1")
        .to_owned();
    (kind, v.get("data").cloned().unwrap_or(Value::Null))
}

fn frame(kind: &str, data: &Value) -> Result<Event, Infallible> {
    Ok(Event::default().event(kind).data(data.to_string()))
}

/// `GET /api/v1/runs/{id}/stream`.
pub async fn sse(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let r = run::Entity::find_by_id(id)
        .one(state.store.db())
        .await?
        .ok_or_else(|| Problem::not_found_entity("run"))?;
    let stream: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> =
        if terminal(&r.status) {
            Box::pin(replay(&state, id, r.status).await?)
        } else {
            Box::pin(live(state, id).await?)
        };
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

async fn replay(
    state: &AppState,
    id: Uuid,
    status: String,
) -> Result<impl Stream<Item = Result<Event, Infallible>> + use<>, Problem> {
    let db = state.store.db();
    let events = db
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT event_type, data FROM run_events WHERE run_id = $1 ORDER BY at, sequence NULLS FIRST",
            vec![id.into()],
        ))
        .await?;
    let lines = db
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT step_id, target_key, line_no, stream, text FROM run_output WHERE run_id = $1 ORDER BY at, line_no",
            vec![id.into()],
        ))
        .await?;
    let mut out = Vec::new();
    for l in lines {
        let target: Option<Uuid> = l
            .try_get::<Uuid>("", "target_key")
            .ok()
            .filter(|u| !u.is_nil());
        out.push(frame("output", &json!({
            "run_id": id, "step_id": l.try_get::<String>("", "step_id").unwrap_or_default(), "target_id": target,
            "line_no": l.try_get::<i64>("", "line_no").unwrap_or_default(), "stream": l.try_get::<String>("", "stream").unwrap_or_default(),
            "text": l.try_get::<String>("", "text").unwrap_or_default(),
        })));
    }
    for e in events {
        let kind = e.try_get::<String>("", "event_type").unwrap_or_default();
        let data = e.try_get::<Value>("", "data").unwrap_or(Value::Null);
        out.push(frame("run", &json!({"type": kind, "data": data})));
    }
    out.push(frame("end", &json!({"run_id": id, "status": status})));
    Ok(futures::stream::iter(out))
}

async fn live(
    state: AppState,
    id: Uuid,
) -> Result<impl Stream<Item = Result<Event, Infallible>>, Problem> {
    let unavailable = |e: String| {
        Problem::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "bus-unavailable",
            "The bus is unavailable",
        )
        .detail(e)
    };
    let bus = &state.bus;
    let ordered = |filter: String| OrderedConfig {
        filter_subject: filter,
        deliver_policy: DeliverPolicy::All,
        ..Default::default()
    };
    let ev_stream = bus
        .js
        .get_stream(&bus.streams.events)
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    let log_stream = bus
        .js
        .get_stream(&bus.streams.logs)
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    let events = ev_stream
        .create_consumer(ordered(bus.subjects.run_events(&id.to_string())))
        .await
        .map_err(|e| unavailable(e.to_string()))?
        .messages()
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    let logs = log_stream
        .create_consumer(ordered(format!("{}.log.{id}.>", bus.prefix())))
        .await
        .map_err(|e| unavailable(e.to_string()))?
        .messages()
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Event, Infallible>>(256);
    tokio::spawn(async move {
        let mut events = events;
        let mut logs = logs;
        let mut end: Option<Value> = None;
        loop {
            if let Some(status) = &end {
                // Drain output that is still arriving, then end.
                match tokio::time::timeout(TAIL, logs.next()).await {
                    Ok(Some(Ok(m))) => {
                        let (_, d) = data_of(&m.payload);
                        if tx.send(frame("output", &d)).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    _ => {
                        let _ = tx
                            .send(frame("end", &json!({"run_id": id, "status": status})))
                            .await;
                        return;
                    }
                }
            }
            tokio::select! {
                () = tx.closed() => return,
                m = events.next() => match m {
                    Some(Ok(m)) => {
                        let (kind, d) = data_of(&m.payload);
                        if kind == "finished" {
                            end = Some(d.get("status").cloned().unwrap_or(Value::Null));
                        }
                        if tx.send(frame("run", &json!({"type": kind, "data": d}))).await.is_err() { return; }
                    }
                    _ => return,
                },
                m = logs.next() => match m {
                    Some(Ok(m)) => {
                        let (_, d) = data_of(&m.payload);
                        if tx.send(frame("output", &d)).await.is_err() { return; }
                    }
                    _ => return,
                },
            }
        }
    });
    Ok(tokio_stream_from(rx))
}

fn tokio_stream_from<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl Stream<Item = T> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
