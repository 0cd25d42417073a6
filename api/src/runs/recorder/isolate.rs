//! What a recorder does when a batch fails: it writes each message of the
//! batch alone, so one message the database refuses (a value out of range,
//! a timestamp past the calendar) does not hold back the others forever.
//!
//! A message is bad in itself when the database says its data is wrong
//! (SQLSTATE class 22: out of range, not a valid time…), or when it fails
//! alone while others of its batch succeed: it goes to the dead-letter
//! stream with the database's reason. When the database is away, or every
//! message fails for another reason, the cause is not the data: every
//! message is retried with backoff.

use std::future::Future;

use opsc_runtime::bus::consume::{self, Delivery, Outcome};
use sea_orm::DbErr;

/// Whether `e` says the database is away rather than refusing this data.
pub fn unavailable(e: &DbErr) -> bool {
    matches!(e, DbErr::ConnectionAcquire(_) | DbErr::Conn(_))
}

/// A dead letter for a message the database refused.
fn refused(what: &str, e: &DbErr) -> Outcome {
    tracing::warn!(error = %e, "A message the database refuses goes to the dead-letter stream.");
    Outcome::DeadLetter(format!("{what}: {e}"))
}

/// Every message retried, because `e` stopped the whole batch.
pub fn retry_all<M>(batch: &[Delivery<M>], what: &str, e: &DbErr) -> Vec<Outcome> {
    batch
        .iter()
        .map(|d| Outcome::retry(consume::backoff(d.deliveries), format!("{what}: {e}")))
        .collect()
}

/// The outcome of each message of `batch` (whose write as a whole failed
/// with `first`), writing each alone with `one`; and what the writes that
/// succeeded returned.
pub async fn one_by_one<'a, M, T, F, Fut>(
    batch: &'a [Delivery<M>],
    first: &DbErr,
    what: &str,
    one: F,
) -> (Vec<Outcome>, Vec<T>)
where
    F: Fn(&'a [Delivery<M>]) -> Fut,
    Fut: Future<Output = Result<T, DbErr>>,
{
    if unavailable(first) {
        return (retry_all(batch, what, first), Vec::new());
    }
    if let [only] = batch {
        let outcome = if crate::store::bad_data(first) {
            refused(what, first)
        } else {
            Outcome::retry(
                consume::backoff(only.deliveries),
                format!("{what}: {first}"),
            )
        };
        return (vec![outcome], Vec::new());
    }
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut done = Vec::new();
    let mut doubtful = Vec::new();
    for (i, d) in batch.iter().enumerate() {
        match one(std::slice::from_ref(d)).await {
            Ok(t) => {
                done.push(t);
                outcomes.push(Outcome::Ack);
            }
            Err(e) if unavailable(&e) => {
                outcomes.extend(retry_all(&batch[i..], what, &e));
                return (outcomes, done);
            }
            Err(e) if crate::store::bad_data(&e) => outcomes.push(refused(what, &e)),
            Err(e) => {
                doubtful.push(i);
                outcomes.push(Outcome::retry(
                    consume::backoff(d.deliveries),
                    format!("{what}: {e}"),
                ));
            }
        }
    }
    if !done.is_empty() {
        for i in doubtful {
            let Outcome::Retry { reason, .. } = &outcomes[i] else {
                continue;
            };
            tracing::warn!(reason = %reason, "A message that alone of its batch fails goes to the dead-letter stream.");
            outcomes[i] = Outcome::DeadLetter(format!(
                "{reason} (alone, while the rest of its batch was written)"
            ));
        }
    }
    (outcomes, done)
}
