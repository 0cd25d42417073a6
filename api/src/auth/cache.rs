//! Authenticated tokens remembered for a few seconds
//! (`auth.token_cache_secs`), so a busy client — a CI system, a benchmark,
//! the console polling — does not cost a database lookup per request.
//!
//! Anything that could end a token's rights — revoking it or its session,
//! deactivating, demoting or deleting its user, changing the password —
//! forgets the user's entries here and tells every other api replica to do
//! the same (`<p>.ctl.auth.invalidate`, core NATS). The time limit bounds
//! the delay should that notice be lost; the token's own expiry is checked
//! on every request regardless.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Principal;

/// Entries kept at most; past it the cache starts over.
const CAPACITY: usize = 10_000;

#[derive(Debug)]
struct Entry {
    principal: Principal,
    until: Instant,
}

/// The cache; cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct PrincipalCache {
    ttl: Duration,
    entries: Arc<Mutex<HashMap<[u8; 32], Entry>>>,
}

impl PrincipalCache {
    /// A cache keeping entries for `ttl` (zero: keeps nothing).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Arc::default(),
        }
    }

    /// The principal of the token with this digest, if remembered and fresh.
    pub fn get(&self, digest: &[u8; 32]) -> Option<Principal> {
        let mut map = self.entries.lock().ok()?;
        match map.get(digest) {
            Some(e) if e.until > Instant::now() => Some(e.principal.clone()),
            Some(_) => {
                map.remove(digest);
                None
            }
            None => None,
        }
    }

    /// Remembers what the token with this digest authenticated as, no
    /// longer than until the token `expires` (when it does).
    pub fn put(&self, digest: [u8; 32], principal: Principal, expires: Option<DateTime<Utc>>) {
        let mut keep = self.ttl;
        if let Some(at) = expires {
            let left = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            keep = keep.min(left);
        }
        if keep.is_zero() {
            return;
        }
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= CAPACITY {
                map.clear();
            }
            map.insert(
                digest,
                Entry {
                    principal,
                    until: Instant::now() + keep,
                },
            );
        }
    }

    /// Forgets every token of `user`.
    pub fn forget_user(&self, user: Uuid) {
        if let Ok(mut map) = self.entries.lock() {
            map.retain(|_, e| e.principal.user_id != user);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Credential;
    use crate::store::user::Role;

    fn principal(user: Uuid) -> Principal {
        Principal {
            user_id: user,
            username: "u".into(),
            role: Role::Operator,
            credential: Credential::ApiToken {
                token_id: Uuid::nil(),
                mfa: false,
            },
        }
    }

    #[test]
    fn entries_expire_and_are_forgotten_per_user() {
        let cache = PrincipalCache::new(Duration::from_secs(60));
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        cache.put([1; 32], principal(a), None);
        cache.put([2; 32], principal(b), None);
        assert_eq!(cache.get(&[1; 32]).map(|p| p.user_id), Some(a));
        cache.forget_user(a);
        assert!(cache.get(&[1; 32]).is_none());
        assert!(cache.get(&[2; 32]).is_some());

        let off = PrincipalCache::new(Duration::ZERO);
        off.put([1; 32], principal(a), None);
        assert!(off.get(&[1; 32]).is_none());
    }

    #[test]
    fn entries_end_no_later_than_their_token() {
        let cache = PrincipalCache::new(Duration::from_secs(60));
        let a = Uuid::now_v7();
        let soon = Utc::now() + chrono::Duration::milliseconds(50);
        cache.put([1; 32], principal(a), Some(soon));
        cache.put(
            [2; 32],
            principal(a),
            Some(Utc::now() - chrono::Duration::seconds(1)),
        );
        cache.put(
            [3; 32],
            principal(a),
            Some(Utc::now() + chrono::Duration::hours(1)),
        );
        assert!(cache.get(&[1; 32]).is_some());
        assert!(cache.get(&[2; 32]).is_none());
        std::thread::sleep(Duration::from_millis(80));
        assert!(cache.get(&[1; 32]).is_none());
        assert!(cache.get(&[3; 32]).is_some());
    }
}
