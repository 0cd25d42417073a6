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
    unknown_names: Mutex<HashMap<String, NameEntry>>,
    /// Wrong current passwords of signed-in users (`PUT /me`), by user id.
    reauth: Mutex<HashMap<String, NameEntry>>,
}

/// Consecutive failures of an unknown name, its lock, and its last activity.
#[derive(Debug, Clone, Copy)]
struct NameEntry {
    failures: u32,
    locked_until: Option<Instant>,
    seen: Instant,
}

/// IPv6 clients are counted per /64: one host usually owns the whole prefix.
pub fn bucket(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => {
            let mut seg = v6.segments();
            seg[4..].fill(0);
            IpAddr::V6(seg.into())
        }
    }
}

/// Entries kept at most per map. When full, expired entries go first, then
/// the least recently active one; counters are never reset wholesale.
const MAX_ENTRIES: usize = 100_000;

impl Throttle {
    /// Empty counters.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            addresses: Mutex::new(HashMap::new()),
            unknown_names: Mutex::new(HashMap::new()),
            reauth: Mutex::new(HashMap::new()),
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
        let q = map.get_mut(&bucket(addr))?;
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
        let Ok(mut map) = self.addresses.lock() else {
            return;
        };
        let key = bucket(addr);
        let now = Instant::now();
        if map.len() >= MAX_ENTRIES && !map.contains_key(&key) {
            let window = self.limits.window;
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) <= window));
            if map.len() >= MAX_ENTRIES
                && let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, q)| q.back().copied())
                    .map(|(k, _)| *k)
            {
                map.remove(&oldest);
            }
        }
        let q = map.entry(key).or_default();
        q.push_back(now);
        // Only the failures inside the window matter.
        while q.len() > self.limits.per_address.saturating_add(1) {
            q.pop_front();
        }
    }

    /// Seconds left on the lock of an unknown name, if locked.
    pub fn unknown_locked(&self, name: &str) -> Option<u64> {
        locked_in(&self.unknown_names, name)
    }

    /// Records a failure for an unknown name; returns its consecutive count.
    pub fn unknown_failed(&self, name: &str) -> u32 {
        fail_in(&self.unknown_names, name, self.limits)
    }

    /// Seconds left on the lock of a user's current-password checks, if
    /// they failed too often (a stolen session guessing the password).
    pub fn reauth_locked(&self, user: uuid::Uuid) -> Option<u64> {
        locked_in(&self.reauth, &user.to_string())
    }

    /// Records a wrong current password of `user`; its consecutive count.
    pub fn reauth_failed(&self, user: uuid::Uuid) -> u32 {
        fail_in(&self.reauth, &user.to_string(), self.limits)
    }
}

/// Seconds left on the lock of `key` in `names`, if locked.
fn locked_in(names: &Mutex<HashMap<String, NameEntry>>, key: &str) -> Option<u64> {
    let map = names.lock().ok()?;
    let left = map
        .get(key)?
        .locked_until?
        .checked_duration_since(Instant::now())?;
    Some(left.as_secs().max(1))
}

/// Records a failure of `key` in `names`; its consecutive count (the
/// threshold when this failure locked it).
fn fail_in(names: &Mutex<HashMap<String, NameEntry>>, key: &str, limits: Limits) -> u32 {
    let Ok(mut map) = names.lock() else {
        return 0;
    };
    let now = Instant::now();
    if map.len() >= MAX_ENTRIES && !map.contains_key(key) {
        let lockout = limits.lockout;
        map.retain(|_, e| {
            e.locked_until.is_some_and(|u| u > now) || now.duration_since(e.seen) < lockout
        });
        if map.len() >= MAX_ENTRIES
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, e)| e.seen)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
    }
    let entry = map.entry(key.to_owned()).or_insert(NameEntry {
        failures: 0,
        locked_until: None,
        seen: now,
    });
    if entry.locked_until.is_some_and(|until| until <= now) {
        *entry = NameEntry {
            failures: 0,
            locked_until: None,
            seen: now,
        };
    }
    entry.seen = now;
    entry.failures += 1;
    if entry.failures >= limits.lockout_threshold {
        entry.failures = 0;
        entry.locked_until = Some(now + limits.lockout);
        return limits.lockout_threshold;
    }
    entry.failures
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
    fn ipv6_counts_per_64() {
        let t = Throttle::new(limits());
        for host in 1..=3 {
            t.address_failed(format!("2001:db8::{host}").parse().unwrap());
        }
        assert!(t.address_blocked("2001:db8::99".parse().unwrap()).is_some());
        assert_eq!(t.address_blocked("2001:db8:0:1::1".parse().unwrap()), None);
    }

    #[test]
    fn slowdown_grows_and_caps() {
        assert_eq!(slowdown(3), Duration::ZERO);
        assert_eq!(slowdown(5), Duration::from_millis(1000));
        assert_eq!(slowdown(50), Duration::from_secs(5));
    }
}
