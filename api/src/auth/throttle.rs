//! In-memory login throttling per client address, and per unknown user name
//! (so that unknown and known names lock out alike). Per-account counters of
//! real users live in the database and hold across replicas.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Limits, from the `auth` configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failed logins from one address within `window` before 429.
    pub per_address: usize,
    /// The address window.
    pub window: Duration,
    /// Consecutive failures of one account before it locks.
    pub lockout_threshold: u32,
    /// How long a lock lasts.
    pub lockout: Duration,
}

/// Counters for one process.
#[derive(Debug)]
pub struct Throttle {
    limits: Limits,
    addresses: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
    unknown_names: Mutex<HashMap<String, (u32, Option<Instant>)>>,
}

/// Entries kept at most per map; the oldest are dropped first.
const MAX_ENTRIES: usize = 100_000;

impl Throttle {
    /// Empty counters.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            addresses: Mutex::new(HashMap::new()),
            unknown_names: Mutex::new(HashMap::new()),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Seconds to wait when `addr` failed too often recently.
    pub fn address_blocked(&self, addr: IpAddr) -> Option<u64> {
        let mut map = self.addresses.lock().ok()?;
        let now = Instant::now();
        let q = map.get_mut(&addr)?;
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.limits.window)
        {
            q.pop_front();
        }
        if q.len() >= self.limits.per_address {
            let oldest = *q.front()?;
            let wait = self
                .limits
                .window
                .saturating_sub(now.duration_since(oldest));
            return Some(wait.as_secs().max(1));
        }
        None
    }

    /// Records a failed login from `addr`.
    pub fn address_failed(&self, addr: IpAddr) {
        if let Ok(mut map) = self.addresses.lock() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.entry(addr).or_default().push_back(Instant::now());
        }
    }

    /// Seconds left on the lock of an unknown name, if locked.
    pub fn unknown_locked(&self, name: &str) -> Option<u64> {
        let map = self.unknown_names.lock().ok()?;
        let (_, until) = map.get(name)?;
        let left = (*until)?.checked_duration_since(Instant::now())?;
        Some(left.as_secs().max(1))
    }

    /// Records a failure for an unknown name; returns its consecutive count.
    pub fn unknown_failed(&self, name: &str) -> u32 {
        let Ok(mut map) = self.unknown_names.lock() else {
            return 0;
        };
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        let entry = map.entry(name.to_owned()).or_insert((0, None));
        if entry.1.is_some_and(|until| until <= Instant::now()) {
            *entry = (0, None);
        }
        entry.0 += 1;
        if entry.0 >= self.limits.lockout_threshold {
            *entry = (0, Some(Instant::now() + self.limits.lockout));
            return self.limits.lockout_threshold;
        }
        entry.0
    }
}

/// Delay added to a failed attempt after `failures` consecutive failures:
/// nothing for the first three, then half a second more each, at most 5 s.
pub fn slowdown(failures: u32) -> Duration {
    Duration::from_millis(u64::from(failures.saturating_sub(3)) * 500).min(Duration::from_secs(5))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            per_address: 3,
            window: Duration::from_secs(60),
            lockout_threshold: 2,
            lockout: Duration::from_secs(60),
        }
    }

    #[test]
    fn address_blocks_after_the_limit() {
        let t = Throttle::new(limits());
        let a: IpAddr = "127.0.0.9".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(t.address_blocked(a), None);
            t.address_failed(a);
        }
        assert!(t.address_blocked(a).is_some());
    }

    #[test]
    fn unknown_names_lock_like_real_ones() {
        let t = Throttle::new(limits());
        assert_eq!(t.unknown_failed("ghost"), 1);
        assert_eq!(t.unknown_locked("ghost"), None);
        assert_eq!(t.unknown_failed("ghost"), 2);
        assert!(t.unknown_locked("ghost").is_some());
    }

    #[test]
    fn slowdown_grows_and_caps() {
        assert_eq!(slowdown(3), Duration::ZERO);
        assert_eq!(slowdown(5), Duration::from_millis(1000));
        assert_eq!(slowdown(50), Duration::from_secs(5));
    }
}
