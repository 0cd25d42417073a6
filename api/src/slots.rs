//! Counted slots per key (a client address, a user): at most `limit`
//! held at once for one key. A slot is given back when dropped, so it can
//! travel with what it guards (a live stream, a login in flight).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Slots per key.
#[derive(Debug)]
pub struct Slots<K: Hash + Eq + Copy> {
    limit: u32,
    held: Arc<Mutex<HashMap<K, u32>>>,
}

/// One held slot; given back on drop.
#[derive(Debug)]
pub struct Slot<K: Hash + Eq + Copy> {
    key: K,
    held: Arc<Mutex<HashMap<K, u32>>>,
}

impl<K: Hash + Eq + Copy> Drop for Slot<K> {
    fn drop(&mut self) {
        if let Ok(mut map) = self.held.lock()
            && let Some(n) = map.get_mut(&self.key)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.key);
            }
        }
    }
}

impl<K: Hash + Eq + Copy> Slots<K> {
    /// At most `limit` (at least one) slots per key.
    pub fn new(limit: u32) -> Self {
        Self {
            limit: limit.max(1),
            held: Arc::default(),
        }
    }

    /// A slot for `key`, unless it holds `limit` already.
    pub fn enter(&self, key: K) -> Option<Slot<K>> {
        let mut map = self.held.lock().ok()?;
        let n = map.entry(key).or_insert(0);
        if *n >= self.limit {
            return None;
        }
        *n += 1;
        Some(Slot {
            key,
            held: self.held.clone(),
        })
    }

    /// Slots `key` holds now.
    pub fn held(&self, key: K) -> u32 {
        self.held
            .lock()
            .ok()
            .and_then(|m| m.get(&key).copied())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_holds_at_most_its_limit_and_drops_give_back() {
        let s = Slots::new(2);
        let a = s.enter(1).unwrap();
        let b = s.enter(1).unwrap();
        assert!(s.enter(1).is_none());
        assert!(s.enter(2).is_some(), "other keys are not affected");
        drop(a);
        assert_eq!(s.held(1), 1);
        let c = s.enter(1).unwrap();
        drop((b, c));
        assert_eq!(s.held(1), 0);
    }
}
