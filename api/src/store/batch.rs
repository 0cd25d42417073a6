//! Group inserts: rows that many requests write at once go to PostgreSQL in
//! one statement and one commit, instead of one each.
//!
//! A [`Batcher`] owns one insert statement that takes its rows as one JSON
//! array (`$1`, read with `jsonb_to_recordset`) and returns the key of each
//! row it inserted. Callers hand it a row and wait for the answer, so a
//! request still answers only after its row is stored. Batching never
//! waits: the writer takes whatever has queued while the previous statement
//! ran, so a lone request is written at once, and under load each commit
//! carries many. A batch that fails is written again row by row, so one bad
//! row fails only its own request.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// Rows written in one statement at most.
const MAX_ROWS: usize = 256;

/// Rows waiting at most; past it, callers wait for room.
const QUEUE: usize = 4096;

struct Item {
    row: Value,
    key: String,
    done: oneshot::Sender<Result<bool, String>>,
}

/// One group-insert writer; cheap to clone.
#[derive(Debug, Clone)]
pub struct Batcher {
    tx: mpsc::Sender<Item>,
}

impl Batcher {
    /// Starts a writer for `sql`: an insert of `$1::jsonb` rows that
    /// returns the `key` column (as text) of every row it stored.
    pub fn start(db: DatabaseConnection, sql: &'static str, key: &'static str) -> Self {
        let (tx, mut rx) = mpsc::channel::<Item>(QUEUE);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut items = vec![first];
                while items.len() < MAX_ROWS {
                    match rx.try_recv() {
                        Ok(item) => items.push(item),
                        Err(_) => break,
                    }
                }
                write(&db, sql, key, items).await;
            }
        });
        Self { tx }
    }

    /// Writes `row` (whose key is `key`); whether it was stored (false: a
    /// row with its unique key existed, and the statement skipped it).
    pub async fn insert(&self, row: Value, key: String) -> Result<bool, DbErr> {
        let (done, answer) = oneshot::channel();
        self.tx
            .send(Item { row, key, done })
            .await
            .map_err(|_| DbErr::Custom("the writer stopped".to_owned()))?;
        answer
            .await
            .map_err(|_| DbErr::Custom("the writer stopped".to_owned()))?
            .map_err(DbErr::Custom)
    }
}

async fn run(
    db: &DatabaseConnection,
    sql: &str,
    key: &str,
    rows: Vec<Value>,
) -> Result<Vec<String>, DbErr> {
    let stored = db
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            vec![Value::Array(rows).into()],
        ))
        .await?;
    stored
        .into_iter()
        .map(|r| r.try_get::<String>("", key))
        .collect()
}

async fn write(db: &DatabaseConnection, sql: &str, key: &str, items: Vec<Item>) {
    let rows: Vec<Value> = items.iter().map(|i| i.row.clone()).collect();
    match run(db, sql, key, rows).await {
        Ok(stored) => {
            for item in items {
                let inserted = stored.contains(&item.key);
                let _ = item.done.send(Ok(inserted));
            }
        }
        Err(e) if items.len() == 1 => {
            for item in items {
                let _ = item.done.send(Err(e.to_string()));
            }
        }
        Err(_) => {
            // One row may have spoiled the batch: give each its own answer.
            for item in items {
                let answer = run(db, sql, key, vec![item.row.clone()])
                    .await
                    .map(|stored| stored.contains(&item.key))
                    .map_err(|e| e.to_string());
                let _ = item.done.send(answer);
            }
        }
    }
}

impl std::fmt::Debug for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Item")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}
