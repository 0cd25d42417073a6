//! Password hashing (Argon2id) and the password policy.

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};

/// Shortest accepted password.
pub const MIN_LEN: usize = 12;

/// A handful of the most common passwords of at least 12 characters.
const COMMON: &[&str] = &[
    "123456789012",
    "password1234",
    "qwertyuiopas",
    "111111111111",
    "passwordpassword",
    "administrator",
    "changemechangeme",
    "letmeinletmein",
    "welcome12345",
    "admin1234567",
    "qwerty123456",
    "iloveyou1234",
    "password123!",
    "000000000000",
    "abcdefghijkl",
];

/// Why a password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Fewer than [`MIN_LEN`] characters.
    #[error("must be at least {MIN_LEN} characters")]
    TooShort,
    /// On the list of common passwords.
    #[error("is too common")]
    Common,
}

/// Checks the policy: length and the common-password list.
pub fn check_policy(password: &SecretString) -> Result<(), PolicyError> {
    let p = password.expose_secret();
    if p.chars().count() < MIN_LEN {
        return Err(PolicyError::TooShort);
    }
    let lower = p.to_lowercase();
    if COMMON.contains(&lower.as_str()) || lower.chars().all(|c| lower.starts_with(c)) {
        return Err(PolicyError::Common);
    }
    Ok(())
}

/// Hashes with Argon2id and a random salt, as a PHC string.
pub fn hash(password: &SecretString) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.expose_secret().as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify(password: &SecretString, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.expose_secret().as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random password of 24 characters from an unambiguous alphabet.
pub fn generate() -> SecretString {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let s: String = (0..24)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    SecretString::from(s)
}

/// Every password verification at once is bounded: Argon2 takes about
/// 19 MiB and a core for a while, so a flood of logins must queue briefly
/// and then be turned away, not exhaust memory. Logins from one client
/// address in flight at once are bounded too.
#[derive(Debug)]
pub struct Verifier {
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    logins: crate::slots::Slots<std::net::IpAddr>,
}

/// How long a verification waits for a free slot before [`Busy`].
const QUEUE_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// Every verification slot stayed taken: try again in a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many password checks at once; retry in a second")]
pub struct Busy;

impl Verifier {
    /// At most `concurrent` verifications at once, and `per_address`
    /// logins of one address in flight.
    pub fn new(concurrent: usize, per_address: u32) -> Self {
        Self {
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(concurrent.max(1))),
            logins: crate::slots::Slots::new(per_address),
        }
    }

    /// Whether `password` matches `hash`, on the blocking pool, once a slot
    /// is free (waiting up to half a second).
    pub async fn verify(&self, password: SecretString, hash: String) -> Result<bool, Busy> {
        let permit = tokio::time::timeout(QUEUE_WAIT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| Busy)?
            .map_err(|_| Busy)?;
        let ok = tokio::task::spawn_blocking(move || {
            let ok = verify(&password, &hash);
            drop(permit);
            ok
        })
        .await
        .unwrap_or(false);
        Ok(ok)
    }

    /// A login of `addr` enters, unless that address has as many in flight
    /// as allowed (IPv6 counted per /64).
    pub fn enter(&self, addr: std::net::IpAddr) -> Option<crate::slots::Slot<std::net::IpAddr>> {
        self.logins.enter(crate::auth::throttle::bucket(addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_refuses_short_and_common() {
        assert_eq!(check_policy(&"short".into()), Err(PolicyError::TooShort));
        assert_eq!(
            check_policy(&"Password1234".into()),
            Err(PolicyError::Common)
        );
        assert_eq!(
            check_policy(&"aaaaaaaaaaaaaa".into()),
            Err(PolicyError::Common)
        );
        check_policy(&"correct horse battery".into()).unwrap();
        check_policy(&generate()).unwrap();
    }

    #[test]
    fn hash_verifies_and_is_argon2id() {
        let pw: SecretString = "correct horse battery".into();
        let h = hash(&pw).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(&pw, &h));
        assert!(!verify(&"wrong horse battery".into(), &h));
        assert!(!verify(&pw, "not a hash"));
    }
}

#[cfg(test)]
mod verifier_tests {
    use super::*;

    #[tokio::test]
    async fn checks_past_the_limit_are_turned_away_and_addresses_are_bounded() {
        let v = std::sync::Arc::new(Verifier::new(1, 2));
        let hash = hash(&SecretString::from("a-password-long-enough")).unwrap();
        // Every slot taken: a check waits half a second, then is turned away.
        let held = v.permits.clone().try_acquire_owned().unwrap();
        let started = std::time::Instant::now();
        let r = v
            .verify(SecretString::from("a-password-long-enough"), hash.clone())
            .await;
        assert_eq!(r, Err(Busy));
        assert!(started.elapsed() >= QUEUE_WAIT);
        drop(held);
        assert_eq!(
            v.verify(SecretString::from("a-password-long-enough"), hash.clone())
                .await,
            Ok(true)
        );
        assert_eq!(
            v.verify(SecretString::from("wrong-password-here"), hash.clone())
                .await,
            Ok(false)
        );
        assert_eq!(
            v.permits.available_permits(),
            1,
            "every check gives its slot back"
        );

        let addr: std::net::IpAddr = "192.0.2.1".parse().unwrap();
        let a = v.enter(addr).unwrap();
        let b = v.enter(addr).unwrap();
        assert!(
            v.enter(addr).is_none(),
            "a third login of one address waits"
        );
        assert!(
            v.enter("192.0.2.2".parse().unwrap()).is_some(),
            "others are not affected"
        );
        drop(a);
        assert!(v.enter(addr).is_some());
        drop(b);
    }
}
