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

/// [`verify`] on the blocking pool: Argon2 must not stall the async workers.
pub async fn verify_blocking(password: SecretString, hash: String) -> bool {
    tokio::task::spawn_blocking(move || verify(&password, &hash))
        .await
        .unwrap_or(false)
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
