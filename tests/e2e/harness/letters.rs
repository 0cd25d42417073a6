//! Reading a test prefix's dead-letter stream.

use std::time::Duration;

use opsc_proto::CloudEvent;
use opsc_proto::events::DeadLetter;
use opsc_runtime::bus::Bus;

use super::wait_until;

/// Waits up to 30 s until the dead-letter stream holds `n` letters; the
/// first `n`, oldest first.
pub async fn dead_letters(bus: &Bus, n: u64) -> Vec<DeadLetter> {
    let dlq = bus.js.get_stream(&bus.streams.dead_letters).await.unwrap();
    wait_until(
        &format!("{n} dead letters"),
        Duration::from_secs(30),
        || {
            let dlq = dlq.clone();
            async move { dlq.get_raw_message(n).await.is_ok() }
        },
    )
    .await;
    let mut letters = Vec::new();
    for seq in 1..=n {
        let m = dlq.get_raw_message(seq).await.unwrap();
        letters.push(CloudEvent::<DeadLetter>::decode(&m.payload).unwrap().data);
    }
    letters
}

/// Whether the dead-letter stream holds more than `n` letters.
pub async fn more_dead_letters_than(bus: &Bus, n: u64) -> bool {
    let dlq = bus.js.get_stream(&bus.streams.dead_letters).await.unwrap();
    dlq.get_raw_message(n + 1).await.is_ok()
}

/// The letter `pick` finds, or a failure naming `what` and every letter.
pub fn letter<'a>(
    letters: &'a [DeadLetter],
    what: &str,
    pick: impl Fn(&DeadLetter) -> bool,
) -> &'a DeadLetter {
    letters
        .iter()
        .find(|l| pick(l))
        .unwrap_or_else(|| panic!("no dead letter {what}: {letters:?}"))
}
