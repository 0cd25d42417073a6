//! Per-channel rate limits: a token bucket per channel, refilled at
//! `per_minute` a minute; a delivery waits for its token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use uuid::Uuid;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// The buckets of every channel.
#[derive(Debug, Clone, Default)]
pub struct Limiter {
    inner: Arc<Mutex<HashMap<Uuid, Bucket>>>,
}

impl Limiter {
    /// Takes a token of `channel` (at most `per_minute`), or says how long
    /// to wait for one.
    pub fn take(&self, channel: Uuid, per_minute: u32) -> Option<Duration> {
        let rate = f64::from(per_minute.max(1)) / 60.0;
        let cap = f64::from(per_minute.max(1));
        let Ok(mut m) = self.inner.lock() else {
            return None;
        };
        let now = Instant::now();
        let b = m.entry(channel).or_insert(Bucket {
            tokens: cap,
            last: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rate).min(cap);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            None
        } else {
            Some(Duration::from_secs_f64((1.0 - b.tokens) / rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_then_asks_to_wait() {
        let l = Limiter::default();
        let c = Uuid::new_v4();
        assert!(l.take(c, 2).is_none());
        assert!(l.take(c, 2).is_none());
        let wait = l.take(c, 2);
        assert!(wait.is_some_and(|w| w > Duration::from_secs(20)));
    }
}
